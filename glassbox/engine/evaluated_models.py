"""The check that an evaluation is of the models a validation is given.

The glassbox Evaluator records on its ModelEvaluation which models it evaluated (their artifacts'
URI and, when known, MLMD id; `Models.properties`); ids are compared where both are known (the
CLI and native KFP components know none). An evaluation of another candidate, or against
another baseline than the one the validation is given, is refused without checking its metrics.
Evaluations without the record (stock TFMA's) are validated with that check skipped, and the
decision says so.
"""

from __future__ import annotations

from typing import Optional

from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.validation.checks import Check
from glassbox.validation.reader import slice_label

EVALUATED_MODELS = "evaluated_models"


def evaluated_models_check(evaluated: Optional[Models], given: Models) -> Check:
    """Passes when the evaluation is of the given candidate and of its baseline (or of no
    baseline, given none); skipped when the evaluation records no models."""
    candidate, baseline = given.candidate, given.baseline
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
        given_baseline = f"the baseline {_describe(baseline)}" if baseline else "no baseline"
        return _check(
            False,
            f"The evaluation was computed {against}, but the Validator was given {given_baseline}.",
        )
    against = (
        f"against the baseline, {_describe(baseline)}"
        if baseline
        else "without a baseline, as none was given"
    )
    return _check(True, f"The evaluation is of the candidate, {_describe(candidate)}, {against}.")


def _same(recorded: Optional[ModelArtifact], given: Optional[ModelArtifact]) -> bool:
    """Same artifact: the same URI and, where both ids are known, the same ML Metadata id."""
    if recorded is None or given is None:
        return recorded is given
    ids = (recorded.id, given.id)
    return recorded.uri == given.uri and (None in ids or ids[0] == ids[1])


def _describe(model: ModelArtifact) -> str:
    return f"model {model.id} ({model.uri})" if model.id is not None else f"the model {model.uri}"


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
