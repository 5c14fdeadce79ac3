"""Writing an evaluation in TFMA's on-disk format, so TFMA's loaders and views read it.

Each slice's metrics and plots are converted to protos by TFMA's own writer functions and written
as TFMA's writer names them (``metrics-00000-of-00001.tfrecord``, ...); `eval_config.json` is
written last and atomically, so a reader that finds it finds a complete evaluation.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Mapping, Tuple

import apache_beam as beam
from tensorflow_model_analysis import constants as tfma_constants
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox import filesystem, tfma_internals
from glassbox.evaluation.reconciliation import WriteExamplesRead
from glassbox.keys import EVAL_CONFIG_FILE
from glassbox.staging import temporary_path, tfma_records_file, write_records
from glassbox.tfma_keys import headline_metrics

DATA_FILE_FORMAT = "tfrecords"

_TO_PROTO = {
    tfma_constants.METRICS_KEY: mpv_writer.convert_slice_metrics_to_proto,
    tfma_constants.PLOTS_KEY: mpv_writer.convert_slice_plots_to_proto,
}


def _output_files(output_dir: str, eval_config: config_pb2.EvalConfig) -> Dict[str, str]:
    disabled = set(eval_config.options.disabled_outputs.values)
    return {key: tfma_records_file(output_dir, key) for key in _TO_PROTO if key not in disabled}


def _serialized_proto(element: Tuple[Any, Any], output: str) -> Tuple[str, bytes]:
    """(slice key, metrics or plots) -> (output, TFMA's MetricsForSlice or PlotsForSlice, serialized)."""
    return output, _TO_PROTO[output](element, add_metrics_callbacks=None).SerializeToString()


def _write_records(
    output_and_records: Tuple[str, Iterable[bytes]], files: Mapping[str, str]
) -> None:
    output, records = output_and_records
    write_records(files[output], records)


class WriteEvaluation(beam.PTransform):
    """Writes {'metrics': (slice_key, metrics), 'plots': (slice_key, plots)} as TFMA's writer does,
    and the counts to reconcile (reconciliation.WriteExamplesRead).

    One record per slice, in one file per output. (Beam's WriteToTFRecord, which TFMA's writer
    PTransform uses, costs a dozen transforms and several stages: half a second per evaluation,
    for a few kilobytes.)
    """

    def __init__(self, output_dir: str, eval_config: config_pb2.EvalConfig):
        super().__init__()
        self._output_dir = output_dir
        self._files = _output_files(output_dir, eval_config)

    def expand(self, evaluation):
        records = [
            evaluation[output]
            | f"{output.capitalize()}ToProtos" >> beam.Map(_serialized_proto, output)
            for output in self._files
        ]
        _ = evaluation | "WriteExamplesRead" >> WriteExamplesRead(self._output_dir)
        return (
            records
            | "AllRecords" >> beam.Flatten()
            | "ByOutput" >> beam.GroupByKey()
            | "WriteFiles" >> beam.Map(_write_records, self._files)
        )


def write_eval_config(
    output_dir: str,
    eval_config: config_pb2.EvalConfig,
    data_location: str,
    model_locations: Mapping[str, str],
) -> None:
    """Writes eval_config.json as TFMA does, via a temporary file renamed into place."""
    content = tfma_internals.serialize_eval_run(
        eval_config, data_location, DATA_FILE_FORMAT, dict(model_locations)
    )
    path = os.path.join(output_dir, EVAL_CONFIG_FILE)
    tmp = temporary_path(output_dir)
    filesystem.write_text(tmp, content)
    filesystem.rename(tmp, path)


def overall_scalar_metrics(output_dir: str, model_name: str = "") -> Dict[str, float]:
    """The overall slice's scalar metrics of one model, read back with TFMA's loader, named as
    `headline_metrics` names them."""
    return headline_metrics(
        (
            (metric_types.MetricKey.from_proto(entry.key), entry.value.double_value.value)
            for metrics in mpv_writer.load_and_deserialize_metrics(output_dir)
            if not metrics.slice_key.single_slice_keys
            for entry in metrics.metric_keys_and_values
            if entry.value.HasField("double_value")
        ),
        model_name,
    )
