"""The vectorised, mergeable counterpart of a TFMA primitive combiner, and the one sum they share.

A TFMA combiner folds examples one by one (``add_input``). A ``BatchCombiner`` turns a whole
batch into *elements*, each adding a vector of values to one *cell* of a fixed-shape float64
array, and sums them per slice and bootstrap replicate with a single ``np.bincount``, holding only
the cells touched when few are (``sparse_sums``). Accumulators are plain sums: merging is ``+=``
(after zero-padding, for the few accumulators whose size grows with the number of classes seen),
and an unsampled or resampled replicate differs only by the per-example multipliers.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from tensorflow_model_analysis.metrics import metric_types

from glassbox.data.types import Batch
from glassbox.evaluation.errors import EvaluationError
from glassbox.evaluation.sparse_sums import Sums, sums_by_group


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


def slice_layers(rows: np.ndarray, groups: np.ndarray, num_rows: int) -> List[np.ndarray]:
    """Splits (row, slice) pairs (batch row ``rows[i]`` is in slice ``groups[i]``) into layers in
    which a row is in at most one slice: per layer, each row's slice, -1 for none. A row's k-th
    pair (in the given order) goes to layer k, so slices of one spec on a single-valued feature
    (or the overall slice) each stay in one layer."""
    order = np.argsort(rows, kind="stable")
    per_row = np.bincount(rows, minlength=num_rows)
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    layers = []
    for k in range(int(per_row.max(initial=0))):
        in_layer = rank == k
        slice_of_row = np.full(num_rows, -1, dtype=np.int64)
        slice_of_row[rows[in_layer]] = groups[in_layer]
        layers.append(slice_of_row)
    return layers


def sum_into_slices(
    elements: Elements, layers: Sequence[np.ndarray], num_groups: int, multipliers: np.ndarray
) -> List[Sums]:
    """Sums elements per slice and replicate -> per slice, (R, *elements.shape) sums (dense or
    ``SparseSums``).

    ``layers`` (``slice_layers``) say which slices each batch row is in; ``multipliers[r, row]``
    scales what the row adds to replicate r. A cell adds up its elements in element order (layer
    by layer), so a slice's sums do not depend on the others.
    """
    num_replicates = len(multipliers)
    num_cells = int(np.prod(elements.shape[:-1]))
    slices, picked = [], []
    for slice_of_row in layers:
        element_slices = slice_of_row[elements.rows]
        in_slice = np.flatnonzero(element_slices >= 0)
        slices.append(element_slices[in_slice])
        picked.append(in_slice)
    slices = np.concatenate(slices or [np.zeros(0, dtype=np.int64)])
    picked = np.concatenate(picked or [np.zeros(0, dtype=np.int64)])
    values = elements.values[picked]
    if num_replicates == 1:  # the point estimate only: multipliers are ones
        index = slices * num_cells + elements.cells[picked]
    else:
        scale = multipliers[:, elements.rows[picked]]
        # A row drawn 0 times adds nothing, as TFMA's resampling never feeds it (not 0 * inf = NaN).
        replicate, drawn = np.nonzero(scale)
        index = (slices[drawn] * num_replicates + replicate) * num_cells + elements.cells[
            picked[drawn]
        ]
        values = values[drawn] * scale[replicate, drawn][:, None]
    # Flat positions in the accumulators' layout, one per (element, value column).
    width = elements.shape[-1]
    flat_index = (index[:, None] * width + np.arange(width)).ravel()
    return sums_by_group(
        flat_index, values.ravel(), num_groups, (num_replicates,) + tuple(elements.shape)
    )


def model_inputs(
    batch: Batch, model_name: Optional[str]
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's labels, predictions and example weights in the batch (no name, as in TFMA, is '')."""
    model_name = model_name or ""
    try:
        return (
            batch.labels[model_name],
            batch.predictions[model_name],
            batch.example_weights[model_name],
        )
    except KeyError:
        raise EvaluationError(
            f"a metric reads model {model_name!r}, but the batch holds models "
            f"{sorted(batch.predictions)}"
        ) from None


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

    def accumulate(
        self, batch: Batch, layers: Sequence[np.ndarray], num_groups: int, multipliers: np.ndarray
    ) -> List[Sums]:
        """Accumulators of the batch's slices: per slice, (R, *accumulator shape) sums.

        Args:
          batch: the examples.
          layers: the slices (< num_groups) of each batch row, as ``slice_layers`` gives them.
          multipliers: (R, n) per-example weight multipliers; row 0 is all ones.
        """
        return sum_into_slices(self.elements(batch), layers, num_groups, multipliers)
