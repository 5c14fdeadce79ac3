"""A metric's history as TensorBoard summaries: `glassbox history --tensorboard DIR`.

Each evaluation is a step (its ModelEvaluation's id in ML Metadata, which grows run after run):
the metric on the slice as a scalar, the verdict as a 0/1 scalar, and a text naming the model,
its baseline and the reason. Written with TensorFlow's own summary ops and the metadata of
TensorBoard's scalars and text plugins, so viewing needs TensorBoard and writing does not.
"""

from __future__ import annotations

import re

from glassbox.provenance.history import History

_SCALARS, _TEXT = "scalars", "text"


def _tag(*parts: str) -> str:
    return "/".join(re.sub(r"[^\w.\-:]+", "_", part) for part in parts)


def write_history_summaries(history: History, logdir: str) -> str:
    """Writes history's points into an event file under logdir; returns logdir.

    Tags: ``<slice>/<metric>`` (the value), ``<slice>/blessed`` (1, 0; absent when no verdict)
    and ``<slice>/decision`` (a text).
    """
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    def metadata(plugin: str, data_class: int) -> bytes:
        return summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
            data_class=data_class,
        ).SerializeToString()

    scalar = metadata(_SCALARS, summary_pb2.DATA_CLASS_SCALAR)
    text = metadata(_TEXT, summary_pb2.DATA_CLASS_TENSOR)
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        for point in history.points:
            step = point.evaluation.id
            if point.value is not None:
                tf.summary.write(
                    _tag(history.slice, history.metric), point.value, step, metadata=scalar
                )
            if point.blessed is not None:
                tf.summary.write(
                    _tag(history.slice, "blessed"), float(point.blessed), step, metadata=scalar
                )
            baseline = point.baseline_model.label if point.baseline_model else "no baseline"
            verdict = {True: "blessed", False: "not blessed", None: "no verdict"}[point.blessed]
            tf.summary.write(
                _tag(history.slice, "decision"),
                f"**{point.model.label}** against {baseline}: {verdict}. {point.reason}".strip(),
                step,
                metadata=text,
            )
    writer.close()
    return logdir
