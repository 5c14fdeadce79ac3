"""Attribution gates (ValidatorConfig.attribution_gates): bounds on the candidate's feature attributions.

Evaluating a gate against attributions is `evaluate_gate`, the one function to fill in when the
evaluation writes attributions; until then a gate fails closed with the reason.
"""

from __future__ import annotations

import dataclasses

from tensorflow_model_analysis.proto import config_pb2

from glassbox.protos import validator_config_pb2 as vc
from glassbox.validation import checks as checks_lib
from glassbox.validation import slices
from glassbox.validation.checks import Check, number
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation, SliceAttributions

# Rules that compare the candidate's attributions with the baseline's: skipped without a baseline.
_COMPARATIVE = {"top_k_overlap", "max_shift"}


def check_gate(gate: vc.AttributionGate, path: str) -> None:
    """Refuses a gate no attributions could satisfy; path is "ValidatorConfig field 'attribution_gates[i]"."""
    rule = gate.WhichOneof("rule")
    if rule is None:
        raise ValidatorConfigError(f"{path}' sets no rule: set max_feature_share, top_k_overlap or max_shift")
    if rule == "max_feature_share":
        if not gate.max_feature_share.feature:
            raise ValidatorConfigError(f"{path}.max_feature_share.feature' is empty: name a feature")
        _check_fraction(gate.max_feature_share.max_share, f"{path}.max_feature_share.max_share'")
    elif rule == "top_k_overlap":
        k, overlap = gate.top_k_overlap.k, gate.top_k_overlap.min_overlap
        if k < 1 or not 0 < overlap <= k:
            raise ValidatorConfigError(f"{path}.top_k_overlap' needs k >= 1 and 0 < min_overlap <= k, "
                                       f"got k={k}, min_overlap={overlap}")
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
        return (f"at least {gate.top_k_overlap.min_overlap} of the top {gate.top_k_overlap.k} attributed features "
                "shared with the baseline")
    return f"an attribution shift from the baseline <= {number(gate.max_shift.max_shift)}"


def attribution_check(evaluation: Evaluation, gate: vc.AttributionGate, has_baseline: bool) -> Check:
    spec = slices.tfma_spec(gate.slicing_spec) if gate.HasField("slicing_spec") else config_pb2.SlicingSpec()
    where = slices.spec_label(spec)
    check = Check(kind=checks_lib.ATTRIBUTION, passed=False, slice=where, metric="attributions", value=None,
                  baseline_value=None, threshold=checks_lib.threshold_json(gate), sentence="", slicing_spec=spec)
    if gate.WhichOneof("rule") in _COMPARATIVE and not has_baseline:
        return dataclasses.replace(check, passed=True, skipped=True, sentence=(
            f"The attribution gate ({describe(gate)}) on {where} is skipped: there is no baseline model to compare "
            "with (first model, rubber stamp)."))
    matched = slices.matching(evaluation, spec)
    if not matched:
        return dataclasses.replace(check, kind=checks_lib.MISSING_SLICE, sentence=(
            f"No slice of the evaluation matches {where}, so the attribution gate ({describe(gate)}) cannot be "
            "checked."))
    check = dataclasses.replace(check, slice_key=matched[0].slice_key)
    attributions = evaluation.attributions.get(matched[0].slice_key)
    if not attributions:
        held = f" for {where}" if evaluation.attributions else ""
        return dataclasses.replace(check, sentence=(
            f"The attribution gate ({describe(gate)}) on {where} cannot be checked: the evaluation holds no "
            f"attributions{held}."))
    return evaluate_gate(check, gate, attributions)


def evaluate_gate(check: Check, gate: vc.AttributionGate, attributions: SliceAttributions) -> Check:
    """The gate applied to one slice's attributions (of the candidate and, when present, the baseline)."""
    return dataclasses.replace(check, sentence=(
        f"The attribution gate ({describe(gate)}) on {check.slice} is not evaluated by this version of glassbox, "
        "so it cannot pass."))
