"""Counterfactuals from the data: for each explained row, the nearest example of a pool of drawn
examples whose outcome differs from the row's, and the features in which it differs.

Nearness is Gower's distance over the features: a numeric feature contributes |a - b| / its range
over the rows and the pool (0 when constant), any other 0 if equal and 1 if not; the distance is
their mean, from 0 (equal) to 1. The outcome is the score's side of a threshold, or the argmax
class of an output of several columns.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import Columns, num_rows
from glassbox.explain.partial_dependence import numeric

DEFAULT_THRESHOLD = 0.5
# Distances computed at once (rows x pool entries per feature): bounds the memory to a few dozen MB.
_CELLS_PER_CHUNK = 1 << 22


@dataclasses.dataclass(frozen=True)
class Outcomes:
    """Each row's outcome (0/1 by threshold, or the argmax class) and its score (the score
    explained, or the argmax class's)."""

    classes: np.ndarray
    scores: np.ndarray


def outcomes_of(outputs: np.ndarray, threshold: float, class_index=None) -> Outcomes:
    """The outcomes of a model's (n, k) outputs: column class_index (or the only column) against
    threshold, else the argmax class of several columns."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if class_index is not None and not 0 <= class_index < outputs.shape[1]:
        raise ExplanationError(
            f"class_index {class_index} is out of range of an output of {outputs.shape[1]} columns"
        )
    if class_index is not None or outputs.shape[1] == 1:
        scores = outputs[:, class_index or 0]
        return Outcomes((scores >= threshold).astype(np.int64), scores)
    classes = outputs.argmax(axis=1)
    return Outcomes(classes, outputs[np.arange(len(outputs)), classes])


@dataclasses.dataclass(frozen=True)
class Counterfactuals:
    """Per explained row, its pool example (index, -1 for none), distance (NaN for none)."""

    features: Sequence[str]
    pool: Columns
    pool_outcomes: Outcomes
    row_outcomes: Outcomes
    index: np.ndarray
    distance: np.ndarray
    threshold: float
    argmax: bool

    @property
    def accuracy(self) -> dict:
        found = self.index >= 0
        return {
            "pool_rows": num_rows(self.pool),
            "outcome": "argmax class" if self.argmax else f"score >= {self.threshold:g}",
            "rows_with_counterfactual": int(found.sum()),
            "mean_distance": float(self.distance[found].mean()) if found.any() else None,
        }

    def changes(self, rows: Columns, i: int) -> dict:
        """{feature: (row's value, counterfactual's value)} of the features that differ."""
        j = self.index[i]
        return {
            name: (rows[name][i], self.pool[name][j])
            for name in self.features
            if rows[name][i] != self.pool[name][j]
        }


def feature_spans(rows: Columns, pool: Columns, features: Sequence[str]) -> dict:
    """Each numeric feature's range over the rows and the pool (None for another feature)."""
    spans = {}
    for name in features:
        a, b = np.asarray(rows[name]), np.asarray(pool[name])
        if numeric(a) and numeric(b):
            values = np.concatenate([a, b]).astype(np.float64)
            spans[name] = float(values.max() - values.min()) if len(values) else 0.0
        else:
            spans[name] = None
    return spans


def gower_distances(rows: Columns, pool: Columns, spans: dict) -> np.ndarray:
    """(rows, pool) Gower distances over the features of spans (see feature_spans)."""
    total = np.zeros((num_rows(rows), num_rows(pool)))
    for name, span in spans.items():
        a, b = np.asarray(rows[name]), np.asarray(pool[name])
        if span is None:
            total += a[:, None] != b[None, :]
        elif span > 0:
            total += np.abs(a.astype(np.float64)[:, None] - b.astype(np.float64)[None, :]) / span
    return total / len(spans)


def counterfactuals(
    rows: Columns,
    row_outcomes: Outcomes,
    pool: Columns,
    pool_outcomes: Outcomes,
    features: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    argmax: bool = False,
) -> Counterfactuals:
    """Each row's nearest pool example of another outcome (the first of equally near ones).

    Raises:
      ExplanationError: no features, a feature missing from the rows or the pool.
    """
    if not features:
        raise ExplanationError("no features to measure the counterfactuals' distance on")
    for name in features:
        if name not in rows or name not in pool:
            raise ExplanationError(
                f"feature {name!r} is not among the rows' and the pool's {sorted(pool)}"
            )
    n, m = num_rows(rows), num_rows(pool)
    index = np.full(n, -1)
    distance = np.full(n, np.nan)
    spans = feature_spans(rows, pool, features)
    step = max(1, _CELLS_PER_CHUNK // max(m, 1))
    for start in range(0, n, step):
        chunk = {name: np.asarray(rows[name])[start : start + step] for name in features}
        d = gower_distances(chunk, pool, spans)
        d[row_outcomes.classes[start : start + step, None] == pool_outcomes.classes[None, :]] = (
            np.inf
        )
        nearest = d.argmin(axis=1) if m else np.zeros(len(d), int)
        best = d[np.arange(len(d)), nearest] if m else np.full(len(d), np.inf)
        found = np.isfinite(best)
        index[start : start + step] = np.where(found, nearest, -1)
        distance[start : start + step] = np.where(found, best, np.nan)
    return Counterfactuals(
        tuple(features), pool, pool_outcomes, row_outcomes, index, distance, threshold, argmax
    )
