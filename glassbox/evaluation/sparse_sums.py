"""A slice's sums that hold only the cells its examples touched.

A batch combiner's accumulator has a fixed number of cells per slice and replicate (10,002 x 4
for a calibration histogram), but a small slice touches few of them: held densely, thousands of
slices cost gigabytes whatever the data. ``SparseSums`` holds the touched cells' flat positions
and sums; it becomes a dense array once more than 1/``DENSE_FRACTION`` of the cells are touched,
so memory is bounded by the data present. Every cell is summed in the order a dense array would
be (``x + 0.0 == x`` for every float here: no sum is ever -0.0), so results are bit-identical.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, Tuple, Union

import numpy as np

# A sum more than 1/DENSE_FRACTION of whose cells are touched is held dense.
DENSE_FRACTION = 8


@dataclasses.dataclass
class SparseSums:
    """A float64 array of ``shape``, zero but at flat (C-order) positions ``index`` (ascending,
    int64), which hold ``values``. Indexing its first axis gives a dense array, as it would."""

    shape: Tuple[int, ...]
    index: np.ndarray
    values: np.ndarray

    def dense(self) -> np.ndarray:
        array = np.zeros(self.shape)
        array.flat[self.index] = self.values
        return array

    def __getitem__(self, first: int) -> np.ndarray:
        """The dense array at ``first`` along the first axis."""
        size = math.prod(self.shape[1:])
        start, stop = np.searchsorted(self.index, [first * size, (first + 1) * size])
        array = np.zeros(self.shape[1:])
        array.flat[self.index[start:stop] - first * size] = self.values[start:stop]
        return array

    def copy(self) -> SparseSums:
        return SparseSums(self.shape, self.index.copy(), self.values.copy())

    def reshaped(self, shape: Tuple[int, ...]) -> SparseSums:
        """The same sums in a larger array (each axis at least as long)."""
        if shape == self.shape:
            return self
        index = np.ravel_multi_index(np.unravel_index(self.index, self.shape), shape)
        return SparseSums(shape, index, self.values)


Sums = Union[np.ndarray, SparseSums]


def nbytes(sums: Sums) -> int:
    """The bytes the sums' arrays hold."""
    if isinstance(sums, SparseSums):
        return sums.index.nbytes + sums.values.nbytes
    return sums.nbytes


def compact(sums: SparseSums) -> Sums:
    """The sums dense when more than 1/DENSE_FRACTION of their cells are touched."""
    if len(sums.index) * DENSE_FRACTION > math.prod(sums.shape):
        return sums.dense()
    return sums


def sums_by_group(
    index: np.ndarray, values: np.ndarray, num_groups: int, shape: Tuple[int, ...]
) -> List[Sums]:
    """Per group g, the array of ``shape`` whose flat position i holds the sum, in order, of the
    ``values`` at ``index == g * size + i`` (what ``np.bincount(index, values)`` reshaped to
    (num_groups, *shape) gives, group by group)."""
    size = math.prod(shape)
    if len(index) * DENSE_FRACTION > num_groups * size:
        dense = np.bincount(index, weights=values, minlength=num_groups * size)
        return list(dense.reshape((num_groups,) + tuple(shape)))
    cells, inverse = np.unique(index, return_inverse=True)
    totals = np.bincount(inverse.reshape(-1), weights=values, minlength=len(cells))
    bounds = np.searchsorted(cells, np.arange(num_groups + 1) * size)
    return [
        compact(SparseSums(tuple(shape), cells[start:stop] - group * size, totals[start:stop]))
        for group, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:]))
    ]


def _grown(total: np.ndarray, shape: Tuple[int, ...]) -> np.ndarray:
    if total.shape == shape:
        return total
    grown = np.zeros(shape)
    grown[tuple(slice(0, s) for s in total.shape)] = total
    return grown


def add_into(total: Sums, part: Sums) -> Sums:
    """total + part, each axis zero-padded to the longer of the two. A dense total is added to in
    place and returned unless it must grow; a sparse one is replaced by the result.

    (Called once per slice and batch for each accumulator: the common cases, equal shapes, take
    as few numpy calls as they can.)"""
    same_shape = total.shape == part.shape
    if same_shape and type(total) is np.ndarray and type(part) is np.ndarray:
        total += part
        return total
    shape = total.shape if same_shape else tuple(np.maximum(total.shape, part.shape))
    if isinstance(total, SparseSums) and isinstance(part, SparseSums):
        total, part = total.reshaped(shape), part.reshaped(shape)
        # part's cells found in total are summed into it; the others are inserted in order (a
        # linear merge: a slice's many small parts must not each re-sort its total).
        at = np.searchsorted(total.index, part.index)
        found = at < len(total.index)
        found[found] = total.index[at[found]] == part.index[found]
        new = ~found
        num_new = int(new.sum())
        if num_new == 0:
            values = total.values.copy()
            values[at] += part.values
            return SparseSums(shape, total.index, values)
        # One pass builds both merged arrays: part's new cells at their places, total's around them.
        size = len(total.index) + num_new
        is_new = np.zeros(size, dtype=bool)
        is_new[at[new] + np.arange(num_new)] = True
        index, values = np.empty(size, dtype=np.int64), np.empty(size)
        index[is_new], values[is_new] = part.index[new], part.values[new]
        old = ~is_new
        index[old] = total.index
        values[old] = total.values
        if found.any():
            values[np.flatnonzero(old)[at[found]]] += part.values[found]
        return compact(SparseSums(shape, index, values))
    if isinstance(total, SparseSums):
        total = total.dense()
    total = _grown(total, shape)
    if isinstance(part, SparseSums):
        part = part.reshaped(shape)
        total.flat[part.index] += part.values
    else:
        total[tuple(slice(0, s) for s in part.shape)] += part
    return total
