"""Reading an evaluation in TFMA's on-disk format, ours or stock TFMA's (the format is the same).

The files are read as TFMA's loaders read them (``eval_config.json`` as TFMA's EvalRun, the
metrics, plots and attributions files record by record into TFMA's protos), without TensorFlow,
Beam or TFMA's Python modules on local paths (`glassbox.tfrecords`, `glassbox.tfma_keys`), so that
commands that only read pay for none of them; a missing, truncated or corrupt file is an
EvaluationReadError naming the file.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import re
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Type, Union

from google.protobuf import json_format, message
from tensorflow_model_analysis import constants as tfma_constants
from tensorflow_model_analysis.post_export_metrics import metric_keys
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2

from glassbox import filesystem, tfrecords
from glassbox.drift.reading import read_drift
from glassbox.keys import EVAL_CONFIG_FILE
from glassbox.simple_model.files import read_comparison
from glassbox.tfma_keys import (
    AttributionsKey,
    CrossSliceKey,
    MetricKey,
    SliceKey,
    cross_slice_key,
    slice_key,
    slice_label,
)
from glassbox.validation.errors import EvaluationReadError

# TFMA's metrics that write attributions (its AttributionsMetric classes).
_ATTRIBUTION_CLASSES = {
    "MeanAttributions",
    "MeanAbsoluteAttributions",
    "TotalAttributions",
    "TotalAbsoluteAttributions",
}
# Packages whose metrics are TFMA's own or Keras' (none of them an attributions metric but the above).
_LIBRARY_MODULES = {"tensorflow_model_analysis", "tensorflow", "keras", "tf_keras"}
# {metric key: {feature: attribution}} of one slice, as TFMA's AttributionsForSlice holds them.
SliceAttributions = Dict[MetricKey, Dict[str, float]]
# A shard of a file Beam wrote: prefix, its index, the number of shards, suffix.
_SHARD = re.compile(r"(.*)-(\d{5})-of-(\d{5})(\.[^/]*|)")


@dataclasses.dataclass(frozen=True)
class Measurement:
    """A metric's value and, when the evaluation computed confidence intervals, its 95% bounds."""

    value: float
    lower_bound: Optional[float] = None
    upper_bound: Optional[float] = None

    @property
    def has_interval(self) -> bool:
        return self.lower_bound is not None and self.upper_bound is not None


@dataclasses.dataclass(frozen=True)
class SliceMetrics:
    """One slice's scalar metrics; `error` is TFMA's reason when they were withheld (min_slice_size).
    For a cross slice, the key is a CrossSliceKey and the values are the baseline slice's minus
    the comparison slice's."""

    slice_key: Union[SliceKey, CrossSliceKey]
    metrics: Mapping[MetricKey, Measurement]
    error: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What a validation needs of an evaluation directory."""

    path: str
    eval_config: config_pb2.EvalConfig
    model_locations: Mapping[str, str]
    slices: Mapping[SliceKey, SliceMetrics]  # the overall slice first, then by slice string
    attributions: Mapping[SliceKey, SliceAttributions]
    cross_slices: Mapping[CrossSliceKey, SliceMetrics] = dataclasses.field(default_factory=dict)
    # drift.json (glassbox.drift.files), when the evaluation measured drift from a reference.
    drift: Optional[Mapping[str, Any]] = None
    # simple_model.json (glassbox.simple_model), when the evaluation ran the simpler-model check.
    simple_model: Optional[Mapping[str, Any]] = None

    @property
    def candidate_name(self) -> str:
        return next(s.name for s in self.eval_config.model_specs if not s.is_baseline)

    @property
    def baseline_name(self) -> Optional[str]:
        return next((s.name for s in self.eval_config.model_specs if s.is_baseline), None)


def read_evaluation(path: str) -> Evaluation:
    """Reads eval_config.json, the metrics and any attributions of an evaluation directory, after
    checking that every file eval_config.json promises is there and readable (`_check_complete`)."""
    if not _isdir(path):
        raise EvaluationReadError(f"evaluation directory {path!r} does not exist")
    eval_config, model_locations = _read_eval_run(path)
    slices, cross_slices = {}, {}
    for record in read_records(path, tfma_constants.METRICS_KEY):
        found = cross_slices if record.HasField("cross_slice_key") else slices
        slice_metrics = _slice_metrics(record)
        found[slice_metrics.slice_key] = _merged(found.get(slice_metrics.slice_key), slice_metrics)
    if not slices:
        raise EvaluationReadError(
            f"evaluation directory {path!r} holds no metrics "
            f"({tfma_constants.METRICS_KEY}-* files with records)"
        )
    _check_complete(path, eval_config)
    attributions: Dict[SliceKey, SliceAttributions] = {}
    for record in read_records(path, tfma_constants.ATTRIBUTIONS_KEY, required=False):
        if not record.HasField("cross_slice_key"):
            attributions.setdefault(slice_key(record.slice_key), {}).update(_attributions(record))
    ordered = sorted(slices, key=lambda key: (bool(key), slice_label(key)))
    return Evaluation(
        path=path,
        eval_config=eval_config,
        model_locations=model_locations,
        slices={key: slices[key] for key in ordered},
        attributions=attributions,
        cross_slices=cross_slices,
        drift=read_drift(path),
        simple_model=read_comparison(path),
    )


def _read_eval_run(path: str) -> Tuple[config_pb2.EvalConfig, Dict[str, str]]:
    config_path = os.path.join(path, EVAL_CONFIG_FILE)
    if not _exists(config_path):
        raise EvaluationReadError(
            f"{config_path} not found: {path!r} is not a complete evaluation (the Evaluator writes "
            "eval_config.json last, so the evaluation failed, is still running, or this is another directory)"
        )
    try:
        run = json_format.Parse(filesystem.read_text(config_path), config_pb2.EvalRun())
    except (json_format.ParseError, ValueError, OSError) as e:
        raise EvaluationReadError(f"cannot read {config_path}: {e}") from e
    eval_config, model_locations = run.eval_config, run.model_locations
    if not any(not spec.is_baseline for spec in eval_config.model_specs):
        raise EvaluationReadError(
            f"{config_path} names no candidate model in eval_config.model_specs"
        )
    return eval_config, dict(sorted(model_locations.items()))


def _check_complete(path: str, eval_config: config_pb2.EvalConfig) -> None:
    """Refuses an evaluation missing a file its eval_config.json promises: plots (unless
    options.disabled_outputs names them) and attributions when a metric computes them (TFMA writes
    them so), every shard of each; each file is read through, to find it whole."""
    promised = [tfma_constants.PLOTS_KEY]
    if _has_attributions_metrics(eval_config):
        promised.append(tfma_constants.ATTRIBUTIONS_KEY)
    disabled = set(eval_config.options.disabled_outputs.values)
    for key in promised:
        if key in disabled:
            continue
        if not _files(path, key):
            raise EvaluationReadError(
                f"{os.path.join(path, key)}-* not found: the evaluation {path!r} is incomplete (a "
                f"file was deleted or not copied); its {EVAL_CONFIG_FILE} promises {key} "
                "(options.disabled_outputs does not name them); evaluate again"
            )
        collections.deque(read_records(path, key), maxlen=0)


def _check_shards(files: List[str]) -> None:
    """Refuses a set of shards (name-SSSSS-of-NNNNN.ext, as Beam names them) missing one."""
    shards: Dict[Tuple[str, str, int], set] = collections.defaultdict(set)
    for file in files:
        match = _SHARD.fullmatch(file)
        if match:
            prefix, index, count, suffix = match.groups()
            shards[(prefix, suffix, int(count))].add(int(index))
    for (prefix, suffix, count), found in sorted(shards.items()):
        for index in sorted(set(range(count)) - found):
            raise EvaluationReadError(
                f"{prefix}-{index:05d}-of-{count:05d}{suffix} is missing (shard {index + 1} of "
                f"{count}): the evaluation is incomplete; evaluate again"
            )


def _has_attributions_metrics(eval_config: config_pb2.EvalConfig) -> bool:
    """Whether a metric of the config writes attributions, as TFMA's has_attributions_metrics
    says; asked of TFMA (which loads TensorFlow) only for a metric class of the user's own."""
    metrics = [m for spec in eval_config.metrics_specs for m in spec.metrics]
    if any(m.class_name in _ATTRIBUTION_CLASSES for m in metrics):
        return True
    if not any(m.module.split(".")[0] not in _LIBRARY_MODULES for m in metrics if m.module):
        return False
    from tensorflow_model_analysis.metrics import attributions as tfma_attributions

    return tfma_attributions.has_attributions_metrics(eval_config.metrics_specs)


def _isdir(path: str) -> bool:
    try:
        return filesystem.isdir(path)
    except OSError as e:
        raise EvaluationReadError(f"cannot read {path}: {e}") from e


def _exists(path: str) -> bool:
    try:
        return filesystem.exists(path)
    except OSError as e:
        raise EvaluationReadError(f"cannot read {path}: {e}") from e


def _files(path: str, key: str) -> List[str]:
    pattern = os.path.join(path, key + "*")
    try:
        return [f for f in filesystem.glob(pattern) if not filesystem.isdir(f)]
    except OSError as e:
        raise EvaluationReadError(f"cannot list {pattern}: {e}") from e


# Each file's records, by TFMA's name prefix.
_RECORD_TYPES: Dict[str, Type[message.Message]] = {
    tfma_constants.METRICS_KEY: metrics_for_slice_pb2.MetricsForSlice,
    tfma_constants.PLOTS_KEY: metrics_for_slice_pb2.PlotsForSlice,
    tfma_constants.ATTRIBUTIONS_KEY: metrics_for_slice_pb2.AttributionsForSlice,
}


def read_records(path: str, key: str, required: bool = True) -> Iterator[Any]:
    """The records of every `key`-* file of an evaluation directory (key: 'metrics', 'plots' or
    'attributions'), as TFMA's loaders read them, one file at a time to name the culprit."""
    files = _files(path, key)
    if required and not files:
        raise EvaluationReadError(f"evaluation directory {path!r} holds no {key}-* files")
    _check_shards(files)
    parse = _RECORD_TYPES[key].FromString
    for file in files:
        try:
            for record in tfrecords.read_records(file):
                yield parse(record)
        except (tfrecords.CorruptRecordError, OSError, message.DecodeError) as e:
            raise EvaluationReadError(f"{file} is truncated or corrupt: {e}") from e


def _slice_metrics(record: metrics_for_slice_pb2.MetricsForSlice) -> SliceMetrics:
    if record.HasField("cross_slice_key"):
        key = cross_slice_key(record.cross_slice_key)
    else:
        key = slice_key(record.slice_key)
    if metric_keys.ERROR_METRIC in record.metrics:
        return SliceMetrics(key, {}, record.metrics[metric_keys.ERROR_METRIC].debug_message)
    metrics = {}
    for entry in record.metric_keys_and_values:
        value = _number(entry.value)
        if value is None:
            continue  # plots-like values (matrices, arrays): no threshold compares them
        interval = entry.confidence_interval
        metrics[MetricKey.from_proto(entry.key)] = Measurement(
            value,
            _number(interval.lower_bound) if interval.HasField("lower_bound") else None,
            _number(interval.upper_bound) if interval.HasField("upper_bound") else None,
        )
    return SliceMetrics(key, metrics)


def _number(value: metrics_for_slice_pb2.MetricValue) -> Optional[float]:
    if value.HasField("double_value"):
        return value.double_value.value
    if value.HasField("bounded_value"):  # TFMA's older format
        return value.bounded_value.value.value
    return None


def _merged(existing: Optional[SliceMetrics], new: SliceMetrics) -> SliceMetrics:
    """A slice split over several records (TFMA may write one per model) is one slice."""
    if existing is None:
        return new
    return SliceMetrics(
        new.slice_key, {**existing.metrics, **new.metrics}, existing.error or new.error
    )


def _attributions(record: metrics_for_slice_pb2.AttributionsForSlice) -> SliceAttributions:
    result = {}
    for entry in record.attributions_keys_and_values:
        values = {feature: _number(value) for feature, value in sorted(entry.values.items())}
        result[AttributionsKey.from_proto(entry.key)] = {
            feature: value
            for feature, value in values.items()
            if value is not None and not math.isnan(value)
        }
    return result


def candidate_keys(
    slice_metrics: SliceMetrics, name: str, model_name: str, is_diff: bool = False
) -> List[MetricKey]:
    """The slice's metric keys of a model with this name (every sub key and weighting), sorted."""
    return sorted(
        (
            key
            for key in slice_metrics.metrics
            if key.name == name and key.model_name == model_name and key.is_diff == is_diff
        ),
        key=str,
    )
