"""Histories and decision trails as plain text, for the terminal."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from glassbox.provenance.history import History, HistoryPoint
from glassbox.provenance.records import ArtifactRef
from glassbox.provenance.trail import DecisionTrail

_INDENT = " " * 12


def format_history(history: History) -> str:
    """A table of the history, oldest first (by span when history.by_span), one evaluation per row."""
    header = [
        "Span",
        "Run",
        "Evaluation",
        "Model",
        "Baseline",
        "Examples",
        history.metric,
        "Verdict",
    ]
    rows = [
        [
            "-" if point.span is None else str(point.span),
            point.run or ("monitor" if point.monitored else "-"),
            str(point.evaluation.id),
            str(point.model.id),
            str(point.baseline_model.id) if point.baseline_model else "-",
            str(point.examples.id),
            "-" if point.value is None else f"{point.value:.6g}",
            _verdict(point),
        ]
        for point in history.points
    ]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header) - 1)]
    lines = [
        f"{history.metric} on {history.slice}, pipeline {history.pipeline} ({history.store}), "
        f"{'by data span, ' if history.by_span else ''}oldest first (ids of ML Metadata artifacts):"
    ]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
        for row in [header] + rows
    ]
    return "\n".join(lines)


def _verdict(point: HistoryPoint) -> str:
    if point.blessed is None:
        return "no verdict recorded"
    return point.reason or ("Blessed" if point.blessed else "Not blessed")


def format_trail(trail: DecisionTrail) -> str:
    """The trail, step by step: model, training, evaluation, baseline, validation, push, the
    overrides of the model."""
    training, evaluation, validation = trail.training, trail.evaluation, trail.validation
    lines = [
        f"Decision trail of {trail.model.label} (pipeline {trail.pipeline or '-'}, run {trail.run or '-'}, "
        f"{trail.store})",
        _row("Model", _ref(trail.model)),
        _row(
            "Training",
            f"{training.component} (execution {training.execution_id}) on "
            + (", ".join(_ref(e) for e in training.examples) or "no examples"),
        ),
        _INDENT + ", ".join(f"{name}={value}" for name, value in training.parameters.items()),
        _row("Evaluation", _ref(evaluation.evaluation)),
        _INDENT
        + f"on {_ref(evaluation.examples)}"
        + (
            f" (splits: {', '.join(evaluation.example_splits)})"
            if evaluation.example_splits
            else ""
        ),
        _INDENT + "slices: " + ", ".join(slicing_names(evaluation.eval_config)),
        _INDENT
        + "overall: "
        + ", ".join(
            f"{name} {value:.6g}"
            for name, value in evaluation.overall_metrics.items()
            if not name.startswith("diff_")
        ),
        _row(
            "Baseline",
            f"{_ref(trail.baseline_model)} (its trail: --model-id {trail.baseline_model.id})"
            if trail.baseline_model
            else "none: nothing to compare with (rubber stamp)",
        ),
        _row(
            "Validation",
            f"{validation.blessing.label}: "
            + (validation.reason or ("Blessed" if validation.blessed else "Not blessed")),
        ),
    ]
    if validation.result:
        lines.append(_INDENT + f"{validation.result.label}: {validation.result.uri}")
    lines += [
        _INDENT + f"{_check_result(check):8} {check['sentence']}" for check in validation.checks
    ]
    lines.append(_row("Push", _push(trail)))
    lines += [
        _row("Override" if i == 0 else "", f"{o.sentence()} ({o.describe()})")
        for i, o in enumerate(trail.overrides)
    ] or [_row("Override", "none")]
    return "\n".join(lines)


def slicing_names(eval_config: Dict[str, Any]) -> List[str]:
    """The slicing specs of an EvalConfig (as JSON) by name: 'Overall', 'occupation', 'a x b', 'a=1'."""
    return [_slicing_name(spec) for spec in eval_config.get("slicing_specs", [])] or ["Overall"]


def _slicing_name(spec: Dict[str, Any]) -> str:
    parts = list(spec.get("feature_keys", [])) + [
        f"{k}={v}" for k, v in spec.get("feature_values", {}).items()
    ]
    return " x ".join(parts) or "Overall"


def _check_result(check: Dict[str, Any]) -> str:
    return "skipped" if check.get("skipped") else "passed" if check.get("passed") else "FAILED"


def _push(trail: DecisionTrail) -> str:
    push = trail.push
    if push is None:
        return "no Pusher took the blessing"
    if push.pushed:
        return f"{push.pushed_model.label}: pushed to {push.destination}"
    return f"{push.pushed_model.label}: not pushed (not blessed)"


def _ref(ref: Optional[ArtifactRef]) -> str:
    return f"{ref.label} {ref.uri} (created {ref.created})" if ref else "-"


def _row(title: str, text: str) -> str:
    return f"{title:<{len(_INDENT)}}{text}"
