"""Report pages of what ML Metadata records (glassbox.provenance reads it): a metric's history,
and a model's page: its model card, decision trail and evaluation report."""

from __future__ import annotations

from typing import Any, Dict, Optional

from glassbox.provenance.history import History
from glassbox.provenance.trail import DecisionTrail
from glassbox.report.load import build_report
from glassbox.report.page import render_page


def history_page(history: History, title: Optional[str] = None) -> str:
    """The history view as a self-contained HTML page."""
    return render_page(
        title
        or f"glassbox history: {history.metric} on {history.slice}, pipeline {history.pipeline}",
        {"views": ["history"], "history": history.to_json()},
    )


def model_page(trail: DecisionTrail, card: Dict[str, Any], title: Optional[str] = None) -> str:
    """A model's page: its model card, its decision trail, then the report of its evaluation and
    validation (decision, slices, plots, explanations)."""
    result = trail.validation.result
    title = title or f"glassbox: {trail.pipeline} {trail.model.label}"
    payload = build_report(
        trail.evaluation.evaluation.uri, result.uri if result else None, title
    ).payload()
    payload.update(
        views=["model_card", "lineage"] + payload["views"], model_card=card, lineage=trail.to_json()
    )
    return render_page(title, payload)
