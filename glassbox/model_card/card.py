"""A model card's content, in the Model Card Toolkit's JSON layout (schema v0.0.2: model_details,
model_parameters, quantitative_analysis, considerations), from plain inputs (no TensorFlow).

The model card toolkit itself is not a dependency (its releases pin old TensorFlow and protobuf);
the field names are those of its schema v0.0.2, so its tools read the JSON. What the schema has no
field for is said in words: the comparison with the baseline in `model_details.version.diff` and
`considerations.tradeoffs`, what the model relies on in `model_details.overview`/`documentation`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, List, Optional, Tuple

from glassbox.errors import GlassboxError
from glassbox.provenance.records import ArtifactRef
from glassbox.provenance.trail import DecisionTrail

SCHEMA_VERSION = "0.0.2"
OVERALL = "Overall"
BASELINE_SUFFIX = " (baseline)"  # performance_metrics type of the baseline's value of a metric
COUNT_METRICS = ("example_count", "weighted_example_count")
# Metrics where lower is better, when no threshold of the validation says which way is better.
LOWER_IS_BETTER = frozenset(
    {
        "loss",
        "mean_squared_error",
        "mean_absolute_error",
        "root_mean_squared_error",
        "mean_squared_logarithmic_error",
        "mean_absolute_percentage_error",
        "expected_calibration_error",
        "log_loss",
        "brier_score",
    }
)
WORST_SLICES = 3
TOP_FEATURES = 5
MAX_TRADEOFFS = 5


class ModelCardError(GlassboxError):
    """A model card cannot be made: e.g. its metric is not in the evaluation."""


@dataclasses.dataclass(frozen=True)
class CardInputs:
    """What a model card is made from.

    candidate/baseline: slice (TFMA's string, the overall slice first) -> metric name -> value,
    as `glassbox.evaluation.writer.headline_metrics` names them; baseline is empty without one.
    withheld: slices without metrics -> why (e.g. too few examples). attributions: feature -> the
    candidate's attribution on the overall slice (empty when the evaluation holds none).
    decision: the Validator's decision.json; trail: the model's decision trail from ML Metadata;
    surrogate_fidelity: the global surrogate's fidelity on the overall slice ({"r2": ...}).
    """

    model: str
    evaluation: str
    candidate: Dict[str, Dict[str, float]]
    baseline: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)
    withheld: Dict[str, str] = dataclasses.field(default_factory=dict)
    attributions: Dict[str, float] = dataclasses.field(default_factory=dict)
    decision: Optional[Dict[str, Any]] = None
    trail: Optional[DecisionTrail] = None
    surrogate_fidelity: Optional[Dict[str, Optional[float]]] = None


def model_card(inputs: CardInputs, metric: Optional[str] = None) -> Dict[str, Any]:
    """The model card, MCT schema v0.0.2. metric: the one worst slices and the comparison are
    judged by (default: the first the validation's checks are about, else the first non-count)."""
    metric, higher_is_better = headline_metric(inputs, metric)
    card = {
        "schema_version": SCHEMA_VERSION,
        "model_details": _model_details(inputs, metric, higher_is_better),
        "model_parameters": _model_parameters(inputs),
        "quantitative_analysis": {"performance_metrics": _performance_metrics(inputs)},
        "considerations": _considerations(inputs, metric, higher_is_better),
    }
    return _without_empty(card)


def headline_metric(inputs: CardInputs, metric: Optional[str] = None) -> Tuple[str, bool]:
    """The metric the card judges by, and whether higher is better for it."""
    available = sorted(
        name for name in inputs.candidate.get(OVERALL, {}) if not name.startswith("diff_")
    )
    checks = (inputs.decision or {}).get("checks", [])
    if metric is None:
        checked = [_metric_name(check) for check in checks]
        metric = next((name for name in checked if name in available), None) or next(
            (name for name in available if name not in COUNT_METRICS), None
        )
    if metric is None or metric not in available:
        raise ModelCardError(
            f"the evaluation {inputs.evaluation} has no metric {metric!r} on the overall slice; "
            f"it has: {', '.join(available) or 'none'}"
        )
    return metric, _higher_is_better(metric, checks)


def _metric_name(check: Dict[str, Any]) -> str:
    """A check's metric name without its details: 'auc (example-weighted)' -> 'auc'."""
    return (check.get("metric") or "").split(" (")[0]


def _higher_is_better(metric: str, checks: List[Dict[str, Any]]) -> bool:
    """As the validation's thresholds say (a direction, or a lone lower or upper bound), else by name."""
    for check in checks:
        threshold = check.get("threshold") or {}
        if _metric_name(check) != metric:
            continue
        if "direction" in threshold:
            return threshold["direction"] != "LOWER_IS_BETTER"
        if ("lower_bound" in threshold) != ("upper_bound" in threshold):
            return "lower_bound" in threshold
    return metric not in LOWER_IS_BETTER


def _model_details(inputs: CardInputs, metric: str, higher_is_better: bool) -> Dict[str, Any]:
    trail = inputs.trail
    return {
        "name": inputs.model,
        "overview": _overview(inputs, metric, higher_is_better),
        "documentation": "\n\n".join(_documentation(inputs)),
        "version": {
            "name": f"{trail.model.label}, pipeline run {trail.run}" if trail else None,
            "date": trail.model.created[:10] if trail else None,
            "diff": _comparison(inputs, metric, higher_is_better),
        },
    }


def _overview(inputs: CardInputs, metric: str, higher_is_better: bool) -> str:
    overall = inputs.candidate[OVERALL]
    count = _count(overall)
    parts = [
        _sentence(_verdict(inputs.decision)) if inputs.decision else "",
        f"{metric} {_number(overall[metric])} overall"
        + (f" on {_number(count)} examples." if count is not None else "."),
    ]
    worst = worst_slices(inputs, metric, higher_is_better)[:1]
    if worst:
        parts.append(f"Weakest slice: {worst[0][0]} ({metric} {_number(worst[0][1])}).")
    if inputs.attributions:
        parts.append(
            "Relies most on " + ", ".join(feature for feature, _ in top_features(inputs)[:3]) + "."
        )
    return " ".join(part for part in parts if part)


def _verdict(decision: Dict[str, Any]) -> str:
    return decision.get("reason") or ("Blessed" if decision.get("blessed") else "Not blessed")


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _documentation(inputs: CardInputs) -> List[str]:
    """Paragraphs: where the model comes from, how it was judged and shipped, what it relies on."""
    trail, decision = inputs.trail, inputs.decision
    paragraphs = []
    if trail:
        evaluation = trail.evaluation
        splits = (
            f", split {', '.join(evaluation.example_splits)}" if evaluation.example_splits else ""
        )
        paragraphs += [
            f"{trail.model.label} ({trail.model.uri}), pipeline {trail.pipeline}, run {trail.run}: trained by "
            f"{trail.training.component} on {_refs(trail.training.examples)}.",
            f"Evaluated in {evaluation.evaluation.label} ({evaluation.evaluation.uri}) on "
            f"{_refs([evaluation.examples])}{splits}.",
        ]
    else:
        paragraphs.append(f"Evaluated in {inputs.evaluation}.")
    if decision:
        checks = decision.get("checks", [])
        paragraphs.append(
            f"Validation ({len(checks)} checks, {sum(not c.get('passed') for c in checks)} failed): "
            + _sentence(_verdict(decision))
        )
    if trail:
        paragraphs.append(_shipping(trail))
    if inputs.attributions:
        paragraphs.append(
            "What the model relies on (share of the total |attribution| on the overall slice): "
            + ", ".join(f"{feature} {share:.0%}" for feature, share in top_features(inputs))
            + "."
        )
    if inputs.surrogate_fidelity:
        paragraphs.append(
            "A global surrogate tree reproduces the model's scores on the overall slice with "
            + ", ".join(
                f"{name} {_number(value)}"
                for name, value in inputs.surrogate_fidelity.items()
                if value is not None
            )
            + "."
        )
    return paragraphs


def _shipping(trail: DecisionTrail) -> str:
    push = trail.push
    if push is None:
        return "Not pushed: no Pusher took the blessing."
    if push.pushed:
        return f"Pushed to {push.destination} ({push.pushed_model.label})."
    return f"Not pushed ({push.pushed_model.label})."


def _refs(refs: List[ArtifactRef]) -> str:
    return ", ".join(f"{ref.label} ({ref.uri})" for ref in refs) or "no recorded examples"


def _comparison(inputs: CardInputs, metric: str, higher_is_better: bool) -> str:
    """How the model compares with the one it replaces (the baseline), and the decision."""
    verdict = f" Decision: {_sentence(_verdict(inputs.decision))}" if inputs.decision else ""
    if not inputs.baseline:
        return "First model: no baseline to compare with." + verdict
    now, before = inputs.candidate[OVERALL][metric], inputs.baseline.get(OVERALL, {}).get(metric)
    compared = [
        (name, value, inputs.baseline[name][metric])
        for name, value in _slice_values(inputs.candidate, metric)
        if name != OVERALL and metric in inputs.baseline.get(name, {})
    ]
    worse = [name for name, value, base in compared if _better(base, value, higher_is_better)]
    overall = (
        f"{metric} {_number(now)} against {_number(before)} overall ({now - before:+.4g})"
        if before is not None
        else f"no overall {metric} of the baseline"
    )
    return (
        f"Replaces {_baseline_name(inputs)}: {overall}; better or equal on {len(compared) - len(worse)} of "
        f"{len(compared)} slices" + (f", worse on {', '.join(worse)}." if worse else ".") + verdict
    )


def _baseline_name(inputs: CardInputs) -> str:
    if inputs.trail and inputs.trail.baseline_model:
        return f"{inputs.trail.baseline_model.label} ({inputs.trail.baseline_model.uri})"
    baseline = (inputs.decision or {}).get("baseline") or {}
    return f"the baseline {baseline.get('uri') or ''}".strip()


def _model_parameters(inputs: CardInputs) -> Dict[str, Any]:
    """The trainer and its parameters, the training data and the evaluation data (what the trail knows)."""
    count = _count(inputs.candidate[OVERALL])
    counted = [f"{_number(count)} examples"] if count is not None else []
    trail = inputs.trail
    if not trail:
        return {"data": [{"name": "evaluation data", "description": ", ".join(counted)}]}
    training, examples, splits = (
        trail.training,
        trail.evaluation.examples,
        trail.evaluation.example_splits,
    )
    return {
        "model_architecture": f"{training.component}: "
        + ", ".join(f"{name}={value}" for name, value in training.parameters.items()),
        "data": [
            {
                "name": f"training data: {e.label}",
                "description": f"{e.uri}, the input of {training.component}",
            }
            for e in training.examples
        ]
        + [
            {
                "name": f"evaluation data: {examples.label}",
                "description": ", ".join(
                    [examples.uri] + ([f"split {', '.join(splits)}"] if splits else []) + counted
                ),
            }
        ],
    }


def _performance_metrics(inputs: CardInputs) -> List[Dict[str, Any]]:
    """Every metric of the candidate on every slice, then the baseline's (type suffixed ' (baseline)')."""
    return [
        {"type": name + suffix, "value": value, "slice": slice_name}
        for values, suffix in ((inputs.candidate, ""), (inputs.baseline, BASELINE_SUFFIX))
        for slice_name, metrics in values.items()
        for name, value in sorted(metrics.items())
        if not name.startswith("diff_") and math.isfinite(value)
    ]


def _considerations(inputs: CardInputs, metric: str, higher_is_better: bool) -> Dict[str, Any]:
    return {
        "limitations": [
            {"description": text} for text in _limitations(inputs, metric, higher_is_better)
        ],
        "tradeoffs": [
            {"description": text} for text in _tradeoffs(inputs, metric, higher_is_better)
        ],
    }


def _limitations(inputs: CardInputs, metric: str, higher_is_better: bool) -> List[str]:
    """The worst slices (worse than overall), slices without metrics, and failed checks."""
    overall = inputs.candidate[OVERALL][metric]
    texts = [
        f"On {name}{_examples(inputs, name)}, {metric} is {_number(value)}, "
        f"{abs(value - overall):.4g} {'below' if value < overall else 'above'} the overall {_number(overall)}."
        for name, value in worst_slices(inputs, metric, higher_is_better)
        if _better(overall, value, higher_is_better)
    ][:WORST_SLICES]
    texts += [f"No metrics on {name}: {reason}" for name, reason in inputs.withheld.items()]
    texts += [
        f"Failed check: {check['sentence']}"
        for check in (inputs.decision or {}).get("checks", [])
        if not check.get("passed")
    ]
    return texts


def _tradeoffs(inputs: CardInputs, metric: str, higher_is_better: bool) -> List[str]:
    """Slices where the baseline, the model this one replaces, does better."""
    worse = [
        (name, value, inputs.baseline[name][metric])
        for name, value in _slice_values(inputs.candidate, metric)
        if metric in inputs.baseline.get(name, {})
        and _better(inputs.baseline[name][metric], value, higher_is_better)
    ]
    worse.sort(key=lambda item: abs(item[1] - item[2]), reverse=True)
    texts = [
        f"On {name}{_examples(inputs, name)}, {metric} is {_number(value)}, worse than the baseline's "
        f"{_number(base)} ({value - base:+.4g})."
        for name, value, base in worse[:MAX_TRADEOFFS]
    ]
    if len(worse) > MAX_TRADEOFFS:
        texts.append(
            f"Worse than the baseline on {len(worse) - MAX_TRADEOFFS} more slices: "
            + ", ".join(name for name, _, _ in worse[MAX_TRADEOFFS:])
            + "."
        )
    return texts


def worst_slices(
    inputs: CardInputs, metric: str, higher_is_better: bool
) -> List[Tuple[str, float]]:
    """The slices (not the overall one) having metric, worst first."""
    return sorted(
        (
            (name, value)
            for name, value in _slice_values(inputs.candidate, metric)
            if name != OVERALL
        ),
        key=lambda item: item[1],
        reverse=not higher_is_better,
    )


def top_features(inputs: CardInputs) -> List[Tuple[str, float]]:
    """The features with the largest |attribution|, and their shares of the total."""
    total = sum(abs(value) for value in inputs.attributions.values())
    ranked = sorted(inputs.attributions.items(), key=lambda item: abs(item[1]), reverse=True)
    return [
        (feature, abs(value) / total if total else 0.0) for feature, value in ranked[:TOP_FEATURES]
    ]


def _slice_values(values: Dict[str, Dict[str, float]], metric: str) -> List[Tuple[str, float]]:
    return [(name, metrics[metric]) for name, metrics in values.items() if metric in metrics]


def _better(a: float, b: float, higher_is_better: bool) -> bool:
    """Whether a is strictly better than b."""
    return a > b if higher_is_better else a < b


def _examples(inputs: CardInputs, slice_name: str) -> str:
    count = _count(inputs.candidate.get(slice_name, {}))
    return f" ({_number(count)} examples)" if count is not None else ""


def _count(metrics: Dict[str, float]) -> Optional[float]:
    """A slice's example count (unweighted if the evaluation has it)."""
    return next((metrics[name] for name in COUNT_METRICS if name in metrics), None)


def _number(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _without_empty(value: Any) -> Any:
    """value without None, empty strings, lists and objects (every MCT field is optional)."""
    if isinstance(value, dict):
        kept = {key: _without_empty(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [_without_empty(item) for item in value]
    return value
