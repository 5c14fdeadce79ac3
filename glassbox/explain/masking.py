"""The masking engine: a model's mean score when some feature groups keep an explained row's values
and the others take a background row's (interventional masking), for many coalitions at once.

A coalition is a boolean vector over feature groups (True: the row's values). Masked copies of the
rows are built for many (row, coalition, background row) triples at once and handed to the model
function in chunks of about ``chunk_size`` rows, so the model is called a few times per hundred
thousand evaluations, never once per coalition. The chunks' columns reuse the same memory: a
model function must not keep the columns it is given after it returns.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import Columns, ModelFunction, num_rows

FeatureGroups = Sequence[Tuple[str, Sequence[str]]]
Groups = List[Tuple[str, Tuple[str, ...]]]

# Masked rows per model-function call: calls of >= 10k rows cost little more per row than the
# model itself; bigger chunks only cost memory (chunk_size x columns values).
DEFAULT_CHUNK_SIZE = 131072


def feature_groups(
    columns: Iterable[str], groups: FeatureGroups = (), features: Sequence[str] = ()
) -> Groups:
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
                raise ExplanationError(
                    f"feature {member!r} of group {name!r} is not a feature of the "
                    f"rows; they have {sorted(known)}"
                )
            if member in owner:
                raise ExplanationError(
                    f"feature {member!r} is in groups {owner[member]!r} and {name!r}"
                )
            owner[member] = name
        result.append((name, tuple(members)))
    for feature in features or columns:
        if feature not in known:
            raise ExplanationError(
                f"feature {feature!r} is not a feature of the rows; they have {sorted(known)}"
            )
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

    def __init__(
        self,
        model: ModelFunction,
        background: Columns,
        groups: Groups,
        background_weights: Optional[np.ndarray] = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ):
        size = num_rows(background)
        if size == 0:
            raise ExplanationError("the background has no rows")
        for name, members in groups:
            for member in members:
                if member not in background:
                    raise ExplanationError(
                        f"feature {member!r} (group {name!r}) is not in the background; "
                        f"it has {sorted(background)}"
                    )
        weights = (
            np.ones(size)
            if background_weights is None
            else np.asarray(background_weights, np.float64)
        )
        if weights.shape != (size,) or (weights < 0).any() or not weights.sum() > 0:
            raise ExplanationError(
                f"background weights must be {size} non-negative numbers with a "
                f"positive sum; got shape {weights.shape}"
            )
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

    def scores(self, rows: Columns) -> np.ndarray:
        """f of each row. When the background's scores are still due and the rows have the
        background's columns and dtypes, both are scored in one model call (a SavedModel call's
        fixed cost is that of ~20,000 evaluations of a small MLP)."""
        same = set(rows) == set(self.background) and all(
            np.asarray(values).dtype == np.asarray(self.background[name]).dtype
            for name, values in rows.items()
        )
        if self._background_scores is not None or not same:
            return self.model(rows)
        n = num_rows(rows)
        scores = self.model(
            {name: np.concatenate([values, self.background[name]]) for name, values in rows.items()}
        )
        self._background_scores = scores[n:]
        return scores[:n]

    @property
    def base_value(self) -> float:
        """E_w[f(background)]: the value of the empty coalition, for every row."""
        return float(self.background_scores @ self.weights)

    def values(self, rows: Columns, coalitions: np.ndarray) -> np.ndarray:
        """(rows, k) values of k boolean coalitions, shape (k, groups), each averaged over the background.

        Raises:
          ExplanationError: coalitions of the wrong shape, or rows lacking a grouped feature.
        """
        coalitions = self._checked(coalitions, 2)
        # (row, coalition) pairs, each masked against every background row.
        selections = _Selections(
            self.groups,
            coalitions.T[:, :, None],
            {name: np.asarray(values)[None, :] for name, values in self.background.items()},
        )
        scores = self._pair_scores(
            rows, selections, len(self.weights), lambda pair_scores: pair_scores @ self.weights
        )
        return scores.reshape(num_rows(rows), len(coalitions))

    def empty_values(self, rows: Columns) -> np.ndarray:
        """(rows, background rows) values of the empty coalition against each background row alone:
        f of the background row, with the row's values in the columns no group holds (if any)."""
        grouped = {member for _, members in self.groups for member in members}
        if grouped.issuperset(rows):
            return np.broadcast_to(self.background_scores, (num_rows(rows), len(self.weights)))
        return self.baseline_values(
            rows, np.zeros((len(self.weights), 1, len(self.groups)), dtype=bool)
        )[:, :, 0]

    def baseline_values(self, rows: Columns, coalitions: np.ndarray) -> np.ndarray:
        """(rows, background rows, k) values of coalitions (background rows, k, groups): coalition
        coalitions[b, j] of each row against background row b alone (a single-baseline game).

        Raises:
          ExplanationError: coalitions of the wrong shape, or rows lacking a grouped feature.
        """
        return self.baseline_games(coalitions)(rows)

    def baseline_games(self, coalitions: np.ndarray) -> Callable[..., np.ndarray]:
        """baseline_values(rows, coalitions) as a function games(rows, out=None) of the rows, with
        the coalitions' masks prepared once for all the rows it is called on; the values are
        written into out (rows, background rows, k) if given (memory reused: fresh memory costs
        a page fault per 4 KiB).

        Raises:
          ExplanationError: coalitions of the wrong shape; (when called) rows lacking a grouped feature.
        """
        coalitions = self._checked(coalitions, 3)
        size, k = len(self.weights), coalitions.shape[1]
        if coalitions.shape[0] != size:
            raise ExplanationError(
                f"coalitions must have shape ({size}, k, {len(self.groups)}); "
                f"got {coalitions.shape}"
            )
        # (row, background row) pairs, each masked by its background row's k coalitions.
        selections = _Selections(
            self.groups,
            coalitions.transpose(2, 0, 1),
            {name: np.asarray(values)[:, None] for name, values in self.background.items()},
        )

        def games(rows: Columns, out: Optional[np.ndarray] = None) -> np.ndarray:
            pairs_out = None if out is None else out.reshape(len(out) * size, k)
            return self._pair_scores(rows, selections, k, out=pairs_out).reshape(
                num_rows(rows), size, k
            )

        return games

    def _checked(self, coalitions: np.ndarray, ndim: int) -> np.ndarray:
        coalitions = np.asarray(coalitions, dtype=bool)
        if coalitions.ndim != ndim or coalitions.shape[-1] != len(self.groups):
            raise ExplanationError(
                f"coalitions must have {ndim} dimensions, the last of {len(self.groups)} "
                f"groups; got shape {coalitions.shape}"
            )
        return coalitions

    def _pair_scores(
        self,
        rows: Columns,
        selections: "_Selections",
        width: int,
        reduce: Callable[[np.ndarray], np.ndarray] = lambda scores: scores,
        out: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """reduce(scores) of the masked rows of selections laid out (row, j, l), l < width, stacked
        over the (row, j) pairs (into out, if given); the model is called on whole pairs of about
        chunk_size rows (exactly, when width divides it: the model function's batches divide
        those evenly)."""
        for name, members in self.groups:
            for member in members:
                if member not in rows:
                    raise ExplanationError(
                        f"feature {member!r} (group {name!r}) is not in the explained rows"
                    )
        num_pairs, pairs_per_call = (
            num_rows(rows) * selections.num_j,
            max(1, self._chunk_size // max(1, width)),
        )
        columns = {name: selections.column(name, values) for name, values in rows.items()}
        result = out
        for start in range(0, num_pairs, pairs_per_call):
            stop = min(start + pairs_per_call, num_pairs)
            masked = {
                name: selections.buffer(name, values.dtype, (pairs_per_call, width))[: stop - start]
                for name, (values, _) in columns.items()
            }
            for first_row, last_row, first_j, last_j, first_pair in _blocks(
                start, stop, selections.num_j
            ):
                shape = (last_row - first_row, last_j - first_j, width)
                for name, (values, fill) in columns.items():
                    target = masked[name][
                        first_pair - start : first_pair - start + shape[0] * shape[1]
                    ]
                    fill(target.reshape(shape), values[first_row:last_row], first_j, last_j)
            part = reduce(
                np.asarray(
                    self.model({name: values.reshape(-1) for name, values in masked.items()}),
                    dtype=np.float64,
                ).reshape(stop - start, width)
            )
            if result is None:
                result = np.empty((num_pairs,) + part.shape[1:])
            result[start:stop] = part
        return result if result is not None else reduce(np.zeros((0, width)))


def _blocks(start: int, stop: int, num_j: int) -> Iterator[Tuple[int, int, int, int, int]]:
    """Pairs start..stop of a (rows, num_j) grid as at most three rectangles (first_row, last_row,
    first_j, last_j, first pair): a partial first row, whole rows, a partial last row."""
    while start < stop:
        row, j = divmod(start, num_j)
        rows = 1 if j or stop - start < num_j else (stop - start) // num_j
        end = min(stop, (row + rows) * num_j)
        yield row, row + rows, j, end - (row + rows - 1) * num_j, start
        start = end


class _Selections:
    """Masked columns laid out (row, j, l): a grouped column takes the row's value where its group's
    keep[j, l] holds, the background column's [j, l] (broadcast) elsewhere; any other column the
    row's value.

    Numbers are selected bit by bit, as (row & mask) ^ (background & ~mask) with the masks' all-ones
    integers made once: np.where branches per element and, on the random masks of coalitions,
    runs ~8x slower, as slow as a small model. When the background varies along j only (one
    background row per j), background & ~mask is made once too, and masking a row costs two
    vectorised passes: an AND with one number, a XOR with a prepared array.
    """

    def __init__(self, groups: Groups, keep: np.ndarray, background: Columns):
        self.num_j = keep.shape[1]
        self._keep = keep  # (groups, J, L)
        self._background = background  # columns broadcastable to (J, L)
        self._group_of = {
            member: group for group, (_, members) in enumerate(groups) for member in members
        }
        self._masks = {}
        self._kept = {}
        self._buffers = {}

    def buffer(self, name: str, dtype: np.dtype, shape: Tuple[int, int]) -> np.ndarray:
        """An array for column name's masked rows, the same for every chunk of every call: fresh
        memory costs a page fault per 4 KiB, as much as the masking itself."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.shape != shape:
            buffer = self._buffers[name] = np.empty(shape, dtype)
        return buffer

    def column(self, name: str, values: np.ndarray) -> Tuple[np.ndarray, Callable[..., None]]:
        """A column's row values in the dtype of its masked rows, and the function filling those:
        fill(out (rows, last - first, L), row values (rows,), first, last), first <= j < last."""
        values = np.asarray(values)
        if name not in self._group_of:
            return values, _fill_held
        group, background = self._group_of[name], np.asarray(self._background[name])
        dtype = np.result_type(values, background)
        values = values.astype(dtype, copy=False)
        if dtype.kind not in "biuf":
            keep = self._keep[group]

            def fill_where(out, rows, first, last):
                out[...] = np.where(
                    keep[first:last], rows[:, None, None], _j_slice(background, first, last)
                )

            return values, fill_where
        bits = np.dtype(f"u{dtype.itemsize}")
        if (group, bits) not in self._masks:
            self._masks[group, bits] = np.negative(
                self._keep[group].astype(bits)
            )  # all ones where kept
        mask = self._masks[group, bits]
        if np.broadcast_shapes(background.shape, mask.shape) != mask.shape:
            false_bits = background.astype(dtype).view(bits)

            def fill_broadcast(out, rows, first, last):
                out_bits, background_bits = out.view(bits), _j_slice(false_bits, first, last)
                np.bitwise_and(
                    mask[first:last],
                    np.bitwise_xor(rows.view(bits)[:, None, None], background_bits),
                    out=out_bits,
                )
                np.bitwise_xor(out_bits, background_bits, out=out_bits)

            return values, fill_broadcast
        if (name, dtype) not in self._kept:
            self._kept[name, dtype] = np.bitwise_and(
                background.astype(dtype).view(bits), np.invert(mask)
            )
        kept = self._kept[name, dtype]

        def fill_kept(out, rows, first, last):
            out_bits, row_bits, row_mask, row_kept = (
                out.view(bits),
                rows.view(bits),
                mask[first:last],
                kept[first:last],
            )
            if (
                row_mask.shape == out.shape[1:] and row_mask.size >= 1024
            ):  # operands of one shape or scalars
                for row, row_out in zip(row_bits, out_bits):
                    np.bitwise_and(row_mask, row, out=row_out)
                    np.bitwise_xor(row_out, row_kept, out=row_out)
            else:
                np.bitwise_and(row_mask, row_bits[:, None, None], out=out_bits)
                np.bitwise_xor(out_bits, row_kept, out=out_bits)

        return values, fill_kept


def _fill_held(out: np.ndarray, rows: np.ndarray, first: int, last: int) -> None:
    out[...] = rows[:, None, None]


def _j_slice(background: np.ndarray, first: int, last: int) -> np.ndarray:
    return background[first:last] if len(background) > 1 else background
