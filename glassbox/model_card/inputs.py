"""Reading what a model card is made from: an evaluation directory (metrics, attributions, the
global surrogate), a validation directory's decision.json and, from ML Metadata, a decision trail."""

from __future__ import annotations

from typing import Dict, Optional

from glassbox.model_card.card import OVERALL, CardInputs
from glassbox.provenance.trail import DecisionTrail


def load_inputs(
    evaluation_dir: str, validation_dir: Optional[str] = None, trail: Optional[DecisionTrail] = None
) -> CardInputs:
    """The card's inputs from artifact directories (and the model's trail, when known)."""
    from glassbox.report.load import load_surrogate
    from glassbox.tfma_keys import headline_metrics
    from glassbox.validation.decision_file import load_decision
    from glassbox.validation.reader import read_evaluation, slice_label

    evaluation = read_evaluation(evaluation_dir)

    def by_slice(model_name: str) -> Dict[str, Dict[str, float]]:
        return {
            slice_label(key): headline_metrics(
                ((k, m.value) for k, m in metrics.metrics.items()), model_name
            )
            for key, metrics in evaluation.slices.items()
            if not metrics.error
        }

    candidate = evaluation.candidate_name
    overall_attributions = evaluation.attributions.get((), {})
    attribution_keys = sorted(
        (key for key in overall_attributions if key.model_name == candidate), key=str
    )
    surrogate = load_surrogate(evaluation_dir)
    return CardInputs(
        model=f"{trail.pipeline}: {trail.model.label}"
        if trail
        else evaluation.model_locations.get(candidate, candidate),
        evaluation=evaluation_dir,
        candidate=by_slice(candidate),
        baseline=by_slice(evaluation.baseline_name) if evaluation.baseline_name is not None else {},
        withheld={
            slice_label(key): metrics.error
            for key, metrics in evaluation.slices.items()
            if metrics.error
        },
        attributions=overall_attributions[attribution_keys[0]] if attribution_keys else {},
        decision=load_decision(validation_dir) if validation_dir else None,
        trail=trail,
        surrogate_fidelity=surrogate.fidelity.get(OVERALL) if surrogate else None,
    )


def trail_inputs(trail: DecisionTrail) -> CardInputs:
    """The card's inputs of a model found in ML Metadata: its evaluation, validation and trail."""
    result = trail.validation.result
    return load_inputs(trail.evaluation.evaluation.uri, result.uri if result else None, trail)
