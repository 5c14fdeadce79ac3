"""The masking engine: a model's mean score when some feature groups keep an explained row's values
and the others take a background row's (interventional masking), for many coalitions at once.

A coalition is a boolean vector over feature groups (True: the row's values). Masked copies of the
rows are built for many (row, coalition, background row) triples at once and handed to the model
function in chunks of about ``chunk_size`` rows, so the model is called a few times per hundred
thousand evaluations, never once per coalition.
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Sequence, Tuple

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
        self._background_scores: Optional[np.ndarray] = None

    @property
    def background_scores(self) -> np.ndarray:
        """f of each background row: the value of the empty coalition against it."""
        if self._background_scores is None:
            self._background_scores = self.model(self.background)
        return self._background_scores

    @property
    def base_value(self) -> float:
        """E_w[f(background)]: the value of the empty coalition, for every row."""
        return float(self.background_scores @ self.weights)

    def values(self, rows: Columns, coalitions: np.ndarray) -> np.ndarray:
        """(rows, k) values of k boolean coalitions, shape (k, groups), each averaged over the background.

        Raises:
          ExplanationError: coalitions of the wrong shape, or rows lacking a grouped feature.
        """
        coalitions = self._checked(rows, coalitions, 2)
        n, k, size = num_rows(rows), len(coalitions), len(self.weights)
        result = np.empty(n * k)
        pairs_per_call = max(1, self._chunk_size // size)
        for start in range(0, n * k, pairs_per_call):
            pairs = np.arange(start, min(start + pairs_per_call, n * k))
            # (pair, background row) layout: pair p = (row pairs // k, coalition pairs % k).
            keep = coalitions[pairs % k].T[:, :, None]
            scores = self._scores(rows, pairs // k, keep, lambda values: values[None, :], size)
            result[pairs] = scores.reshape(len(pairs), size) @ self.weights
        return result.reshape(n, k)

    def empty_values(self, rows: Columns) -> np.ndarray:
        """(rows, background rows) values of the empty coalition against each background row alone:
        f of the background row, with the row's values in the columns no group holds (if any)."""
        grouped = {member for _, members in self.groups for member in members}
        if grouped.issuperset(rows):
            return np.broadcast_to(self.background_scores, (num_rows(rows), len(self.weights)))
        return self.baseline_values(rows, np.zeros((len(self.weights), 1, len(self.groups)), dtype=bool))[:, :, 0]

    def baseline_values(self, rows: Columns, coalitions: np.ndarray) -> np.ndarray:
        """(rows, background rows, k) values of coalitions (background rows, k, groups): coalition
        coalitions[b, j] of each row against background row b alone (a single-baseline game).

        Raises:
          ExplanationError: coalitions of the wrong shape, or rows lacking a grouped feature.
        """
        coalitions = self._checked(rows, coalitions, 3)
        n, size, k = num_rows(rows), len(self.weights), coalitions.shape[1]
        if coalitions.shape[0] != size:
            raise ExplanationError(f"coalitions must have shape ({size}, k, {len(self.groups)}); "
                                   f"got {coalitions.shape}")
        by_group = np.ascontiguousarray(coalitions.transpose(2, 0, 1))  # (groups, size, k)
        result = np.empty((n * size, k))
        # Calls of exactly chunk_size rows (the model function's batches divide them evenly).
        pairs_per_call = max(1, self._chunk_size // max(1, k))
        for start in range(0, n * size, pairs_per_call):
            pairs = np.arange(start, min(start + pairs_per_call, n * size))
            # (pair, coalition) layout: pair p = (row p // size, background row p % size).
            background_rows = pairs % size
            scores = self._scores(rows, pairs // size, by_group[:, background_rows],
                                  lambda values: values[background_rows][:, None], k)
            result[pairs] = scores.reshape(len(pairs), k)
        return result.reshape(n, size, k)

    def _checked(self, rows: Columns, coalitions: np.ndarray, ndim: int) -> np.ndarray:
        coalitions = np.asarray(coalitions, dtype=bool)
        if coalitions.ndim != ndim or coalitions.shape[-1] != len(self.groups):
            raise ExplanationError(f"coalitions must have {ndim} dimensions, the last of {len(self.groups)} "
                                   f"groups; got shape {coalitions.shape}")
        for name, members in self.groups:
            for member in members:
                if member not in rows:
                    raise ExplanationError(f"feature {member!r} (group {name!r}) is not in the explained rows")
        return coalitions

    def _scores(self, rows: Columns, row_index: np.ndarray, keep: np.ndarray,
                background_values: Callable[[np.ndarray], np.ndarray], width: int) -> np.ndarray:
        """f of masked rows laid out (len(row_index), width): rows[row_index]'s values where
        keep[group] (broadcast to that shape) holds, background_values(background column) elsewhere.

        Built by broadcasting small arrays, so that masking costs little beside the model.
        """
        shape = (len(row_index), width)
        grouped = {member for _, members in self.groups for member in members}
        masked = {name: np.broadcast_to(np.asarray(values)[row_index][:, None], shape).ravel()
                  for name, values in rows.items() if name not in grouped}
        for group, (_, members) in enumerate(self.groups):
            for member in members:
                masked[member] = _select(keep[group], np.asarray(rows[member])[row_index][:, None],
                                         background_values(np.asarray(self.background[member]))).ravel()
        return self.model(masked)


def _select(condition: np.ndarray, where_true: np.ndarray, where_false: np.ndarray) -> np.ndarray:
    """np.where(condition, where_true, where_false), broadcast.

    Numbers are selected bit by bit (b ^ ((a ^ b) & mask)): np.where branches per element and,
    on the random masks of coalitions, runs ~8x slower, as slow as a small model.
    """
    dtype = np.result_type(where_true, where_false)
    if dtype.kind not in "biuf":
        return np.where(condition, where_true, where_false)
    bits = np.dtype(f"u{dtype.itemsize}")
    true_bits = np.asarray(where_true, dtype).view(bits)
    false_bits = np.asarray(where_false, dtype).view(bits)
    mask = np.negative(condition.astype(bits))  # all ones where condition holds
    return (false_bits ^ ((true_bits ^ false_bits) & mask)).view(dtype)
