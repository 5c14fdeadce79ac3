"""TensorBoard summaries: a metric's history (`glassbox history --tensorboard DIR`) and one
evaluation's metrics and precision-recall curves (`glassbox evaluate --tensorboard DIR`, the
Evaluator's `tensorboard_dir`).

History: each evaluation is a step (its ModelEvaluation's id in ML Metadata, which grows run after
run): the metric on the slice as a scalar, the verdict as a 0/1 scalar, and a text naming the
model, its baseline and the reason. An evaluation: at one step, every slice's candidate metrics as
scalars, named as the history names them, and each slice's PR curve per model (and class) from
its ConfusionMatrixPlot, every threshold TFMA computed. Written with TensorFlow's own summary ops
and the metadata of TensorBoard's scalars, text and PR curves plugins, so viewing needs
TensorBoard and writing does not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator, Tuple

import numpy as np

if TYPE_CHECKING:
    from glassbox.provenance.history import History

_SCALARS, _TEXT, _PR_CURVES = "scalars", "text", "pr_curves"
# The PR curves plugin's tensor: a row each (its layout), a column per threshold.
_PR_CURVE_ROWS = (
    "true_positives",
    "false_positives",
    "true_negatives",
    "false_negatives",
    "precision",
    "recall",
)


def _tag(*parts: str) -> str:
    return "/".join(re.sub(r"[^\w.\-:]+", "_", part) for part in parts)


def _metadata(plugin: str, data_class: int, content: bytes = b"") -> bytes:
    from tensorflow.core.framework import summary_pb2

    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin, content=content),
        data_class=data_class,
    ).SerializeToString()


def _scalar_metadata() -> bytes:
    from tensorflow.core.framework import summary_pb2

    return _metadata(_SCALARS, summary_pb2.DATA_CLASS_SCALAR)


def _pr_curve_metadata(num_thresholds: int) -> bytes:
    """TensorBoard's PrCurvePluginData(version=0, num_thresholds=n), field 2 as a varint: the
    message has these two fields only, and TensorBoard is not a dependency."""
    from tensorflow.core.framework import summary_pb2

    varint = bytearray()
    while True:
        byte, num_thresholds = num_thresholds & 0x7F, num_thresholds >> 7
        varint.append(byte | (0x80 if num_thresholds else 0))
        if not num_thresholds:
            break
    return _metadata(_PR_CURVES, summary_pb2.DATA_CLASS_TENSOR, b"\x10" + bytes(varint))


def write_history_summaries(history: History, logdir: str) -> str:
    """Writes history's points into an event file under logdir; returns logdir.

    Tags: ``<slice>/<metric>`` (the value), ``<slice>/blessed`` (1, 0; absent when no verdict)
    and ``<slice>/decision`` (a text).
    """
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    scalar = _scalar_metadata()
    text = _metadata(_TEXT, summary_pb2.DATA_CLASS_TENSOR)
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


def write_evaluation_summaries(evaluation_dir: str, logdir: str, step: int = 0) -> str:
    """Writes the evaluation's metrics and PR curves into an event file under logdir, at step;
    returns logdir.

    Tags: ``<slice>/<metric>`` (the candidate's metrics as `glassbox history` names them: `auc`,
    `diff_auc`, ...) and ``<slice>/pr_curve/<model>[/<class or top-k>]`` (a [6, thresholds]
    tensor: true and false positives, true and false negatives, precision, recall).
    """
    import tensorflow as tf

    from glassbox.tfma_keys import headline_metrics
    from glassbox.validation.reader import read_evaluation, slice_label

    evaluation = read_evaluation(evaluation_dir)
    scalar = _scalar_metadata()
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        for slice_key, slice_metrics in evaluation.slices.items():
            values = ((key, m.value) for key, m in slice_metrics.metrics.items())
            for name, value in headline_metrics(values, evaluation.candidate_name).items():
                tf.summary.write(_tag(slice_label(slice_key), name), value, step, metadata=scalar)
        for tag, curve in _pr_curves(evaluation_dir):
            tf.summary.write(tag, curve, step, metadata=_pr_curve_metadata(curve.shape[1]))
    writer.close()
    return logdir


def _pr_curves(evaluation_dir: str) -> Iterator[Tuple[str, np.ndarray]]:
    """(tag, [6, thresholds] array) of every ConfusionMatrixPlot in the evaluation's plots, rows
    in _PR_CURVE_ROWS order (TFMA's values, thresholds in its order)."""
    from tensorflow_model_analysis import constants as tfma_constants

    from glassbox.tfma_keys import PlotKey, slice_key
    from glassbox.validation.reader import read_records, slice_label

    for record in read_records(evaluation_dir, tfma_constants.PLOTS_KEY, required=False):
        if record.HasField("cross_slice_key"):
            continue
        name = slice_label(slice_key(record.slice_key))
        for entry in record.plot_keys_and_values:
            matrices = entry.value.confusion_matrix_at_thresholds.matrices
            if not matrices:
                continue
            key = PlotKey.from_proto(entry.key)
            sub_key = [str(key.sub_key)] if key.sub_key else []
            yield (
                _tag(name, "pr_curve", key.model_name or "model", *sub_key),
                np.array(
                    [[getattr(m, row) for m in matrices] for row in _PR_CURVE_ROWS],
                    dtype=np.float32,
                ),
            )
