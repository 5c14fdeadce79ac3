"""Attribution gates (ValidatorConfig.attribution_gates): bounds on the candidate's feature attributions.

A gate reads TFMA's attributions of the evaluation (the glassbox Evaluator writes the mean
|attribution| per slice of the candidate and the baseline when given an ExplainConfig; stock TFMA's
MeanAbsoluteAttributions and TotalAbsoluteAttributions are read too). Without attributions for a
slice, a gate on it fails closed with the reason.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from tensorflow_model_analysis.metrics import attributions as tfma_attributions
from tensorflow_model_analysis.proto import config_pb2

from glassbox.explain import shift
from glassbox.protos import validator_config_pb2 as vc
from glassbox.validation import checks as checks_lib
from glassbox.validation import slices
from glassbox.validation.checks import Check, number
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation, SliceAttributions, slice_label

# Rules that compare the candidate's attributions with the baseline's: skipped without a baseline.
_COMPARATIVE = {"top_k_overlap", "max_shift"}
_ABSOLUTE_ATTRIBUTIONS = (
    tfma_attributions.MEAN_ABSOLUTE_ATTRIBUTIONS_NAME,
    tfma_attributions.TOTAL_ABSOLUTE_ATTRIBUTIONS_NAME,
)


def check_gate(gate: vc.AttributionGate, path: str) -> None:
    """Refuses a gate no attributions could satisfy; path is "ValidatorConfig field 'attribution_gates[i]"."""
    rule = gate.WhichOneof("rule")
    if rule is None:
        raise ValidatorConfigError(
            f"{path}' sets no rule: set max_feature_share, top_k_overlap or max_shift"
        )
    if rule == "max_feature_share":
        if not gate.max_feature_share.feature:
            raise ValidatorConfigError(
                f"{path}.max_feature_share.feature' is empty: name a feature"
            )
        _check_fraction(gate.max_feature_share.max_share, f"{path}.max_feature_share.max_share'")
    elif rule == "top_k_overlap":
        k, overlap = gate.top_k_overlap.k, gate.top_k_overlap.min_overlap
        if k < 1 or not 0 < overlap <= k:
            raise ValidatorConfigError(
                f"{path}.top_k_overlap' needs k >= 1 and 0 < min_overlap <= k, "
                f"got k={k}, min_overlap={overlap}"
            )
    else:
        _check_fraction(gate.max_shift.max_shift, f"{path}.max_shift.max_shift'")


def _check_fraction(value: float, field: str) -> None:
    if not 0 <= value <= 1:
        raise ValidatorConfigError(f"{field} must be in [0, 1], got {value}")


def describe(gate: vc.AttributionGate) -> str:
    rule = gate.WhichOneof("rule")
    if rule == "max_feature_share":
        share = gate.max_feature_share
        return f"the share of |attribution| of {share.feature} <= {number(share.max_share)}"
    if rule == "top_k_overlap":
        return (
            f"at least {gate.top_k_overlap.min_overlap} of the top {gate.top_k_overlap.k} attributed features "
            "shared with the baseline"
        )
    return f"an attribution shift from the baseline <= {number(gate.max_shift.max_shift)}"


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
    result = []
    for slice_metrics in matched:
        label = slice_label(slice_metrics.slice_key)
        slice_check = dataclasses.replace(check, slice_key=slice_metrics.slice_key, slice=label)
        attributions = evaluation.attributions.get(slice_metrics.slice_key)
        if not attributions:
            held = f" for {label}" if evaluation.attributions else ""
            result.append(
                dataclasses.replace(
                    slice_check,
                    sentence=(
                        f"The attribution gate ({describe(gate)}) on {label} cannot be checked: "
                        f"the evaluation holds no attributions{held}."
                    ),
                )
            )
        else:
            result.append(
                evaluate_gate(
                    slice_check,
                    gate,
                    attributions,
                    evaluation.candidate_name,
                    evaluation.baseline_name if has_baseline else None,
                )
            )
    return result


def model_attributions(
    attributions: SliceAttributions, model_name: str
) -> Optional[Dict[str, float]]:
    """A model's mean |attribution| per feature on a slice (TFMA's mean_absolute_attributions, else
    its total_absolute_attributions: the shares are the same), unweighted first; None if absent."""
    for name in _ABSOLUTE_ATTRIBUTIONS:
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
    attributions: SliceAttributions,
    candidate_name: str,
    baseline_name: Optional[str],
) -> Check:
    """The gate applied to one slice's attributions of the candidate and, when given, the baseline.

    A feature's share is its mean |attribution| over the total of all features (see
    glassbox.explain.shift, which also defines the shift and the top-k overlap).
    """
    rule = gate.WhichOneof("rule")
    where = check.slice
    candidate = model_attributions(attributions, candidate_name)
    baseline = (
        model_attributions(attributions, baseline_name) if baseline_name is not None else None
    )
    missing = (
        "the candidate"
        if candidate is None
        else "the baseline"
        if baseline is None and (rule in _COMPARATIVE)
        else None
    )
    if missing:
        return dataclasses.replace(
            check,
            sentence=(
                f"The attribution gate ({describe(gate)}) on {where} cannot be checked: the evaluation holds no mean "
                f"|attribution| of {missing} model there."
            ),
        )
    if rule == "max_feature_share":
        return _feature_share_check(check, gate.max_feature_share, candidate, baseline)
    if rule == "top_k_overlap":
        k, least = gate.top_k_overlap.k, gate.top_k_overlap.min_overlap
        overlap = shift.top_k_overlap(candidate, baseline, k)
        passed = overlap >= least
        return dataclasses.replace(
            check,
            passed=passed,
            metric=f"top-{k} overlap",
            value=float(overlap),
            sentence=(
                f"{overlap} of the candidate's top {k} attributed features on {where} "
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
    return dataclasses.replace(
        check,
        passed=passed,
        metric="attribution shift",
        value=value,
        sentence=(
            f"The attribution shift from the baseline on {where} is {number(value)} (half the L1 distance between the "
            f"models' shares of |attribution|), {'within' if passed else 'beyond'} the allowed "
            f"{number(gate.max_shift.max_shift)}; the largest change is {changed}'s share, "
            f"{number(b.get(changed, 0.0))} for the baseline and {number(a.get(changed, 0.0))} for the candidate."
        ),
    )


def _feature_share_check(
    check: Check,
    rule: vc.FeatureShare,
    candidate: Dict[str, float],
    baseline: Optional[Dict[str, float]],
) -> Check:
    where, feature = check.slice, rule.feature
    metric = f"share of |attribution| of {feature}"
    if feature not in candidate:
        return dataclasses.replace(
            check,
            metric=metric,
            sentence=(
                f"{feature} is not among the features attributed on {where} "
                f"({_listed(sorted(candidate))}), so its share of |attribution| cannot be checked "
                f"against {number(rule.max_share)}."
            ),
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
            f"{feature}'s share of the total |attribution| on {where} is {number(share)} "
            f"({number(abs(candidate[feature]))} of {number(total)}), {'within' if passed else 'above'} the allowed "
            f"{number(rule.max_share)}{against}."
        ),
    )
