"""The masking engine: a model's mean score when some feature groups keep an explained row's values
and the others take a background row's (interventional masking), for many coalitions at once.

A coalition is a boolean vector over feature groups (True: the row's values). The masked copies of
(row, coalition) pairs are laid out row-major with every background row and handed to the model
function in chunks of about ``chunk_size`` rows, so the model is called a few times per hundred
thousand evaluations, never once per coalition.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import Columns, ModelFunction, num_rows

FeatureGroups = Sequence[Tuple[str, Sequence[str]]]
Groups = List[Tuple[str, Tuple[str, ...]]]

# Masked rows per model-function call: calls of >= 10k rows cost little more per row than the
# model itself; bigger chunks only cost memory (chunk_size x columns values).
DEFAULT_CHUNK_SIZE = 131072


def feature_groups(columns: Iterable[str], groups: FeatureGroups = (),
                   features: Sequence[str] = ()) -> Groups:
    """The groups attributed: ``groups``, then each of ``features`` (default: every column) in no group.

    Raises:
      ExplanationError: an empty or duplicate group name, a group without columns, a column that
        is not in ``columns`` or is in two groups.
    """
    columns = list(columns)
    known = set(columns)
    result: Groups = []
    owner = {}
    for name, members in groups:
        if not name or any(name == existing for existing, _ in result):
            raise ExplanationError(f"feature group name {name!r} is empty or used twice")
        if not members:
            raise ExplanationError(f"feature group {name!r} has no features")
        for member in members:
            if member not in known:
                raise ExplanationError(f"feature {member!r} of group {name!r} is not a feature of the "
                                       f"rows; they have {sorted(known)}")
            if member in owner:
                raise ExplanationError(f"feature {member!r} is in groups {owner[member]!r} and {name!r}")
            owner[member] = name
        result.append((name, tuple(members)))
    for feature in features or columns:
        if feature not in known:
            raise ExplanationError(f"feature {feature!r} is not a feature of the rows; they have {sorted(known)}")
        if feature not in owner and feature not in {name for name, _ in result}:
            result.append((feature, (feature,)))
    if not result:
        raise ExplanationError("no features to attribute")
    return result


class Masker:
    """Coalition values of a model against a (weighted) background.

    value(row, coalition) = sum_b w_b f(row's values on the coalition's groups, b's elsewhere) / sum_b w_b;
    columns of the rows in no group always keep the row's values.

    Raises:
      ExplanationError: an empty background, a grouped feature missing from it, or weights that
        are not one non-negative number per background row with a positive sum.
    """

    def __init__(self, model: ModelFunction, background: Columns, groups: Groups,
                 background_weights: Optional[np.ndarray] = None, chunk_size: int = DEFAULT_CHUNK_SIZE):
        size = num_rows(background)
        if size == 0:
            raise ExplanationError("the background has no rows")
        for name, members in groups:
            for member in members:
                if member not in background:
                    raise ExplanationError(f"feature {member!r} (group {name!r}) is not in the background; "
                                           f"it has {sorted(background)}")
        weights = np.ones(size) if background_weights is None else np.asarray(background_weights, np.float64)
        if weights.shape != (size,) or (weights < 0).any() or not weights.sum() > 0:
            raise ExplanationError(f"background weights must be {size} non-negative numbers with a "
                                   f"positive sum; got shape {weights.shape}")
        self.model = model
        self.groups = groups
        self.background = background
        self.weights = weights / weights.sum()
        self._chunk_size = chunk_size
        self._base_value: Optional[float] = None

    @property
    def base_value(self) -> float:
        """E_w[f(background)]: the value of the empty coalition, for every row."""
        if self._base_value is None:
            self._base_value = float(self.model(self.background) @ self.weights)
        return self._base_value

    def values(self, rows: Columns, coalitions: np.ndarray) -> np.ndarray:
        """(rows, coalitions) values of the boolean coalitions, shape (k, groups).

        Raises:
          ExplanationError: coalitions of the wrong shape, or rows lacking a grouped feature.
        """
        coalitions = np.asarray(coalitions, dtype=bool)
        if coalitions.ndim != 2 or coalitions.shape[1] != len(self.groups):
            raise ExplanationError(f"coalitions must have shape (k, {len(self.groups)}); got {coalitions.shape}")
        n, k = num_rows(rows), len(coalitions)
        for name, members in self.groups:
            for member in members:
                if member not in rows:
                    raise ExplanationError(f"feature {member!r} (group {name!r}) is not in the explained rows")
        pairs_per_call = max(1, self._chunk_size // len(self.weights))
        result = np.empty(n * k)
        for start in range(0, n * k, pairs_per_call):
            pairs = np.arange(start, min(start + pairs_per_call, n * k))
            scores = self.model(self._masked(rows, pairs // k, coalitions[pairs % k]))
            result[pairs] = scores.reshape(len(pairs), -1) @ self.weights
        return result.reshape(n, k)

    def _masked(self, rows: Columns, row_index: np.ndarray, coalitions: np.ndarray) -> Columns:
        """Each (row, coalition) pair against every background row: len(row_index) x background rows."""
        background_rows = len(self.weights)
        grouped = {member for _, members in self.groups for member in members}
        masked = {name: np.repeat(np.asarray(values)[row_index], background_rows)
                  for name, values in rows.items() if name not in grouped}
        for group, (_, members) in enumerate(self.groups):
            keep = coalitions[:, group]
            for member in members:
                masked[member] = np.where(keep[:, None], np.asarray(rows[member])[row_index][:, None],
                                          np.asarray(self.background[member])[None, :]).ravel()
        return masked
