"""Attribution gates (ValidatorConfig.attribution_gates): bounds on the candidate's attributions.

A gate without a method reads TFMA's attributions of the evaluation (the glassbox Evaluator writes
the mean |attribution| per slice of the candidate and the baseline when given an ExplainConfig;
stock TFMA's MeanAbsoluteAttributions and TotalAbsoluteAttributions are read too). A gate on a text
method reads that method's token attributions, tokens as features, and one on an image method its
mean heat maps per class (glassbox.validation.explanation_files). Without what a gate reads on a
slice, the gate fails closed there with the reason.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.explain import shift
from glassbox.protos import validator_config_pb2 as vc
from glassbox.validation import checks as checks_lib
from glassbox.validation import explanation_files as files
from glassbox.validation import slices
from glassbox.validation.checks import Check, number
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation, SliceAttributions, slice_label

# Rules that compare the candidate's attributions with the baseline's: skipped without a baseline.
_COMPARATIVE = {"top_k_overlap", "max_shift", "min_heat_map_overlap"}
_RULES = "max_feature_share, top_k_overlap, max_shift or min_heat_map_overlap"
# TFMA's MEAN_ABSOLUTE_ATTRIBUTIONS_NAME and TOTAL_ABSOLUTE_ATTRIBUTIONS_NAME (its attributions
# module imports TensorFlow).
ABSOLUTE_ATTRIBUTIONS = ("mean_absolute_attributions", "total_absolute_attributions")


def check_gate(gate: vc.AttributionGate, path: str) -> None:
    """Refuses a gate no attributions could satisfy; path is "ValidatorConfig field 'attribution_gates[i]"."""
    rule = gate.WhichOneof("rule")
    if rule is None:
        raise ValidatorConfigError(f"{path}' sets no rule: set {_RULES}")
    method = gate.method
    if method and method not in keys.TEXT_METHODS + keys.IMAGE_METHODS:
        raise ValidatorConfigError(
            f"{path}.method' is {method!r}, not a text method ({', '.join(keys.TEXT_METHODS)}) "
            f"nor an image method ({', '.join(keys.IMAGE_METHODS)}); leave it empty for the "
            "features' attributions"
        )
    if (rule == "min_heat_map_overlap") != (method in keys.IMAGE_METHODS):
        raise ValidatorConfigError(
            f"{path}.method' is {repr(method) if method else 'empty'}: min_heat_map_overlap gates an image "
            f"method's heat maps ({', '.join(keys.IMAGE_METHODS)}), and an image method's heat "
            "maps are gated by min_heat_map_overlap only"
        )
    if rule == "max_feature_share":
        if not gate.max_feature_share.feature:
            raise ValidatorConfigError(
                f"{path}.max_feature_share.feature' is empty: name a "
                f"{'token' if method else 'feature'}"
            )
        _check_fraction(gate.max_feature_share.max_share, f"{path}.max_feature_share.max_share'")
    elif rule == "top_k_overlap":
        k, overlap = gate.top_k_overlap.k, gate.top_k_overlap.min_overlap
        if k < 1 or not 0 < overlap <= k:
            raise ValidatorConfigError(
                f"{path}.top_k_overlap' needs k >= 1 and 0 < min_overlap <= k, "
                f"got k={k}, min_overlap={overlap}"
            )
    elif rule == "min_heat_map_overlap":
        fraction = gate.min_heat_map_overlap.top_fraction
        if not 0 < fraction <= 1:
            raise ValidatorConfigError(
                f"{path}.min_heat_map_overlap.top_fraction' must be in (0, 1], got {fraction}"
            )
        _check_fraction(gate.min_heat_map_overlap.min_iou, f"{path}.min_heat_map_overlap.min_iou'")
    else:
        _check_fraction(gate.max_shift.max_shift, f"{path}.max_shift.max_shift'")


def _check_fraction(value: float, field: str) -> None:
    if not 0 <= value <= 1:
        raise ValidatorConfigError(f"{field} must be in [0, 1], got {value}")


def _features(gate: vc.AttributionGate) -> str:
    """What the gate's features are: 'attributed features', 'tokens by token_shapley'."""
    return f"tokens by {gate.method}" if gate.method else "attributed features"


def describe(gate: vc.AttributionGate) -> str:
    rule = gate.WhichOneof("rule")
    if rule == "max_feature_share":
        share = gate.max_feature_share
        what = f"the token {share.feature!r} by {gate.method}" if gate.method else share.feature
        return f"the share of |attribution| of {what} <= {number(share.max_share)}"
    if rule == "top_k_overlap":
        return (
            f"at least {gate.top_k_overlap.min_overlap} of the top {gate.top_k_overlap.k} "
            f"{_features(gate)} shared with the baseline"
        )
    if rule == "min_heat_map_overlap":
        maps = gate.min_heat_map_overlap
        return (
            f"an IoU >= {number(maps.min_iou)} of the top {_percent(maps.top_fraction)} of pixels "
            f"of each class's mean {gate.method} heat map with the baseline's"
        )
    of = f" of the tokens by {gate.method}" if gate.method else ""
    return f"an attribution shift{of} from the baseline <= {number(gate.max_shift.max_shift)}"


def attribution_checks(
    evaluation: Evaluation, gate: vc.AttributionGate, has_baseline: bool
) -> List[Check]:
    """The gate on each slice its slicing_spec selects (default: the overall slice)."""
    spec = (
        slices.tfma_spec(gate.slicing_spec)
        if gate.HasField("slicing_spec")
        else config_pb2.SlicingSpec()
    )
    where = slices.spec_label(spec)
    check = Check(
        kind=checks_lib.ATTRIBUTION,
        passed=False,
        slice=where,
        metric="attributions",
        value=None,
        baseline_value=None,
        threshold=checks_lib.threshold_json(gate),
        sentence="",
        slicing_spec=spec,
    )
    if gate.WhichOneof("rule") in _COMPARATIVE and not has_baseline:
        return [
            dataclasses.replace(
                check,
                passed=True,
                skipped=True,
                sentence=(
                    f"The attribution gate ({describe(gate)}) on {where} is skipped: there is no "
                    "baseline model to compare with (first model, rubber stamp)."
                ),
            )
        ]
    matched = slices.matching(evaluation, spec)
    if not matched:
        return [
            dataclasses.replace(
                check,
                kind=checks_lib.MISSING_SLICE,
                sentence=(
                    f"No slice of the evaluation matches {where}, so the attribution gate ({describe(gate)}) cannot be "
                    "checked."
                ),
            )
        ]
    document = (
        files.read_explanations(evaluation.path, keys.TEXT_EXPLANATIONS_FILE)
        if gate.method in keys.TEXT_METHODS
        else files.read_explanations(evaluation.path, keys.IMAGE_EXPLANATIONS_FILE)
        if gate.method
        else None
    )
    result = []
    for slice_metrics in matched:
        label = slice_label(slice_metrics.slice_key)
        slice_check = dataclasses.replace(check, slice_key=slice_metrics.slice_key, slice=label)
        try:
            if gate.method in keys.IMAGE_METHODS:
                result.append(_heat_map_check(slice_check, gate, document))
                continue
            candidate, baseline = _attributions(
                evaluation, gate, document, slice_metrics.slice_key, label, has_baseline
            )
        except files.Unavailable as reason:
            result.append(
                dataclasses.replace(
                    slice_check,
                    sentence=(
                        f"The attribution gate ({describe(gate)}) on {label} cannot be checked: "
                        f"{reason}."
                    ),
                )
            )
            continue
        result.append(evaluate_gate(slice_check, gate, candidate, baseline))
    return result


def _attributions(
    evaluation: Evaluation,
    gate: vc.AttributionGate,
    document: Optional[dict],
    slice_key,
    label: str,
    has_baseline: bool,
) -> Tuple[Dict[str, float], Optional[Dict[str, float]]]:
    """The candidate's mean |attribution| per feature (per token with a text method) on the
    slice and, with a baseline, the baseline's (None where a rule that does not compare lacks it)."""
    comparative = gate.WhichOneof("rule") in _COMPARATIVE
    if gate.method:
        candidate = files.slice_tokens(document, files.CANDIDATE, gate.method, label)
        if not has_baseline:
            return candidate, None
        try:
            return candidate, files.slice_tokens(document, files.BASELINE, gate.method, label)
        except files.Unavailable:
            if comparative:
                raise
            return candidate, None
    attributions = evaluation.attributions.get(slice_key)
    if not attributions:
        held = f" for {label}" if evaluation.attributions else ""
        raise files.Unavailable(f"the evaluation holds no attributions{held}")
    candidate = model_attributions(attributions, evaluation.candidate_name)
    baseline = model_attributions(attributions, evaluation.baseline_name) if has_baseline else None
    missing = (
        "candidate"
        if candidate is None
        else "baseline"
        if baseline is None and comparative
        else None
    )
    if missing:
        raise files.Unavailable(
            f"the evaluation holds no mean |attribution| of the {missing} model there"
        )
    return candidate, baseline


def model_attributions(
    attributions: SliceAttributions, model_name: str
) -> Optional[Dict[str, float]]:
    """A model's mean |attribution| per feature on a slice (TFMA's mean_absolute_attributions, else
    its total_absolute_attributions: the shares are the same), unweighted first; None if absent."""
    for name in ABSOLUTE_ATTRIBUTIONS:
        keys = sorted(
            (
                key
                for key in attributions
                if key.name == name and key.model_name == model_name and not key.is_diff
            ),
            key=lambda key: (bool(key.example_weighted), str(key)),
        )
        if keys:
            return attributions[keys[0]]
    return None


def _listed(features: List[str]) -> str:
    return ", ".join(features)


def evaluate_gate(
    check: Check,
    gate: vc.AttributionGate,
    candidate: Dict[str, float],
    baseline: Optional[Dict[str, float]],
) -> Check:
    """The gate applied to one slice's mean |attribution| per feature (or token) of the
    candidate and, for a comparative rule, the baseline.

    A feature's share is its mean |attribution| over the total of all features (see
    glassbox.explain.shift, which also defines the shift and the top-k overlap).
    """
    rule = gate.WhichOneof("rule")
    where = check.slice
    features = _features(gate)
    if rule == "max_feature_share":
        return _feature_share_check(check, gate, candidate, baseline)
    if rule == "top_k_overlap":
        k, least = gate.top_k_overlap.k, gate.top_k_overlap.min_overlap
        overlap = shift.top_k_overlap(candidate, baseline, k)
        passed = overlap >= least
        return dataclasses.replace(
            check,
            passed=passed,
            metric=f"top-{k} overlap" + (f" of tokens by {gate.method}" if gate.method else ""),
            value=float(overlap),
            sentence=(
                f"{overlap} of the candidate's top {k} {features} on {where} "
                f"({_listed(shift.top_features(candidate, k))}) are among the baseline's top {k} "
                f"({_listed(shift.top_features(baseline, k))}): {'at least' if passed else 'fewer than'} the required "
                f"{least}."
            ),
        )
    value = shift.attribution_shift(candidate, baseline)
    passed = value <= gate.max_shift.max_shift + checks_lib.rounding_tolerance(
        value, gate.max_shift.max_shift
    )
    a, b = shift.shares(candidate), shift.shares(baseline)
    changed = max(sorted(a.keys() | b.keys()), key=lambda f: abs(a.get(f, 0.0) - b.get(f, 0.0)))
    of = f" of the tokens by {gate.method}" if gate.method else ""
    return dataclasses.replace(
        check,
        passed=passed,
        metric="attribution shift" + of,
        value=value,
        sentence=(
            f"The attribution shift{of} from the baseline on {where} is {number(value)} (half the "
            f"L1 distance between the models' shares of |attribution|), {'within' if passed else 'beyond'} the allowed "
            f"{number(gate.max_shift.max_shift)}; the largest change is {changed}'s share, "
            f"{number(b.get(changed, 0.0))} for the baseline and {number(a.get(changed, 0.0))} for the candidate."
        ),
    )


def _feature_share_check(
    check: Check,
    gate: vc.AttributionGate,
    candidate: Dict[str, float],
    baseline: Optional[Dict[str, float]],
) -> Check:
    rule = gate.max_feature_share
    where, feature = check.slice, rule.feature
    name = f"the token {feature!r} by {gate.method}" if gate.method else feature
    metric = f"share of |attribution| of {name}"
    if feature not in candidate:
        among = (
            f"The token {feature!r} occurs in none of the texts explained on {where} "
            f"(attributed by {gate.method})"
            if gate.method
            else f"{feature} is not among the features attributed on {where} "
            f"({_listed(sorted(candidate))})"
        )
        return dataclasses.replace(
            check,
            metric=metric,
            sentence=(
                f"{among}, so its share of |attribution| cannot be checked "
                f"against {number(rule.max_share)}."
            ),
        )
    lead = (
        f"The share of the total |attribution| by {gate.method} of the token {feature!r}"
        if gate.method
        else f"{feature}'s share of the total |attribution|"
    )
    share = shift.shares(candidate)[feature]
    baseline_share = shift.shares(baseline).get(feature) if baseline is not None else None
    passed = share <= rule.max_share + checks_lib.rounding_tolerance(share, rule.max_share)
    total = sum(abs(v) for v in candidate.values())
    against = (
        f"; the baseline's share is {number(baseline_share)}" if baseline_share is not None else ""
    )
    return dataclasses.replace(
        check,
        passed=passed,
        metric=metric,
        value=share,
        baseline_value=baseline_share,
        sentence=(
            f"{lead} on {where} is {number(share)} "
            f"({number(abs(candidate[feature]))} of {number(total)}), {'within' if passed else 'above'} the allowed "
            f"{number(rule.max_share)}{against}."
        ),
    )


def _heat_map_check(check: Check, gate: vc.AttributionGate, document: Optional[dict]) -> Check:
    """The IoU of the top pixels of the two models' mean heat maps of each class both explained
    on the slice; the check's value is the lowest."""
    rule, method, where = gate.min_heat_map_overlap, gate.method, check.slice
    check = dataclasses.replace(check, metric=f"heat-map IoU of {method}")
    candidate = files.class_maps(document, files.CANDIDATE, method, where)
    baseline = files.class_maps(document, files.BASELINE, method, where)
    common = sorted(candidate.keys() & baseline.keys(), key=_class_order)
    if not common:
        raise files.Unavailable(
            f"no class is explained by both models there (the candidate's: "
            f"{_listed(sorted(candidate, key=_class_order))}; the baseline's: "
            f"{_listed(sorted(baseline, key=_class_order))})"
        )
    for name in common:
        if candidate[name].shape != baseline[name].shape:
            raise files.Unavailable(
                f"the models' {method} maps of class {name} differ in size (the candidate's "
                f"{'x'.join(map(str, candidate[name].shape))}, the baseline's "
                f"{'x'.join(map(str, baseline[name].shape))})"
            )
    found = {
        name: files.overlap(candidate[name], baseline[name], rule.top_fraction) for name in common
    }
    blank = [name for name, value in found.items() if value is None]
    if blank:
        raise files.Unavailable(
            f"both models' mean {method} maps of class {blank[0]} are 0 everywhere"
        )
    worst = min(common, key=lambda name: found[name])
    value = found[worst]
    passed = value >= rule.min_iou - checks_lib.rounding_tolerance(value, rule.min_iou)
    only = sorted(candidate.keys() ^ baseline.keys(), key=_class_order)
    left_out = (
        f"; classes explained by one model only, not compared: {_listed(only)}" if only else ""
    )
    among = (
        f"the lowest of classes {_listed(common)}"
        if len(common) > 1
        else "the only class both explained"
    )
    return dataclasses.replace(
        check,
        passed=passed,
        value=value,
        sentence=(
            f"On {where}, the top {_percent(rule.top_fraction)} of pixels of the candidate's and "
            f"the baseline's mean {method} heat maps overlap with an IoU of {number(value)} for "
            f"class {worst} ({among}), {'at least' if passed else 'below'} the required "
            f"{number(rule.min_iou)}{left_out}."
        ),
    )


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.6g}%"


def _class_order(name: str):
    """Classes in numeric order where they are numbers ('2' before '10')."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)
