"""The explained rows of an evaluation (explanations.json, as glassbox.explain.writer writes it)
for the report's Examples view: per row its slices, feature values, label, each model's prediction,
each local method's attributions, counterfactuals and ICE curves (the what-if control's values).

A page carries at most ROW_CAP rows, the first in the file's order (the rows' hash: a random
subset), and says how many were left out, the ICE curves of the first ICE_ROW_CAP of them; numbers
are rounded to VALUE_DIGITS significant digits, ICE curves to ICE_DIGITS (vectorised: rounding
5,000 rows one number at a time took 3 s).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, List, Optional

import numpy as np

from glassbox import filesystem, keys
from glassbox.report.errors import ReportError

ROW_CAP = 2000  # rows a page carries: 2,000 rows of 8 features and 2 methods are about 0.5 MB
VALUE_DIGITS = 6
ICE_DIGITS = 4  # the what-if control's predictions, as the PDP charts' (a row's ICE curves)
# Rows whose ICE curves a page carries (the first of `rows`): at the defaults (4 features, 20 grid
# values, two models) a row's curves add ~390 bytes to a page (measured at 2,000 rows).
ICE_ROW_CAP = 1000


@dataclasses.dataclass(frozen=True)
class LocalMethod:
    """A local method of a model: the groups (features) it attributes, in the rows' order."""

    method: str
    groups: List[str]
    base_value: Optional[float]


@dataclasses.dataclass(frozen=True)
class ExplainedModel:
    role: str  # "candidate" or "baseline"
    name: str  # the model's name in the evaluation
    methods: List[LocalMethod]


@dataclasses.dataclass(frozen=True)
class ExplainedRow:
    """A row: `values` in ExplainedRows.features' order, `predictions` in its models' order,
    `attributions` per model and method, in the method's groups' order."""

    id: str
    slices: List[int]  # indices into ExplainedRows.slices
    label: Optional[float]
    values: List[Any]
    predictions: List[Optional[float]]
    attributions: List[List[List[Optional[float]]]]
    # Per model, the row's counterfactual as written (glassbox.explain.writer), None without one.
    counterfactuals: List[Optional[Dict[str, Any]]] = dataclasses.field(default_factory=list)
    # Per model, the row's ICE curves ({feature: [score per value of partial_dependence.json's
    # grid]}: the what-if control's predictions), None without partial_dependence.
    ice: List[Optional[Dict[str, List[Optional[float]]]]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class ExplainedRows:
    total: int  # rows in the file; `rows` holds the first ROW_CAP of them
    features: List[str]
    slices: List[str]  # the explained slices, Overall first
    models: List[ExplainedModel]  # the candidate first
    rows: List[ExplainedRow]
    ice_rows: int = 0  # rows of `rows` with their ICE curves (the first, at most ICE_ROW_CAP)


def load_examples(evaluation_dir: str) -> Optional[ExplainedRows]:
    """The evaluation's explained rows (at most ROW_CAP), or None when it has none.

    Raises:
      ReportError: explanations.json cannot be read or is not as glassbox.explain.writer writes it.
    """
    from glassbox.report.load import _read_json

    path = os.path.join(evaluation_dir, keys.EXPLANATIONS_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the explained rows")
    try:
        return _explained_rows(content)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise ReportError(
            f"{path} is not explained rows as glassbox.explain.writer writes them: "
            f"{type(e).__name__}: {e}"
        ) from e


def _explained_rows(content: Dict[str, Any]) -> Optional[ExplainedRows]:
    examples = content["examples"]
    if not examples:
        return None
    kept = examples[:ROW_CAP]
    first = kept[0]
    roles = sorted(first["models"], key=lambda role: role != "candidate")
    models = [
        ExplainedModel(
            role=role,
            name=content.get("model_names", {}).get(role, role),
            methods=[
                LocalMethod(method, list(result["attributions"]), _round_one(result["base_value"]))
                for method, result in first["models"][role]["methods"].items()
            ],
        )
        for role in roles
    ]
    features = list(first["features"])
    slices = list(dict.fromkeys(name for row in examples for name in row["slices"]))
    slice_index = {name: i for i, name in enumerate(slices)}
    values = list(zip(*(_column([row["features"][f] for row in kept]) for f in features)))
    labels = _column([row["label"] for row in kept])
    predictions = list(
        zip(*(_numbers([row["models"][m.role]["prediction"] for row in kept]) for m in models))
    )
    attributions = [
        [
            _numbers(
                [
                    [
                        row["models"][m.role]["methods"][lm.method]["attributions"][g]
                        for g in lm.groups
                    ]
                    for row in kept
                ]
            )
            for lm in m.methods
        ]
        for m in models
    ]
    ice = [_ice([row["models"][m.role].get("ice") for row in kept[:ICE_ROW_CAP]]) for m in models]
    rows = [
        ExplainedRow(
            id=str(row["id"]),
            slices=[slice_index[name] for name in row["slices"]],
            label=labels[i],
            values=list(values[i]) if features else [],
            predictions=list(predictions[i]),
            attributions=[[method[i] for method in model] for model in attributions],
            counterfactuals=[_counterfactual(row["models"][m.role]) for m in models],
            ice=[model[i] if i < ICE_ROW_CAP else None for model in ice],
        )
        for i, row in enumerate(kept)
    ]
    return ExplainedRows(
        total=len(examples),
        features=features,
        slices=slices,
        models=models,
        rows=rows,
        ice_rows=sum(any(curves is not None for curves in row.ice) for row in rows),
    )


def _ice(curves: List[Optional[Dict[str, list]]]) -> List[Optional[Dict[str, list]]]:
    """A model's ICE curves of each row, rounded (one call per feature); None for a row without."""
    present = [i for i, c in enumerate(curves) if c is not None]
    if not present:
        return [None] * len(curves)
    features = list(curves[present[0]])
    rounded = {f: _numbers([curves[i][f] for i in present], ICE_DIGITS) for f in features}
    result: List[Optional[Dict[str, list]]] = [None] * len(curves)
    for k, i in enumerate(present):
        result[i] = {f: rounded[f][k] for f in features}
    return result


def _counterfactual(model: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A model's counterfactual of a row, as written but its feature values (only the changes are
    shown); None without one."""
    written = model.get("counterfactual")
    return {k: v for k, v in written.items() if k != "features"} if written else None


def _numbers(values: list, digits: int = VALUE_DIGITS) -> list:
    """Numbers (None for null) in nested lists, rounded, None for NaN and infinities (not JSON)."""
    rounded = significant(np.array(values, dtype=np.float64), digits)
    return np.where(np.isfinite(rounded), rounded, None).tolist()


def _column(values: list) -> list:
    """A feature's values as written, numbers rounded (a column of strings passes as it is)."""
    if all(v is None or isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        if all(v is None or isinstance(v, int) for v in values):
            return values
        return _numbers(values)
    return values


def _round_one(value: Optional[float]) -> Optional[float]:
    return None if value is None else _numbers([value])[0]


def significant(values: np.ndarray, digits: int) -> np.ndarray:
    """values rounded to `digits` significant digits, as float(f"{v:.{digits}g}") rounds one
    (NaN, infinities and zeros unchanged)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values) & (values != 0)
    magnitude = np.floor(np.log10(np.abs(np.where(finite, values, 1.0))))
    shift = (digits - 1 - magnitude).astype(int)
    up = shift >= 0
    with np.errstate(over="ignore", invalid="ignore"):
        scale = 10.0 ** np.abs(shift)
        rounded = np.where(up, np.round(values * scale) / scale, np.round(values / scale) * scale)
    return np.where(finite & np.isfinite(rounded), rounded, values)
