"""The thresholds of a `tfma.EvalConfig`, checked completely where a config is first seen.

Every front-end (the Evaluator and Validator components when a pipeline is built, `glassbox
evaluate`, the engine) refuses a malformed threshold before anything runs, whether or not there is
a baseline, with the field path at fault (``metrics_specs[0].thresholds['auc'].change_threshold
.direction``): a threshold that sets nothing, a value threshold without bounds or with NaN or
contradictory bounds, a change threshold without a direction or an amount, a threshold on a
metric the config does not compute (nor, once the models are known, their compiled Keras
metrics), and a per-slice or cross-slice threshold on slices the
config's slicing specs never produce. The Validator re-checks each threshold it reads with
`problem`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Collection, Iterator, List, Optional, Sequence, Tuple, Union

from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.slicing import evaluated_slicing_specs
from glassbox.errors import ConfigError

GenericThreshold = Union[config_pb2.GenericValueThreshold, config_pb2.GenericChangeThreshold]
_DIRECTIONS = (
    config_pb2.MetricDirection.HIGHER_IS_BETTER,
    config_pb2.MetricDirection.LOWER_IS_BETTER,
)
# What TFMA raises on a metric it cannot build; the metrics plan refuses such a metric by name.
_BUILD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ImportError, NotImplementedError)


def problem(threshold: GenericThreshold) -> Optional[Tuple[str, str]]:
    """What is malformed in one value or change threshold: (its field, what is wrong), or None."""
    if isinstance(threshold, config_pb2.GenericValueThreshold):
        bounds = [
            (field, getattr(threshold, field).value)
            for field in ("lower_bound", "upper_bound")
            if threshold.HasField(field)
        ]
        if not bounds:
            return "value_threshold", "sets neither lower_bound nor upper_bound"
        for field, value in bounds:
            if math.isnan(value):
                return f"value_threshold.{field}", "is NaN"
        if len(bounds) == 2 and bounds[0][1] > bounds[1][1]:
            return (
                "value_threshold",
                f"is contradictory: lower_bound > upper_bound ({bounds[0][1]} > {bounds[1][1]})",
            )
        return None
    if threshold.direction not in _DIRECTIONS:
        return (
            "change_threshold.direction",
            "is unset; set HIGHER_IS_BETTER or LOWER_IS_BETTER",
        )
    amounts = [f for f in ("absolute", "relative") if threshold.HasField(f)]
    if not amounts:
        return "change_threshold", "sets neither absolute nor relative"
    for field in amounts:
        if math.isnan(getattr(threshold, field).value):
            return f"change_threshold.{field}", "is NaN"
    return None


def _metric_threshold_problem(threshold: config_pb2.MetricThreshold) -> Optional[Tuple[str, str]]:
    if not threshold.HasField("value_threshold") and not threshold.HasField("change_threshold"):
        return "", "sets neither value_threshold nor change_threshold, so it checks nothing"
    for field in ("value_threshold", "change_threshold"):
        if threshold.HasField(field):
            found = problem(getattr(threshold, field))
            if found:
                return found
    return None


@dataclasses.dataclass(frozen=True)
class _Threshold:
    """A MetricThreshold of the config and where it is."""

    path: str  # of the MetricThreshold
    entry: str  # of what holds it: the MetricConfig, map entry or per-slice threshold
    metric: str  # the class_name or metric name, as the user wrote it
    in_map: bool  # keyed by metric name (MetricsSpec.thresholds, per_slice_thresholds)
    threshold: config_pb2.MetricThreshold
    # The slicing specs that select its slices, by field path relative to `entry`.
    slicing_specs: Sequence[Tuple[str, config_pb2.SlicingSpec]] = ()
    # Of a per-slice or cross-slice threshold that can select no slice: (field, why).
    selects_nothing: Optional[Tuple[str, str]] = None


def _selects_nothing(
    per_slice: Union[config_pb2.PerSliceMetricThreshold, config_pb2.CrossSliceMetricThreshold],
) -> Optional[Tuple[str, str]]:
    """TFMA applies a per-slice threshold to no slice without slicing specs, and a cross-slice one
    to no cross slice without cross slicing specs or with one that has no comparison specs."""
    if isinstance(per_slice, config_pb2.PerSliceMetricThreshold):
        if not per_slice.slicing_specs:
            return "slicing_specs", "is empty, so TFMA applies the threshold to no slice"
        return None
    if not per_slice.cross_slicing_specs:
        return "cross_slicing_specs", "is empty, so TFMA applies the threshold to no cross slice"
    for k, cross in enumerate(per_slice.cross_slicing_specs):
        if not cross.slicing_specs:
            return (
                f"cross_slicing_specs[{k}].slicing_specs",
                "is empty, so TFMA applies the threshold to no cross slice (it compares the "
                "baseline spec's slices only with the slices these specs select)",
            )
    return None


def _slicing_specs(
    per_slice: Union[config_pb2.PerSliceMetricThreshold, config_pb2.CrossSliceMetricThreshold],
) -> List[Tuple[str, config_pb2.SlicingSpec]]:
    if isinstance(per_slice, config_pb2.PerSliceMetricThreshold):
        return [(f"slicing_specs[{k}]", spec) for k, spec in enumerate(per_slice.slicing_specs)]
    found = []
    for k, cross in enumerate(per_slice.cross_slicing_specs):
        found.append((f"cross_slicing_specs[{k}].baseline_spec", cross.baseline_spec))
        found += [
            (f"cross_slicing_specs[{k}].slicing_specs[{j}]", spec)
            for j, spec in enumerate(cross.slicing_specs)
        ]
    return found


def _thresholds(eval_config: config_pb2.EvalConfig) -> Iterator[_Threshold]:
    """Every MetricThreshold, per-slice and cross-slice ones included."""
    for i, spec in enumerate(eval_config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            path = f"metrics_specs[{i}].metrics[{j}]"
            if metric.HasField("threshold"):
                yield _Threshold(
                    f"{path}.threshold", path, metric.class_name, False, metric.threshold
                )
            for field in ("per_slice_thresholds", "cross_slice_thresholds"):
                for k, per_slice in enumerate(getattr(metric, field)):
                    entry = f"{path}.{field}[{k}]"
                    yield _Threshold(
                        f"{entry}.threshold",
                        entry,
                        metric.class_name,
                        False,
                        per_slice.threshold,
                        _slicing_specs(per_slice),
                        _selects_nothing(per_slice),
                    )
        path = f"metrics_specs[{i}]"
        for name in sorted(spec.thresholds):
            entry = f"{path}.thresholds[{name!r}]"
            yield _Threshold(entry, entry, name, True, spec.thresholds[name])
        for field in ("per_slice_thresholds", "cross_slice_thresholds"):
            by_name = getattr(spec, field)
            for name in sorted(by_name):
                for k, per_slice in enumerate(by_name[name].thresholds):
                    entry = f"{path}.{field}[{name!r}].thresholds[{k}]"
                    yield _Threshold(
                        f"{entry}.threshold",
                        entry,
                        name,
                        True,
                        per_slice.threshold,
                        _slicing_specs(per_slice),
                        _selects_nothing(per_slice),
                    )


def check_threshold_fields(eval_config: config_pb2.EvalConfig) -> None:
    """Refuses a malformed MetricThreshold (each on its own), naming its field path."""
    for found in _thresholds(eval_config):
        bad = _metric_threshold_problem(found.threshold)
        if bad:
            field, what = bad
            path = f"{found.path}.{field}" if field else found.path
            raise ConfigError(f"EvalConfig field {path!r} (on {found.metric}) {what}")


def check_thresholds(
    eval_config: config_pb2.EvalConfig,
    evaluated: Optional[config_pb2.EvalConfig] = None,
    compiled_names: Optional[Collection[str]] = None,
) -> None:
    """Refuses any threshold of eval_config that is malformed or can never be checked.

    evaluated: the config whose evaluation the thresholds are checked on (its metrics and slices);
      default: eval_config itself.
    compiled_names: the evaluated models' compiled Keras metric names, which TFMA adds unless
      options.include_default_metrics is false. None (the models not yet known): a threshold on a
      metric the config does not compute may be on one of them, and is checked once they are.
    """
    evaluated = eval_config if evaluated is None else evaluated
    check_threshold_fields(eval_config)
    computed = _computed_metric_names(evaluated)
    options = evaluated.options
    default_metrics = (
        not options.HasField("include_default_metrics") or options.include_default_metrics.value
    )
    if computed is not None and default_metrics and compiled_names is not None:
        computed |= set(compiled_names)
    produced = [spec for _, spec in evaluated_slicing_specs(evaluated)]
    for found in _thresholds(eval_config):
        unknown = found.in_map and computed is not None and found.metric not in computed
        if unknown and not (default_metrics and compiled_names is None):
            raise ConfigError(
                f"EvalConfig field {found.entry!r} sets a threshold on "
                f"metric {found.metric!r}, which the config does not compute (it computes "
                f"{sorted(computed) or 'no metric'})"
                + (", its models' compiled Keras metrics included" if default_metrics else "")
                + "; add its MetricConfig to metrics_specs or fix the name"
            )
        if found.selects_nothing:
            field, why = found.selects_nothing
            raise ConfigError(f"EvalConfig field '{found.entry}.{field}' (on {found.metric}) {why}")
        for where, spec in found.slicing_specs:
            if not any(_may_match(spec, slicing) for slicing in produced):
                raise ConfigError(
                    f"EvalConfig field '{found.entry}.{where}' selects slices "
                    f"of {_features(spec) or 'no feature (the overall slice)'}, which the "
                    f"slicing_specs never produce (they produce slices of "
                    f"{[_features(s) or 'overall' for s in produced]}); so the threshold on "
                    f"{found.metric} could never be checked"
                )


def _features(spec: config_pb2.SlicingSpec) -> List[str]:
    return sorted({*spec.feature_keys, *spec.feature_values})


def _may_match(threshold_spec: config_pb2.SlicingSpec, slicing: config_pb2.SlicingSpec) -> bool:
    """Whether a slice that slicing produces can be one that threshold_spec selects."""
    if _features(threshold_spec) != _features(slicing):
        return False
    fixed = slicing.feature_values
    return all(fixed.get(k, v) == v for k, v in threshold_spec.feature_values.items())


def _computed_metric_names(eval_config: config_pb2.EvalConfig) -> Optional[set]:
    """The names of the metrics the config computes and writes (TFMA drops its private ones, named
    '_...'); None if TFMA cannot build them (the metrics plan then refuses the one at fault)."""
    from tensorflow_model_analysis.metrics import metric_specs  # TensorFlow: only here

    from glassbox.evaluation import fairness  # noqa: F401 (registers FairnessIndicators with TFMA)

    try:
        computations = metric_specs.to_computations(
            list(eval_config.metrics_specs), eval_config=eval_config
        )
    except _BUILD_ERRORS:
        return None
    names = {key.name for computation in computations for key in computation.keys}
    return {name for name in names if not name.startswith("_")}
