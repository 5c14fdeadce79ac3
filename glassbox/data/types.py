"""Data passed between the stages of an evaluation.

The evaluation runs per *batch* of examples, never per example: every stage takes and returns
columnar numpy/Arrow data, so Python cost scales with batches x slices, not examples x slices.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pyarrow as pa

# TFMA's slice key: () for the overall slice, else ((column, value), ...) sorted by column.
SliceValue = Union[str, int, float]
SliceKey = Tuple[Tuple[str, SliceValue], ...]

# Model names as TFMA keys them: '' for a single model, else ModelSpec.name.
ModelName = str


@dataclasses.dataclass
class Batch:
    """A batch of decoded examples and each model's inputs to the metrics.

    Attributes:
      features: the examples' features as decoded by tfx_bsl (list-typed Arrow columns); slicing
        reads it.
      labels: per model name, float64 labels of shape (n,) or (n, k).
      predictions: per model name, float64 predictions of shape (n,) or (n, k), finite.
      example_weights: per model name, float64 weights of shape (n,) (ones without a weight key).
      source: the file its rows were read from and the record number of its first row, if known
        (the rows are consecutive records of one file).
    """

    features: pa.RecordBatch
    labels: Dict[ModelName, np.ndarray]
    predictions: Dict[ModelName, np.ndarray]
    example_weights: Dict[ModelName, np.ndarray]
    source: Optional[Tuple[str, int]] = None

    @property
    def num_rows(self) -> int:
        return self.features.num_rows


@dataclasses.dataclass
class SliceMembership:
    """Which rows of a batch fall in which slices, as parallel int arrays (COO form).

    Row ``rows[i]`` of the batch belongs to slice ``keys[groups[i]]``. A row appears once per
    slice it belongs to (multi-valued features put a row in several slices of one spec).
    """

    keys: List[SliceKey]
    rows: np.ndarray
    groups: np.ndarray
