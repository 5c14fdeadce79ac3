"""The gates of our ValidatorConfig beyond TFMA's thresholds: minimum example count per slice, the
gap of a metric between a slice and the overall, and "not significantly worse than the baseline".
Each is a function from the evaluation and one gate to checks; `check_config` refuses a malformed
config up front, naming the field.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, Optional, Tuple

from google.protobuf import message
from tensorflow_model_analysis.proto import config_pb2

from glassbox.protos import validator_config_pb2 as vc
from glassbox.tfma_keys import MetricKey
from glassbox.validation import attributions, drift, simple_model, slices
from glassbox.validation import checks as checks_lib
from glassbox.validation.checks import Check, metric_label, number, rounding_tolerance, signed
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation, SliceMetrics, candidate_keys, slice_label
from glassbox.validation.thresholds import missing_metric_sentence

EXAMPLE_COUNT = "example_count"
OVERALL: tuple = ()
_KINDS = {
    vc.MinExampleCount: checks_lib.MIN_EXAMPLE_COUNT,
    vc.SliceGap: checks_lib.SLICE_GAP,
    vc.SignificanceGate: checks_lib.SIGNIFICANCE,
}
_GATE_NAMES = {
    vc.MinExampleCount: "minimum example count gate",
    vc.SliceGap: "slice gap gate",
    vc.SignificanceGate: "significance gate",
}


def has_gates(config: vc.ValidatorConfig) -> bool:
    return bool(
        config.min_example_counts
        or config.slice_gaps
        or config.significance_gates
        or config.attribution_gates
        or config.drift_gates
        or config.simple_model_gates
    )


def check_config(config: vc.ValidatorConfig) -> None:
    """Refuses what no evaluation could satisfy or what is ambiguous, naming the field."""
    if config.no_applicable_checks not in vc.NoApplicableChecks.values():
        raise ValidatorConfigError(
            f"ValidatorConfig field 'no_applicable_checks' is {config.no_applicable_checks}, not one "
            f"of {', '.join(vc.NoApplicableChecks.keys())}"
        )
    for i, gate in enumerate(config.min_example_counts):
        if gate.min_count <= 0:
            raise ValidatorConfigError(
                f"ValidatorConfig field 'min_example_counts[{i}].min_count' must be > 0, "
                f"got {gate.min_count}"
            )
    for field, tolerance in (("slice_gaps", "max_gap"), ("significance_gates", "margin")):
        for i, gate in enumerate(getattr(config, field)):
            path = f"ValidatorConfig field '{field}[{i}]"
            if not gate.metric:
                raise ValidatorConfigError(f"{path}.metric' is empty: name a metric, e.g. 'auc'")
            if gate.direction not in (vc.HIGHER_IS_BETTER, vc.LOWER_IS_BETTER):
                raise ValidatorConfigError(
                    f"{path}.direction' is unset; set HIGHER_IS_BETTER or LOWER_IS_BETTER"
                )
            value = getattr(gate, tolerance)
            if not value >= 0 or math.isinf(value):
                raise ValidatorConfigError(
                    f"{path}.{tolerance}' must be a finite number >= 0, got {value}"
                )
    for i, gate in enumerate(config.attribution_gates):
        attributions.check_gate(gate, f"ValidatorConfig field 'attribution_gates[{i}]")
    for i, gate in enumerate(config.drift_gates):
        drift.check_gate(gate, f"ValidatorConfig field 'drift_gates[{i}]")
    for i, gate in enumerate(config.simple_model_gates):
        simple_model.check_gate(gate, f"ValidatorConfig field 'simple_model_gates[{i}]")


def gate_checks(
    evaluation: Evaluation, config: vc.ValidatorConfig, has_baseline: bool
) -> List[Check]:
    result = []
    for gate in config.min_example_counts:
        result += min_example_count_checks(evaluation, gate)
    for gate in config.slice_gaps:
        result += slice_gap_checks(evaluation, gate)
    for gate in config.significance_gates:
        result += significance_checks(evaluation, gate, has_baseline)
    for gate in config.attribution_gates:
        result += attributions.attribution_checks(evaluation, gate, has_baseline)
    for gate in config.drift_gates:
        result += drift.drift_checks(evaluation, gate)
    for gate in config.simple_model_gates:
        result += simple_model.simple_model_checks(evaluation, gate)
    return result


Selection = List[Tuple[Optional[config_pb2.SlicingSpec], SliceMetrics]]


def _select(
    evaluation: Evaluation,
    gate: message.Message,
    metric: str,
    specs: List[Optional[config_pb2.SlicingSpec]],
) -> Tuple[Selection, List[Check]]:
    """The (spec, slice) pairs the specs select, each slice once (spec None: every slice), and a
    missing_slice check for each spec that selects none."""
    selection: Selection = []
    missing = []
    for spec in specs:
        matched = slices.matching(evaluation, spec)
        if not matched:
            missing.append(
                _check(
                    gate,
                    None,
                    metric,
                    spec,
                    kind=checks_lib.MISSING_SLICE,
                    sentence=(
                        f"No slice of the evaluation matches {slices.spec_label(spec)}, so the "
                        f"{_GATE_NAMES[type(gate)]} on {metric} cannot be checked."
                    ),
                )
            )
        seen = {s.slice_key for _, s in selection}
        selection += [(spec, s) for s in matched if s.slice_key not in seen]
    return selection, missing


def _check(
    gate: message.Message,
    slice_metrics: Optional[SliceMetrics],
    metric: str,
    spec: Optional[config_pb2.SlicingSpec],
    **fields,
) -> Check:
    """A failed check of the gate by default; fields override (passed, sentence, value, ...)."""
    return Check(
        **{
            "kind": _KINDS[type(gate)],
            "passed": False,
            "metric": metric,
            "value": None,
            "baseline_value": None,
            "threshold": checks_lib.threshold_json(gate),
            "sentence": "",
            "slicing_spec": spec,
            "slice": slice_label(slice_metrics.slice_key)
            if slice_metrics
            else slices.spec_label(spec),
            "slice_key": slice_metrics.slice_key if slice_metrics else None,
            **fields,
        }
    )


def _missing(
    gate: message.Message, slice_metrics: SliceMetrics, what: str, rule: str, spec
) -> Check:
    return _check(
        gate,
        slice_metrics,
        what,
        spec,
        kind=checks_lib.MISSING_METRIC,
        sentence=missing_metric_sentence(what, slice_metrics, rule),
    )


def _tfma_specs(gate_specs) -> List[config_pb2.SlicingSpec]:
    return [slices.tfma_spec(spec) for spec in gate_specs]


def min_example_count_checks(evaluation: Evaluation, gate: vc.MinExampleCount) -> List[Check]:
    """Each selected slice's unweighted example_count is >= min_count."""
    rule = f">= {gate.min_count} examples"
    selection, result = _select(
        evaluation, gate, EXAMPLE_COUNT, _tfma_specs(gate.slicing_specs) or [None]
    )
    for spec, slice_metrics in selection:
        keys = [
            k
            for k in candidate_keys(slice_metrics, EXAMPLE_COUNT, evaluation.candidate_name)
            if not k.example_weighted and not k.sub_key
        ]
        if not keys:
            result.append(
                _missing(gate, slice_metrics, "the example count (metric ExampleCount)", rule, spec)
            )
            continue
        count = slice_metrics.metrics[keys[0]].value
        passed = count >= gate.min_count
        result.append(
            _check(
                gate,
                slice_metrics,
                EXAMPLE_COUNT,
                spec,
                passed=passed,
                value=count,
                metric_key=keys[0],
                tfma_threshold=config_pb2.GenericValueThreshold(
                    lower_bound={"value": gate.min_count}
                ),
                sentence=f"{slice_label(slice_metrics.slice_key)} has {number(count)} examples, "
                f"{'at least' if passed else 'fewer than'} the required {gate.min_count}.",
            )
        )
    return result


def _direction(direction: int) -> str:
    return "higher is better" if direction == vc.HIGHER_IS_BETTER else "lower is better"


def slice_gap_checks(evaluation: Evaluation, gate: vc.SliceGap) -> List[Check]:
    """Each selected slice's value of the metric is at most max_gap worse than the overall value."""
    rule = f"the overall value within a gap of {number(gate.max_gap)}"
    overall = evaluation.slices.get(OVERALL)
    if overall is None:
        return [
            _check(
                gate,
                None,
                gate.metric,
                config_pb2.SlicingSpec(),
                kind=checks_lib.MISSING_SLICE,
                sentence=f"The evaluation has no overall slice, so the gap of {gate.metric} between a slice "
                "and the overall cannot be checked (add an empty slicing_specs {} to the EvalConfig).",
            )
        ]
    selection, result = _select(
        evaluation, gate, gate.metric, _tfma_specs(gate.slicing_specs) or [None]
    )
    for spec, slice_metrics in selection:
        if spec is None and slice_metrics is overall:
            continue  # by default, every slice but the overall one
        keys = candidate_keys(slice_metrics, gate.metric, evaluation.candidate_name)
        if not keys:
            result.append(_missing(gate, slice_metrics, gate.metric, rule, spec))
        for key in keys:
            reference = overall.metrics.get(key)
            if reference is None:
                result.append(_missing(gate, overall, metric_label(key), rule, spec))
            else:
                result.append(_slice_gap_check(gate, slice_metrics, spec, key, reference.value))
    return result


def _slice_gap_check(
    gate: vc.SliceGap,
    slice_metrics: SliceMetrics,
    spec: Optional[config_pb2.SlicingSpec],
    key: MetricKey,
    overall: float,
) -> Check:
    higher = gate.direction == vc.HIGHER_IS_BETTER
    value = slice_metrics.metrics[key].value
    gap = overall - value if higher else value - overall  # how much worse than the overall
    passed = gap <= gate.max_gap + rounding_tolerance(overall, value)
    if math.isnan(gap):
        clause = f"so its gap to the overall {number(overall)} cannot be shown to be within {number(gate.max_gap)}"
    elif gap <= 0:
        clause = f"no worse than the overall {number(overall)}"
    else:
        clause = (
            f"{number(gap)} {'below' if higher else 'above'} the overall {number(overall)}, "
            f"{'within' if passed else 'beyond'} the allowed gap {number(gate.max_gap)}"
        )
    # The same rule as a TFMA value threshold, for the ValidationResult.
    bound = (
        {"lower_bound": {"value": overall - gate.max_gap}}
        if higher
        else {"upper_bound": {"value": overall + gate.max_gap}}
    )
    label = metric_label(key)
    return _check(
        gate,
        slice_metrics,
        label,
        spec,
        passed=passed,
        value=value,
        metric_key=key,
        tfma_threshold=config_pb2.GenericValueThreshold(**bound),
        sentence=f"{label} on {slice_label(slice_metrics.slice_key)} is {number(value)}, {clause} "
        f"({_direction(gate.direction)}).",
    )


def significance_checks(
    evaluation: Evaluation, gate: vc.SignificanceGate, has_baseline: bool
) -> List[Check]:
    """Each selected slice's interval of the metric's change does not lie entirely beyond the margin."""
    rule = f"not significantly worse than the baseline by more than {number(gate.margin)}"
    selection, result = _select(
        evaluation, gate, gate.metric, _tfma_specs(gate.slicing_specs) or [config_pb2.SlicingSpec()]
    )
    for spec, slice_metrics in selection:
        if not has_baseline:
            result.append(
                _check(
                    gate,
                    slice_metrics,
                    gate.metric,
                    spec,
                    passed=True,
                    skipped=True,
                    sentence=(
                        f"The significance gate on {gate.metric} for "
                        f"{slice_label(slice_metrics.slice_key)} is skipped: there is no baseline "
                        "model to compare with (first model, rubber stamp)."
                    ),
                )
            )
            continue
        keys = candidate_keys(slice_metrics, gate.metric, evaluation.candidate_name, is_diff=True)
        if not keys:
            result.append(
                _missing(
                    gate,
                    slice_metrics,
                    f"the change of {gate.metric} from the baseline",
                    rule,
                    spec,
                )
            )
        for key in keys:
            result.append(_significance_check(evaluation, gate, slice_metrics, spec, key))
    return result


def _significance_check(
    evaluation: Evaluation,
    gate: vc.SignificanceGate,
    slice_metrics: SliceMetrics,
    spec: Optional[config_pb2.SlicingSpec],
    diff_key: MetricKey,
) -> Check:
    label = metric_label(diff_key)
    diff = slice_metrics.metrics[diff_key]
    candidate = slice_metrics.metrics.get(diff_key._replace(is_diff=False))
    baseline = slice_metrics.metrics.get(diff_key.make_baseline_key(evaluation.baseline_name))
    check = _check(
        gate,
        slice_metrics,
        label,
        spec,
        metric_key=diff_key,
        value=candidate.value if candidate else None,
        baseline_value=baseline.value if baseline else None,
    )
    change = (
        f"{label} on {check.slice} changed by {signed(diff.value)} from the baseline's "
        f"{number(check.baseline_value)}"
    )
    if not diff.has_interval:
        return dataclasses.replace(
            check,
            sentence=(
                f"{change}, but the evaluation holds no confidence interval for the change (run the Evaluator with "
                "options.compute_confidence_intervals), so it cannot be shown not to be significantly worse."
            ),
        )
    if gate.direction == vc.HIGHER_IS_BETTER:
        passed = diff.upper_bound >= -gate.margin  # NaN: False
    else:
        passed = diff.lower_bound <= gate.margin
    verdict = "not significantly worse" if passed else "significantly worse"
    return dataclasses.replace(
        check,
        passed=passed,
        sentence=(
            f"{change} (95% confidence interval [{number(diff.lower_bound)}, {number(diff.upper_bound)}]): "
            f"{verdict} than the baseline by more than the margin {number(gate.margin)} ({_direction(gate.direction)})."
        ),
    )
