"""Drift gates (ValidatorConfig.drift_gates): bounds on how far each selected slice's features, or
the candidate's predictions, have drifted from the evaluation's reference (its drift.json).

Without drift.json, without the slice, the feature or the distance, a gate fails closed with the
reason.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List

from tensorflow_model_analysis.proto import config_pb2

from glassbox.drift.distances import HISTOGRAM_DISTANCES, NUMERIC_DISTANCES
from glassbox.drift.reading import metric_name
from glassbox.protos import validator_config_pb2 as vc
from glassbox.validation import checks as checks_lib
from glassbox.validation import slices
from glassbox.validation.checks import Check, number
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation

DISTANCES = HISTOGRAM_DISTANCES + NUMERIC_DISTANCES
_NAMES = {
    "psi": "population stability index",
    "jensen_shannon": "Jensen-Shannon divergence",
    "l_infinity": "L-infinity distance",
    "wasserstein": "Wasserstein distance",
    "kolmogorov_smirnov": "Kolmogorov-Smirnov statistic",
}


def check_gate(gate: vc.DriftGate, path: str) -> None:
    """Refuses a malformed gate; path is "ValidatorConfig field 'drift_gates[i]"."""
    if gate.distance not in DISTANCES:
        raise ValidatorConfigError(
            f"{path}.distance' is {gate.distance!r}, not one of {', '.join(DISTANCES)}"
        )
    if not gate.max_distance >= 0 or math.isinf(gate.max_distance):
        raise ValidatorConfigError(
            f"{path}.max_distance' must be a finite number >= 0, got {gate.max_distance}"
        )
    if gate.predictions and gate.features:
        raise ValidatorConfigError(
            f"{path}.features' must be empty when predictions is set (a gate bounds either "
            "features or the predictions)"
        )
    if any(not f for f in gate.features):
        raise ValidatorConfigError(f"{path}.features' holds an empty name")


def _what(gate: vc.DriftGate) -> str:
    if gate.predictions:
        return "the predictions"
    return ", ".join(gate.features) if gate.features else "every feature"


def describe(gate: vc.DriftGate) -> str:
    return f"{_NAMES[gate.distance]} of {_what(gate)} <= {number(gate.max_distance)}"


def drift_checks(evaluation: Evaluation, gate: vc.DriftGate) -> List[Check]:
    """One check per selected slice and bounded feature (or prediction)."""
    specs = [slices.tfma_spec(s) for s in gate.slicing_specs] or [config_pb2.SlicingSpec()]
    base = Check(
        kind=checks_lib.DRIFT,
        passed=False,
        slice="",
        metric=gate.distance,
        value=None,
        baseline_value=None,
        threshold=checks_lib.threshold_json(gate),
        sentence="",
    )
    drift = evaluation.drift
    if drift is None:
        return [
            dataclasses.replace(
                base,
                slice=", ".join(slices.spec_label(spec) for spec in specs),
                slice_key=(),
                slicing_spec=specs[0],
                sentence=(
                    f"The drift gate ({describe(gate)}) cannot be checked: the evaluation holds "
                    "no drift from a reference (evaluate with a DriftConfig and a drift reference)."
                ),
            )
        ]
    result = []
    for spec in specs:
        applies = slices.applies_to(spec)
        matched = [s for s in drift["slices"] if applies(tuple(tuple(p) for p in s["slice"]))]
        if not matched:
            result.append(
                dataclasses.replace(
                    base,
                    kind=checks_lib.MISSING_SLICE,
                    slice=slices.spec_label(spec),
                    slicing_spec=spec,
                    sentence=(
                        f"No slice of the evaluation's drift matches {slices.spec_label(spec)}, "
                        f"so the drift gate ({describe(gate)}) cannot be checked."
                    ),
                )
            )
        for drift_slice in matched:
            slice_check = dataclasses.replace(
                base,
                slice=drift_slice["slice_name"],
                slice_key=tuple(tuple(pair) for pair in drift_slice["slice"]),
                slicing_spec=spec,
            )
            result += _slice_checks(slice_check, gate, drift_slice, drift["reference"])
    return result


def _slice_checks(
    check: Check, gate: vc.DriftGate, drift_slice: dict, reference: str
) -> List[Check]:
    where = check.slice
    entries = drift_slice["predictions" if gate.predictions else "features"]
    by_name = {e["name"]: e for e in entries}
    if gate.features:
        chosen = [(name, by_name.get(name)) for name in gate.features]
    else:
        chosen = [
            (e["name"], e)
            for e in entries
            if "error" in e or gate.distance in e or e["kind"] == "numeric"
        ]
    if not chosen:
        return [
            dataclasses.replace(
                check,
                sentence=(
                    f"The drift gate ({describe(gate)}) on {where} cannot be checked: no "
                    f"{'prediction' if gate.predictions else 'feature'} there has a "
                    f"{_NAMES[gate.distance]}."
                ),
            )
        ]
    return [_entry_check(check, gate, name, entry, where, reference) for name, entry in chosen]


def _entry_check(check, gate, name, entry, where, reference) -> Check:
    distance = _NAMES[gate.distance]
    check = dataclasses.replace(check, metric=metric_name(gate.distance, name))
    if entry is None:
        reason = f"the evaluation's drift holds no feature {name} there"
    elif "error" in entry:
        reason = f"{name} cannot be compared with the reference: {entry['error']}"
    elif gate.distance not in entry:
        reason = f"{name} is {entry['kind']}, and has no {distance}"
    else:
        value = entry[gate.distance]
        passed = value <= gate.max_distance + checks_lib.rounding_tolerance(
            value, gate.max_distance
        )
        return dataclasses.replace(
            check,
            passed=passed,
            value=value,
            sentence=(
                f"The {distance} of {name} on {where} from the reference ({reference}) is "
                f"{number(value)}, {'within' if passed else 'beyond'} the allowed "
                f"{number(gate.max_distance)}."
            ),
        )
    return dataclasses.replace(
        check,
        sentence=f"The drift gate ({describe(gate)}) on {where} cannot be checked: {reason}.",
    )
