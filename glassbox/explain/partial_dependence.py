"""Partial dependence (PDP) and individual conditional expectation (ICE) curves.

For a feature and a grid of its values, each explained row is scored with the feature set to each
grid value and its other features kept (its ICE curve); a slice's PDP is the mean of its rows'
curves. The grid is the feature's over all explained rows, so every slice and model shares it: the
quantiles of a numeric feature (distinct values, whole numbers for an integer feature), the most
frequent values of another. The model sees one copy of the rows per grid value, scored in calls
of many copies (permutation_importance.scores_of_copies).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import Columns, ModelFunction, num_rows
from glassbox.explain.permutation_importance import scores_of_copies
from glassbox.explain.slices import slice_masks
from glassbox.protos.explain_config_pb2 import PartialDependence

DEFAULT_GRID_SIZE = 20
DEFAULT_ICE_ROWS = 50


def numeric(values: np.ndarray) -> bool:
    """Whether a column is numeric (integers or floats; not bool, bytes or strings)."""
    return np.asarray(values).dtype.kind in "iuf"


def grid(values: np.ndarray, size: int) -> np.ndarray:
    """The grid of a column (see the module docstring), in the column's dtype."""
    values = np.asarray(values)
    if numeric(values):
        points = np.unique(np.quantile(values.astype(np.float64), np.linspace(0, 1, size)))
        if values.dtype.kind in "iu":
            points = np.unique(np.round(points))
        return points.astype(values.dtype)
    distinct, counts = np.unique(values, return_counts=True)
    order = np.lexsort((np.arange(len(distinct)), -counts))  # most frequent first, then by value
    return distinct[order[:size]]


@dataclasses.dataclass(frozen=True)
class FeatureCurves:
    """One feature's grid and every row's score at each grid value, ice (rows, grid)."""

    grid: np.ndarray
    ice: np.ndarray

    def pdp(self, mask: np.ndarray) -> np.ndarray:
        """The mean curve of the rows of mask (NaN without rows)."""
        if not mask.any():
            return np.full(len(self.grid), np.nan)
        return self.ice[mask].mean(axis=0)


@dataclasses.dataclass(frozen=True)
class PartialDependenceCurves:
    """Each feature's curves (in order) and the slices' row masks, and how many ICE rows of each
    slice are written."""

    features: Dict[str, FeatureCurves]
    slices: Dict[str, np.ndarray]
    ice_rows: int

    @property
    def accuracy(self) -> dict:
        return {
            "grid_size": {name: len(c.grid) for name, c in self.features.items()},
            "rows": int(len(next(iter(self.slices.values())))),
            "ice_rows": self.ice_rows,
        }

    def ice_indices(self, mask: np.ndarray) -> np.ndarray:
        """The rows of mask whose ICE curves are written: its first ice_rows."""
        return np.flatnonzero(mask)[: self.ice_rows]


def _copies(columns: Columns, feature: str, points: np.ndarray, n: int) -> Iterator[dict]:
    for value in points:
        yield {**columns, feature: np.full(n, value, dtype=points.dtype)}


def default_features(columns: Columns, attributed: Sequence[str]) -> List[str]:
    """Every numeric feature of attributed (the PDP's default)."""
    return [name for name in attributed if numeric(columns[name])]


def partial_dependence(
    model: ModelFunction,
    columns: Columns,
    features: Sequence[str],
    config: Optional[PartialDependence] = None,
    slices: Optional[Mapping[str, np.ndarray]] = None,
) -> PartialDependenceCurves:
    """The ICE curves of every row and feature (PDPs per slice follow from them).

    Args:
      model: the model function.
      columns: the explained rows' raw feature columns, each of shape (n,).
      features: the features varied (config.features, when set, takes precedence).
      config: grid_size (default 20), features, ice_rows (default 50).
      slices: boolean row masks by slice string; default the overall slice alone.

    Raises:
      ExplanationError: no feature, an unknown feature, a malformed slice mask, non-finite scores.
    """
    config = config if config is not None else PartialDependence()
    features = list(config.features or features)
    n = num_rows(columns)
    if not features:
        raise ExplanationError(
            "PartialDependence has no feature to vary: the attributed features hold no numeric "
            f"one ({sorted(columns)}); list some in PartialDependence.features"
        )
    for feature in features:
        if feature not in columns:
            raise ExplanationError(
                f"PartialDependence.features: {feature!r} is not a feature of the rows; they "
                f"have {sorted(columns)}"
            )
    curves = {}
    for feature in features:
        points = grid(columns[feature], config.grid_size or DEFAULT_GRID_SIZE)
        scores = scores_of_copies(model, _copies(columns, feature, points, n), len(points), n)
        curves[feature] = FeatureCurves(points, scores.T)
    return PartialDependenceCurves(
        curves, slice_masks(slices, n), config.ice_rows or DEFAULT_ICE_ROWS
    )
