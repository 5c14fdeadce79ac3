"""TFMA's thresholds (`tfma.EvalConfig`: `MetricConfig.threshold`, `per_slice_thresholds`,
`MetricsSpec.thresholds`) applied to an evaluation, one check per threshold and slice.

Which metric key and slices a threshold applies to is TFMA's own reading of the config
(`metric_thresholds_from_metrics_specs`, read without TensorFlow by `tfma_thresholds`): a
threshold without slicing specs applies to every slice, a per-slice one to the slices its specs
match. The rules are TFMA's documented semantics:

- value: lower_bound <= v_c <= upper_bound, bounds inclusive;
- change, absolute: v_c - v_b >= absolute (HIGHER_IS_BETTER) or <= absolute (LOWER_IS_BETTER);
- change, relative: v_c / v_b >= relative (HIGHER_IS_BETTER) or <= relative (LOWER_IS_BETTER).
  TFMA 0.52's code compares (v_c - v_b) / v_b instead (see README, "Validator").

Bounds are met with equality, also where v_c - v_b or v_c / v_b lands a rounding error beyond them
(0.70 - 0.71 meets an absolute change of -0.01). A NaN value meets no threshold; a relative
threshold needs a positive baseline value (a ratio to 0 is undefined, and to a negative value it
reverses "better"); both fail, and the sentence says why.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, Optional, Tuple, Union

from tensorflow_model_analysis.proto import config_pb2

from glassbox.evaluation import thresholds as evaluation_thresholds
from glassbox.tfma_keys import MetricKey
from glassbox.validation import checks as checks_lib
from glassbox.validation import slices, tfma_thresholds
from glassbox.validation.checks import Check, metric_label, number, rounding_tolerance, signed
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation, SliceMetrics, slice_label

TfmaThreshold = Union[config_pb2.GenericValueThreshold, config_pb2.GenericChangeThreshold]
_HIGHER = config_pb2.MetricDirection.HIGHER_IS_BETTER
_LOWER = config_pb2.MetricDirection.LOWER_IS_BETTER


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A threshold on a candidate metric key (a diff key for change thresholds) for some slices."""

    metric_key: MetricKey
    # None: every single slice; a CrossSlicingSpec: the cross slices it selects.
    slicing_spec: Optional[Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]]
    threshold: TfmaThreshold

    @property
    def is_change(self) -> bool:
        return isinstance(self.threshold, config_pb2.GenericChangeThreshold)


def _is_removed(threshold: TfmaThreshold) -> bool:
    """An empty change threshold: the mark `_mark_removed_change_thresholds` leaves."""
    return isinstance(threshold, config_pb2.GenericChangeThreshold) and not threshold.ByteSize()


def _mark_removed_change_thresholds(eval_config: config_pb2.EvalConfig) -> config_pb2.EvalConfig:
    """Marks the thresholds TFMA emptied in the config of an evaluation without a baseline.

    TFMA (and so our Evaluator) clears every change threshold when there is no baseline; one that
    had no value threshold stays as an empty MetricThreshold. An empty change threshold marks it,
    so that it is listed as skipped rather than silently gone.
    """
    marked = config_pb2.EvalConfig()
    marked.CopyFrom(eval_config)
    for spec in marked.metrics_specs:
        thresholds = [m.threshold for m in spec.metrics if m.HasField("threshold")]
        thresholds += list(spec.thresholds.values())
        per_slice = [
            t for m in spec.metrics for t in (*m.per_slice_thresholds, *m.cross_slice_thresholds)
        ]
        for by_name in (spec.per_slice_thresholds, spec.cross_slice_thresholds):
            per_slice += [t for ts in by_name.values() for t in ts.thresholds]
        thresholds += [t.threshold for t in per_slice if t.HasField("threshold")]
        for threshold in thresholds:
            if not threshold.ByteSize():
                threshold.change_threshold.SetInParent()
    return marked


def with_thresholds_of(
    eval_config: config_pb2.EvalConfig, thresholds_config: Optional[config_pb2.EvalConfig]
) -> config_pb2.EvalConfig:
    """The evaluation's config with the metrics specs (hence thresholds) of thresholds_config.

    Metrics specs without model_names apply to every model, as TFMA's defaults make them.
    """
    if thresholds_config is None:
        return eval_config
    merged = config_pb2.EvalConfig()
    merged.CopyFrom(eval_config)
    del merged.metrics_specs[:]
    merged.metrics_specs.extend(thresholds_config.metrics_specs)
    names = [spec.name for spec in merged.model_specs]
    for spec in merged.metrics_specs:
        if not spec.model_names or len(names) == 1:
            spec.model_names[:] = names
    return merged


def read_thresholds(eval_config: config_pb2.EvalConfig, source: str) -> List[Threshold]:
    """The candidate's thresholds in the config, checked; source names the config in errors."""
    baseline = next((s.name for s in eval_config.model_specs if s.is_baseline), None)
    if baseline is None:
        eval_config = _mark_removed_change_thresholds(eval_config)
    try:
        by_key = tfma_thresholds.metric_thresholds(eval_config.metrics_specs, eval_config)
    except (ValueError, TypeError, KeyError, AttributeError, ImportError) as e:
        raise ValidatorConfigError(f"cannot read the thresholds of {source}: {e}") from e
    thresholds = []
    for key, sliced in by_key.items():
        if baseline is not None and key.model_name == baseline:
            continue  # TFMA ignores thresholds on the baseline model, so do we
        for spec, threshold in sliced:
            if baseline is not None or not _is_removed(threshold):
                _check_threshold(
                    threshold,
                    f"the threshold on {metric_label(key)} for {slices.spec_label(spec)} "
                    f"in {source}",
                )
            thresholds.append(Threshold(key, spec, threshold))
    return thresholds


def _check_threshold(threshold: TfmaThreshold, where: str) -> None:
    found = evaluation_thresholds.problem(threshold)
    if found:
        field, what = found
        raise ValidatorConfigError(f"{where}: {field} {what}")


def describe(threshold: TfmaThreshold) -> str:
    """'>= 0.7', 'in [0.7, 0.9]', 'change >= -0.01 and ratio >= 1.01 (higher is better)'."""
    if isinstance(threshold, config_pb2.GenericValueThreshold):
        lower = threshold.lower_bound.value if threshold.HasField("lower_bound") else None
        upper = threshold.upper_bound.value if threshold.HasField("upper_bound") else None
        if lower is not None and upper is not None:
            return f"in [{number(lower)}, {number(upper)}]"
        return f">= {number(lower)}" if upper is None else f"<= {number(upper)}"
    if _is_removed(threshold):
        return "its bounds are not in eval_config.json: TFMA drops change thresholds when there is no baseline"
    op = ">=" if threshold.direction == _HIGHER else "<="
    parts = [
        f"{name} {op} {number(getattr(threshold, field).value)}"
        for field, name in (("absolute", "change"), ("relative", "ratio"))
        if threshold.HasField(field)
    ]
    return " and ".join(parts) + f" ({_direction(threshold.direction)})"


def _direction(direction: int) -> str:
    return "higher is better" if direction == _HIGHER else "lower is better"


def value_rule(threshold: config_pb2.GenericValueThreshold, value: float) -> Tuple[bool, str]:
    """Whether value meets the bounds (inclusive), and the clause saying so."""
    if math.isnan(value):
        return False, f"which meets no bound ({describe(threshold)})"
    if threshold.HasField("lower_bound") and value < threshold.lower_bound.value:
        return False, f"below the lower bound {number(threshold.lower_bound.value)}"
    if threshold.HasField("upper_bound") and value > threshold.upper_bound.value:
        return False, f"above the upper bound {number(threshold.upper_bound.value)}"
    return True, f"within the bounds ({describe(threshold)})"


def change_rule(
    threshold: config_pb2.GenericChangeThreshold, value: float, baseline: float
) -> Tuple[bool, str]:
    """Whether the candidate's value meets the change threshold against the baseline's, and why."""
    higher = threshold.direction == _HIGHER
    op = ">=" if higher else "<="
    results = []
    if threshold.HasField("absolute"):
        required, diff = threshold.absolute.value, value - baseline
        tolerance = rounding_tolerance(value, baseline)
        passed = diff >= required - tolerance if higher else diff <= required + tolerance
        results.append(
            (
                passed,
                f"a change of {signed(diff)} {'meets' if passed else 'misses'} the required "
                f"change {op} {number(required)}",
            )
        )
    if threshold.HasField("relative"):
        required = threshold.relative.value
        if not baseline > 0:
            results.append(
                (
                    False,
                    f"a ratio to the baseline's {number(baseline)} is undefined (a relative threshold "
                    f"needs a positive baseline value), so the required ratio {op} "
                    f"{number(required)} is not met",
                )
            )
        else:
            ratio = value / baseline
            tolerance = rounding_tolerance(ratio)
            passed = ratio >= required - tolerance if higher else ratio <= required + tolerance
            results.append(
                (
                    passed,
                    f"a ratio of {number(ratio)} {'meets' if passed else 'misses'} the required "
                    f"ratio {op} {number(required)}",
                )
            )
    clause = ", and ".join(text for _, text in results)
    return all(passed for passed, _ in results), f"{clause} ({_direction(threshold.direction)})"


def threshold_checks(
    evaluation: Evaluation, thresholds: List[Threshold], has_baseline: bool
) -> List[Check]:
    """One check per threshold and slice it applies to; a missing_slice check when it applies to none."""
    result = []
    for threshold in thresholds:
        matched = slices.matching(evaluation, threshold.slicing_spec)
        if not matched:
            result.append(_missing_slice(threshold))
        for slice_metrics in matched:
            result.append(_check(evaluation, threshold, slice_metrics, has_baseline))
    return result


def _base(threshold: Threshold, slice_metrics: Optional[SliceMetrics]) -> Check:
    """A check with the fields every threshold check shares; kind, verdict and sentence to fill in."""
    return Check(
        kind=checks_lib.CHANGE_THRESHOLD if threshold.is_change else checks_lib.VALUE_THRESHOLD,
        passed=False,
        slice=slice_label(slice_metrics.slice_key)
        if slice_metrics
        else slices.spec_label(threshold.slicing_spec),
        metric=metric_label(threshold.metric_key),
        value=None,
        baseline_value=None,
        threshold=checks_lib.threshold_json(threshold.threshold),
        sentence="",
        slice_key=slice_metrics.slice_key if slice_metrics else None,
        slicing_spec=threshold.slicing_spec,
        metric_key=threshold.metric_key,
        tfma_threshold=threshold.threshold,
    )


def _missing_slice(threshold: Threshold) -> Check:
    return dataclasses.replace(
        _base(threshold, None),
        kind=checks_lib.MISSING_SLICE,
        sentence=f"No slice of the evaluation matches {slices.spec_label(threshold.slicing_spec)}, so the threshold "
        f"on {metric_label(threshold.metric_key)} ({describe(threshold.threshold)}) cannot be checked.",
    )


def missing_metric_sentence(what: str, slice_metrics: SliceMetrics, rule: str) -> str:
    """Why a metric a check needs is absent from a slice: withheld (TFMA's reason) or not computed."""
    where = slice_label(slice_metrics.slice_key)
    if slice_metrics.error:
        return (
            f"The metrics of {where} were withheld ({slice_metrics.error.rstrip('.')}), so {what} cannot be "
            f"checked against {rule}."
        )
    return f"{what} on {where} was not computed by the evaluation, so it cannot be checked against {rule}."


def _check(
    evaluation: Evaluation, threshold: Threshold, slice_metrics: SliceMetrics, has_baseline: bool
) -> Check:
    check = _base(threshold, slice_metrics)
    label, rule, where = check.metric, describe(threshold.threshold), check.slice
    if threshold.is_change and not has_baseline:
        return dataclasses.replace(
            check,
            passed=True,
            skipped=True,
            sentence=f"The change threshold on {label} for {where} ({rule}) is skipped: there is no baseline model "
            "to compare with (first model, rubber stamp).",
        )
    candidate_key = threshold.metric_key._replace(is_diff=False)
    candidate = slice_metrics.metrics.get(candidate_key)
    if candidate is None:
        return dataclasses.replace(
            check,
            kind=checks_lib.MISSING_METRIC,
            sentence=missing_metric_sentence(label, slice_metrics, rule),
        )
    check = dataclasses.replace(check, value=candidate.value)
    if not threshold.is_change:
        passed, clause = value_rule(threshold.threshold, candidate.value)
        return dataclasses.replace(
            check,
            passed=passed,
            sentence=f"{label} on {where} is {number(candidate.value)}, {clause}.",
        )
    baseline = slice_metrics.metrics.get(candidate_key.make_baseline_key(evaluation.baseline_name))
    if baseline is None:
        return dataclasses.replace(
            check,
            kind=checks_lib.MISSING_METRIC,
            sentence=missing_metric_sentence(f"the baseline's {label}", slice_metrics, rule),
        )
    passed, clause = change_rule(threshold.threshold, candidate.value, baseline.value)
    return dataclasses.replace(
        check,
        passed=passed,
        baseline_value=baseline.value,
        sentence=f"{label} on {where} is {number(candidate.value)} against the baseline's "
        f"{number(baseline.value)}: {clause}.",
    )
