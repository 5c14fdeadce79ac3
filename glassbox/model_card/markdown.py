"""A model card (the MCT-shaped dict of `card.model_card`) as Markdown."""

from __future__ import annotations

import collections
from typing import Any, Dict, List, Sequence

from glassbox.model_card.card import BASELINE_SUFFIX, OVERALL

# Sections of `considerations`, in the order shown, with their headings.
CONSIDERATIONS = (
    ("limitations", "Limitations"),
    ("tradeoffs", "Tradeoffs against the model it replaces"),
    ("users", "Users"),
    ("use_cases", "Use cases"),
    ("ethical_considerations", "Ethical considerations"),
)


def render_markdown(card: Dict[str, Any]) -> str:
    """The card as a Markdown document: details, parameters, metrics per slice, considerations."""
    details = card.get("model_details", {})
    version = details.get("version", {})
    lines = [
        f"# Model card: {details.get('name', 'model')}",
        "",
        details.get("overview", ""),
        "",
        "## Model details",
        "",
    ]
    if version.get("name"):
        lines += [
            f"- Version: {version['name']}"
            + (f" ({version['date']})" if version.get("date") else ""),
            "",
        ]
    lines += [
        paragraph + "\n"
        for paragraph in details.get("documentation", "").split("\n\n")
        if paragraph
    ]
    if version.get("diff"):
        lines += ["### Compared with the model it replaces", "", version["diff"], ""]
    parameters = card.get("model_parameters", {})
    if parameters:
        lines += ["## Model parameters", ""]
        if parameters.get("model_architecture"):
            lines.append(f"- Architecture: {parameters['model_architecture']}")
        lines += [
            f"- Data: {data.get('name', '')}: {data.get('description', '')}"
            for data in parameters.get("data", [])
        ]
        lines.append("")
    lines += _quantitative(card.get("quantitative_analysis", {}))
    considerations = card.get("considerations", {})
    for key, title in CONSIDERATIONS:
        if considerations.get(key):
            lines += (
                [f"## {title}", ""] + [f"- {_item(item)}" for item in considerations[key]] + [""]
            )
    return "\n".join(lines).rstrip("\n") + "\n"


def _quantitative(analysis: Dict[str, Any]) -> List[str]:
    """Overall: each metric against the baseline's; by slice: every metric of the model."""
    values: Dict[str, Dict[str, float]] = collections.defaultdict(dict)
    for metric in analysis.get("performance_metrics", []):
        values[metric.get("slice", OVERALL)][metric["type"]] = metric["value"]
    if not values:
        return []
    lines = ["## Quantitative analysis", ""]
    overall = values.get(OVERALL, {})
    names = sorted(
        {
            name
            for metrics in values.values()
            for name in metrics
            if not name.endswith(BASELINE_SUFFIX)
        }
    )
    if any(name.endswith(BASELINE_SUFFIX) for name in overall):
        lines += (
            [f"### {OVERALL}, against the baseline", ""]
            + _table(
                ["Metric", "This model", "Baseline", "Change"],
                [
                    [
                        name,
                        _number(overall.get(name)),
                        _number(overall.get(name + BASELINE_SUFFIX)),
                        _change(overall.get(name), overall.get(name + BASELINE_SUFFIX)),
                    ]
                    for name in names
                ],
            )
            + [""]
        )
    lines += (
        ["### By slice", ""]
        + _table(
            ["Slice"] + names,
            [
                [slice_name] + [_number(metrics.get(name)) for name in names]
                for slice_name, metrics in values.items()
            ],
        )
        + [""]
    )
    for graphic in analysis.get("graphics", {}).get("collection", []):
        lines += [f"![{graphic.get('name', '')}](data:image/png;base64,{graphic['image']})", ""]
    return lines


def _item(item: Dict[str, Any]) -> str:
    if "description" in item:
        return item["description"]
    return ": ".join(text for text in (item.get("name"), item.get("mitigation_strategy")) if text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    return [
        "| " + " | ".join(_cell(c) for c in row) + " |"
        for row in [header, ["---"] * len(header), *rows]
    ]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value) -> str:
    return "" if value is None else f"{value:.4g}"


def _change(value, baseline) -> str:
    return "" if value is None or baseline is None else f"{value - baseline:+.4g}"
