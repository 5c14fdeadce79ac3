"""The Validator's decision: `validate`, once the evaluation is known to be of the models given.

Our Evaluator records on its ModelEvaluation which models it evaluated (their artifacts' uri and
MLMD id). An evaluation of another candidate, or against another baseline than the one the
Validator is given, is refused without checking its metrics. Evaluations without the record
(stock TFMA's) are validated with that check skipped, and the decision says so.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from tensorflow_model_analysis.proto import config_pb2
from tfx import types

from glassbox.components.evaluator import constants as evaluator_constants
from glassbox.protos import validator_config_pb2
from glassbox.validation.checks import Check
from glassbox.validation.decision import Decision, ModelRef, decide, reason
from glassbox.validation.reader import slice_label
from glassbox.validation.result import validation_result
from glassbox.validation.validate import validate

EVALUATED_MODELS = "evaluated_models"


@dataclasses.dataclass(frozen=True)
class EvaluatedModels:
    """The models an evaluation was computed on, as the glassbox Evaluator records them."""

    candidate: ModelRef
    baseline: Optional[ModelRef]

    @classmethod
    def recorded_on(cls, evaluation: types.Artifact) -> Optional["EvaluatedModels"]:
        """The record in the ModelEvaluation's custom properties; None when it has none (TFMA's)."""

        def ref(uri_key: str, id_key: str) -> Optional[ModelRef]:
            if not evaluation.has_custom_property(uri_key):
                return None
            return ModelRef(
                name="",
                uri=evaluation.get_string_custom_property(uri_key),
                id=evaluation.get_int_custom_property(id_key),
            )

        candidate = ref(
            evaluator_constants.CANDIDATE_MODEL_URI_PROPERTY,
            evaluator_constants.CANDIDATE_MODEL_ID_PROPERTY,
        )
        if candidate is None:
            return None
        return cls(
            candidate=candidate,
            baseline=ref(
                evaluator_constants.BASELINE_MODEL_URI_PROPERTY,
                evaluator_constants.BASELINE_MODEL_ID_PROPERTY,
            ),
        )


def model_ref(model: Optional[types.Artifact]) -> Optional[ModelRef]:
    """A Model artifact as the decision describes it (its name in the evaluation comes later)."""
    return None if model is None else ModelRef(name="", uri=model.uri, id=model.id)


def evaluated_models_check(
    evaluated: Optional[EvaluatedModels], candidate: ModelRef, baseline: Optional[ModelRef]
) -> Check:
    """Passes when the evaluation is of candidate and of baseline (or of no baseline, given none);
    skipped when the evaluation records no models."""
    if evaluated is None:
        return _check(
            True,
            "The evaluation does not record which models it evaluated (it was not made by the "
            f"glassbox Evaluator): not checked that it is of the candidate, {_describe(candidate)}.",
            skipped=True,
        )
    if not _same(evaluated.candidate, candidate):
        return _check(
            False,
            f"The evaluation is of {_describe(evaluated.candidate)}, "
            f"not of the candidate, {_describe(candidate)}.",
        )
    if not _same(evaluated.baseline, baseline):
        against = (
            f"against {_describe(evaluated.baseline)}"
            if evaluated.baseline
            else "without a baseline"
        )
        given = f"the baseline {_describe(baseline)}" if baseline else "no baseline"
        return _check(
            False, f"The evaluation was computed {against}, but the Validator was given {given}."
        )
    against = (
        f"against the baseline, {_describe(baseline)}"
        if baseline
        else "without a baseline, as none was given"
    )
    return _check(True, f"The evaluation is of the candidate, {_describe(candidate)}, {against}.")


def validate_models(
    evaluation_dir: str,
    evaluated: Optional[EvaluatedModels],
    candidate: ModelRef,
    baseline: Optional[ModelRef],
    config: Optional[validator_config_pb2.ValidatorConfig] = None,
    eval_config: Optional[config_pb2.EvalConfig] = None,
) -> Decision:
    """The decision on candidate: refused if the evaluation is of other models, else `validate`'s,
    with the evaluated-models check first and the models' artifacts (uri, id) filled in.

    Raises:
      ValidationError: as `validate` does.
    """
    check = evaluated_models_check(evaluated, candidate, baseline)
    if not check.passed:
        checks = [check]
        return decide(
            checks,
            evaluation_dir,
            candidate,
            baseline,
            validation_result(checks, rubber_stamp=baseline is None, missing_thresholds=False),
        )
    decision = validate(evaluation_dir, config, eval_config, has_baseline=baseline is not None)
    checks = [check] + decision.checks
    return dataclasses.replace(
        decision,
        checks=checks,
        # Nothing configured to check (and allowed): the engine's reason says so; keep it.
        reason=decision.reason
        if decision.validation_result.missing_thresholds
        else reason(checks, decision.rubber_stamp),
        candidate=dataclasses.replace(candidate, name=decision.candidate.name),
        baseline=dataclasses.replace(baseline, name=decision.baseline.name) if baseline else None,
    )


def _same(recorded: Optional[ModelRef], given: Optional[ModelRef]) -> bool:
    if recorded is None or given is None:
        return recorded is given
    return (recorded.uri, recorded.id) == (given.uri, given.id)


def _describe(model: ModelRef) -> str:
    return f"model {model.id} ({model.uri})"


def _check(passed: bool, sentence: str, skipped: bool = False) -> Check:
    # On the overall slice, so that a failure has a place in TFMA's ValidationResult.
    return Check(
        kind=EVALUATED_MODELS,
        passed=passed,
        slice=slice_label(()),
        metric="",
        value=None,
        baseline_value=None,
        threshold={},
        sentence=sentence,
        skipped=skipped,
        slice_key=(),
    )
