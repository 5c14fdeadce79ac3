"""The vectorised, mergeable counterpart of a TFMA primitive combiner, and the one sum they share.

A TFMA combiner folds examples one by one (``add_input``). A ``BatchCombiner`` turns a whole
batch into *elements*, each adding a vector of values to one *cell* of a fixed-shape float64
array, and sums them per slice and bootstrap replicate with a single ``np.bincount`` per value.
Accumulators are plain sums: merging is ``+`` (after zero-padding, for the few accumulators whose
size grows with the number of classes seen), and an unsampled or resampled replicate differs only
by the per-example multipliers.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Dict, Optional, Tuple

import numpy as np
from tensorflow_model_analysis.metrics import metric_types

from glassbox.evaluation.errors import EvaluationError
from glassbox.evaluation.types import Batch


@dataclasses.dataclass
class Elements:
    """What a batch adds to an accumulator of shape ``shape``.

    Element i adds ``values[i]`` (the accumulator's last axis) at flat position ``cells[i]`` of the
    leading axes, on behalf of batch row ``rows[i]``.
    """

    rows: np.ndarray
    cells: np.ndarray
    values: np.ndarray
    shape: Tuple[int, ...]


def _join_pairs_with_elements(elements_rows: np.ndarray, pair_rows: np.ndarray, num_rows: int):
    """For each (slice pair, element of that pair's row): the pair index and the element index."""
    order = np.argsort(elements_rows, kind="stable")
    per_row = np.bincount(elements_rows, minlength=num_rows)
    first = np.cumsum(per_row) - per_row
    repeats = per_row[pair_rows]
    pairs = np.repeat(np.arange(len(pair_rows)), repeats)
    offsets = np.arange(len(pairs)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    return pairs, order[first[pair_rows][pairs] + offsets]


def sum_into_slices(elements: Elements, rows: np.ndarray, groups: np.ndarray, num_groups: int,
                    multipliers: np.ndarray) -> np.ndarray:
    """Sums elements per slice and replicate -> (num_groups, R, *elements.shape).

    ``rows``/``groups`` pair batch rows with slices (a row may be in several slices);
    ``multipliers[r, row]`` scales what the row adds to replicate r.
    """
    num_replicates, num_rows = multipliers.shape
    num_cells = int(np.prod(elements.shape[:-1]))
    pairs, picked = _join_pairs_with_elements(elements.rows, rows, num_rows)
    scale = multipliers[:, rows[pairs]]
    # A row drawn 0 times adds nothing, as TFMA's resampling never feeds it (not 0 * inf = NaN).
    replicate, drawn = np.nonzero(scale)
    scale, pairs, picked = scale[replicate, drawn], pairs[drawn], picked[drawn]
    index = (groups[pairs] * num_replicates + replicate) * num_cells + elements.cells[picked]
    size = num_groups * num_replicates * num_cells
    sums = [np.bincount(index, weights=scale * column[picked], minlength=size) for column in elements.values.T]
    return np.stack(sums, axis=-1).reshape((num_groups, num_replicates) + tuple(elements.shape))


def model_inputs(batch: Batch, model_name: Optional[str]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's labels, predictions and example weights in the batch (no name, as in TFMA, is '')."""
    model_name = model_name or ""
    try:
        return batch.labels[model_name], batch.predictions[model_name], batch.example_weights[model_name]
    except KeyError:
        raise EvaluationError(
            f"a metric reads model {model_name!r}, but the batch holds models "
            f"{sorted(batch.predictions)}") from None


class BatchCombiner(abc.ABC):
    """Vectorised counterpart of one TFMA primitive combiner: same keys, same output types."""

    @abc.abstractmethod
    def zeros(self) -> np.ndarray:
        """The accumulator of one slice and one replicate before any example."""

    @abc.abstractmethod
    def elements(self, batch: Batch) -> Elements:
        """What each example of the batch adds to the accumulator."""

    @abc.abstractmethod
    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        """TFMA's combiner output, with TFMA's Python types, for one slice and one replicate."""

    def accumulate(self, batch: Batch, rows: np.ndarray, groups: np.ndarray, num_groups: int,
                   multipliers: np.ndarray) -> np.ndarray:
        """Accumulators of the batch's slices, shape (num_groups, R, *accumulator shape).

        Args:
          batch: the examples.
          rows, groups: batch row ``rows[i]`` is in slice ``groups[i] < num_groups``.
          multipliers: (R, n) per-example weight multipliers; row 0 is all ones.
        """
        return sum_into_slices(self.elements(batch), rows, groups, num_groups, multipliers)


def add_padded(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sum of two accumulators, zero-padding each axis to the longer of the two."""
    if left.shape == right.shape:
        return left + right
    shape = np.maximum(left.shape, right.shape)
    total = np.zeros(shape)
    total[tuple(slice(0, s) for s in left.shape)] += left
    total[tuple(slice(0, s) for s in right.shape)] += right
    return total
