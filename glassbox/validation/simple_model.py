"""Simpler-model gates (ValidatorConfig.simple_model_gates): the candidate beats the simple
interpretable models of the evaluation's simple_model.json by at least a margin of their common
metric on the held-out examples. Without the file or a named model, a gate fails closed."""

from __future__ import annotations

import dataclasses
import math
from typing import List

from tensorflow_model_analysis.proto import config_pb2

from glassbox.protos import validator_config_pb2 as vc
from glassbox.simple_model.compare import MODELS
from glassbox.validation import checks as checks_lib
from glassbox.validation.checks import Check, number, rounding_tolerance
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.reader import Evaluation

_METRICS = {"auc": "AUC", "accuracy": "accuracy", "log_loss": "log loss", "rmse": "RMSE"}
_MODELS = {
    "logistic_regression": "logistic regression",
    "linear_regression": "linear regression",
    "decision_tree": "the decision tree",
}


def check_gate(gate: vc.SimpleModelGate, path: str) -> None:
    """Refuses a malformed gate; path is "ValidatorConfig field 'simple_model_gates[i]"."""
    if not gate.min_margin >= 0 or math.isinf(gate.min_margin):
        raise ValidatorConfigError(
            f"{path}.min_margin' must be a finite number >= 0, got {gate.min_margin}"
        )
    for i, model in enumerate(gate.models):
        if model not in MODELS:
            raise ValidatorConfigError(
                f"{path}.models[{i}]' is {model!r}, not one of {', '.join(MODELS)}"
            )


def describe(gate: vc.SimpleModelGate) -> str:
    against = ", ".join(_MODELS[m] for m in gate.models) if gate.models else "every simple model"
    return f"the candidate beats {against} by at least {number(gate.min_margin)}"


def simple_model_checks(evaluation: Evaluation, gate: vc.SimpleModelGate) -> List[Check]:
    """One check per simple model compared with (every one of simple_model.json, or those named)."""
    base = Check(
        kind=checks_lib.SIMPLE_MODEL,
        passed=False,
        slice="Overall",
        metric="",
        value=None,
        baseline_value=None,
        threshold=checks_lib.threshold_json(gate),
        sentence="",
        slice_key=(),
        slicing_spec=config_pb2.SlicingSpec(),
    )
    comparison = evaluation.simple_model
    if comparison is None:
        return [
            dataclasses.replace(
                base,
                sentence=(
                    f"The simpler-model gate ({describe(gate)}) cannot be checked: the evaluation "
                    "holds no simple_model.json (evaluate with a SimpleModelConfig)."
                ),
            )
        ]
    by_name = {m["name"]: m for m in comparison["models"]}
    names = list(gate.models) or list(by_name)
    return [_check(base, gate, comparison, name, by_name.get(name)) for name in names]


def _check(base: Check, gate: vc.SimpleModelGate, comparison: dict, name: str, model) -> Check:
    metric = comparison["metric"]
    shown = _METRICS.get(metric, metric.upper())
    check = dataclasses.replace(base, metric=f"{metric} vs {name}")
    if model is None:
        return dataclasses.replace(
            check,
            sentence=(
                f"The simpler-model gate ({describe(gate)}) cannot be checked: the evaluation's "
                f"simple_model.json holds no {_MODELS.get(name, name)} (it holds "
                f"{', '.join(m['name'] for m in comparison['models']) or 'none'})."
            ),
        )
    candidate, simple, lead = (
        comparison["candidate"]["score"],
        model["score"],
        model["candidate_lead"],
    )
    passed = lead >= gate.min_margin - rounding_tolerance(candidate, simple, gate.min_margin)
    theirs = f"{_MODELS[name]}'s {number(simple)}"
    required = f"the required margin {number(gate.min_margin)}"
    if lead > 0:
        outcome = (
            f"beats {theirs} by {number(lead)}, {'at least' if passed else 'less than'} {required}"
        )
    elif passed:
        outcome = f"equals {theirs}, as {required} allows"
    else:
        worse = f" (it is {number(-lead)} worse)" if lead < 0 else ""
        outcome = f"does not beat {theirs}{worse}; {required} is not met"
    return dataclasses.replace(
        check,
        passed=passed,
        value=candidate,
        baseline_value=simple,
        sentence=(
            f"The candidate's {shown} {number(candidate)} {outcome} (on "
            f"{comparison['held_out_examples']} held-out examples)."
        ),
    )
