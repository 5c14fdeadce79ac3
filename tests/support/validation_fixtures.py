"""Small evaluations in TFMA's on-disk format with chosen metric values, for validation tests.

The records are TFMA's own protos (MetricsForSlice, an EvalRun in eval_config.json written by the
Evaluator's writer) with the values a test needs, so each rule is checked against hand-computed
numbers; the end-to-end tests validate real evaluations (ours and stock TFMA's).
"""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional, Tuple, Union

import tensorflow as tf
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.evaluation import config as config_lib
from glassbox.evaluation.writer import write_eval_config

CANDIDATE, BASELINE = "candidate", "baseline"
OVERALL = ()
# A metric's value, or (value, lower bound, upper bound) of its 95% confidence interval.
Value = Union[float, Tuple[float, float, float]]


def key(
    name: str, model: str = CANDIDATE, diff: bool = False, weighted: bool = False
) -> metric_types.MetricKey:
    return metric_types.MetricKey(
        name=name, model_name=model, is_diff=diff, example_weighted=weighted
    )


def metrics(
    candidate: Mapping[str, Value],
    baseline: Optional[Mapping[str, Value]] = None,
    diffs: Optional[Mapping[str, Value]] = None,
) -> Dict[metric_types.MetricKey, Value]:
    """One slice's metrics by name: the candidate's (model "" without a baseline), the baseline's, diffs.

    Without explicit diffs, each metric both models have gets candidate - baseline as its diff.
    """
    if baseline is None:
        return {key(name, model=""): value for name, value in candidate.items()}
    result = {key(name): value for name, value in candidate.items()}
    result.update({key(name, BASELINE): value for name, value in baseline.items()})
    if diffs is None:
        diffs = {
            name: _point(candidate[name]) - _point(baseline[name])
            for name in candidate
            if name in baseline
        }
    result.update({key(name, diff=True): value for name, value in diffs.items()})
    return result


def _point(value: Value) -> float:
    return value[0] if isinstance(value, tuple) else value


def write_evaluation(
    path: str,
    eval_config: Union[str, config_pb2.EvalConfig],
    slices: Mapping[tuple, Dict[metric_types.MetricKey, Value]],
    has_baseline: bool = False,
    withheld: Mapping[tuple, str] = (),
) -> str:
    """Writes eval_config.json (the config as the Evaluator prepares it), one metrics file and an
    empty plots file (a complete evaluation has one unless options.disabled_outputs names plots).

    withheld: {slice key: TFMA's error message} for slices whose metrics were not written.
    """
    if isinstance(eval_config, str):
        eval_config = text_format.Parse(eval_config, config_pb2.EvalConfig())
    prepared = config_lib.prepare_eval_config(eval_config, has_baseline=has_baseline)
    os.makedirs(path, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(path, "metrics-00000-of-00001.tfrecord")) as writer:
        for slice_key, values in slices.items():
            writer.write(_record(slice_key, values).SerializeToString())
        for slice_key, message in dict(withheld).items():
            record = metrics_for_slice_pb2.MetricsForSlice(
                slice_key=slicer_lib.serialize_slice_key(slice_key)
            )
            record.metrics["__ERROR__"].debug_message = message
            writer.write(record.SerializeToString())
    with tf.io.TFRecordWriter(os.path.join(path, "plots-00000-of-00001.tfrecord")):
        pass
    models = {spec.name: f"/models/{spec.name or 'candidate'}" for spec in prepared.model_specs}
    write_eval_config(path, prepared, data_location="/data/*", model_locations=models)
    return path


def _record(
    slice_key: tuple, values: Dict[metric_types.MetricKey, Value]
) -> metrics_for_slice_pb2.MetricsForSlice:
    record = metrics_for_slice_pb2.MetricsForSlice(
        slice_key=slicer_lib.serialize_slice_key(slice_key)
    )
    for metric_key, value in values.items():
        entry = record.metric_keys_and_values.add(key=metric_key.to_proto())
        entry.value.double_value.value = _point(value)
        if isinstance(value, tuple):
            entry.confidence_interval.lower_bound.double_value.value = value[1]
            entry.confidence_interval.upper_bound.double_value.value = value[2]
    return record
