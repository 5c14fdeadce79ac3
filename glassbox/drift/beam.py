"""Drift sketches as Beam PTransforms: the evaluation's batches -> a summary per slice and
feature (and for the candidate's predictions), merged in any order.

    Batch --SketchValues--> ((slice, role, name), (kind, values)) per slice and feature present
      --CombinePerKey(MergeSketches)--> ((slice, role, name), summary)
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.slicing import Slicer, evaluated_slicing_specs
from glassbox.data.types import Batch, ModelName, SliceKey
from glassbox.drift.distances import CATEGORICAL, NUMERIC
from glassbox.drift.sketches import Sketch, Values
from glassbox.protos.drift_config_pb2 import DriftConfig

FEATURE = "feature"
PREDICTION = "prediction"
DEFAULT_NUM_QUANTILES = 1000
DEFAULT_NUM_TOP_VALUES = 100
DEFAULT_NUM_BINS = 10

# (slice key, role: FEATURE or PREDICTION, feature or prediction name)
DriftKey = Tuple[SliceKey, str, str]


def num_quantiles(config: DriftConfig) -> int:
    return config.num_quantiles or DEFAULT_NUM_QUANTILES


def num_bins(config: DriftConfig) -> int:
    return config.num_bins or DEFAULT_NUM_BINS


def _column_values(column: pa.Array, categorical: bool) -> Tuple[str, Values]:
    """A list-typed column's values, flattened: (NUMERIC, float64) or (CATEGORICAL, strings)."""
    values = (
        column.flatten()
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type)
        else column
    )
    values = values.drop_null()
    numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    if numeric and not categorical:
        return NUMERIC, values.to_numpy(zero_copy_only=False).astype(np.float64)
    return CATEGORICAL, values if not numeric else pc.cast(values, pa.string())


def prediction_names(predictions: np.ndarray) -> Sequence[str]:
    """'prediction' for one column of predictions, else 'prediction[i]' per column."""
    if predictions.ndim == 1:
        return [PREDICTION]
    return [f"{PREDICTION}[{i}]" for i in range(predictions.shape[1])]


class _SketchValues(beam.DoFn):
    """Batch -> ((slice, role, name), (kind, values)) for each slice of the batch and each
    sketched feature it holds, and the candidate's predictions."""

    def __init__(
        self, eval_config: config_pb2.EvalConfig, config: DriftConfig, candidate: ModelName
    ):
        self._eval_config = eval_config
        self._features = list(config.features)
        self._categorical = set(config.categorical_features)
        self._candidate = candidate

    def setup(self):
        self._slicer = Slicer([spec for _, spec in evaluated_slicing_specs(self._eval_config)])

    def process(self, batch: Batch) -> Iterator[Tuple[DriftKey, Tuple[str, Values]]]:
        membership = self._slicer.membership(batch.features)
        present = [f for f in self._features if f in batch.features.schema.names]
        predictions = batch.predictions[self._candidate]
        names = prediction_names(predictions)
        columns = predictions.reshape(len(predictions), len(names))
        order = np.argsort(membership.groups, kind="stable")
        groups, rows = membership.groups[order], membership.rows[order]
        bounds = np.searchsorted(groups, np.arange(len(membership.keys) + 1))
        for index, key in enumerate(membership.keys):
            slice_rows = rows[bounds[index] : bounds[index + 1]]
            if not slice_rows.size:
                continue
            taken = pa.array(slice_rows)
            for feature in present:
                column = batch.features.column(feature).take(taken)
                yield (key, FEATURE, feature), _column_values(column, feature in self._categorical)
            for i, name in enumerate(names):
                yield (key, PREDICTION, name), (NUMERIC, columns[slice_rows, i])


class _MergeSketches(beam.CombineFn):
    """(kind, values) of one key -> its summary; sketches merge in any order."""

    def __init__(self, num_quantiles: int, num_top_values: int):
        self._sizes = (num_quantiles, num_top_values)

    def create_accumulator(self) -> Optional[Sketch]:
        return None

    def add_input(self, sketch: Optional[Sketch], element: Tuple[str, Values]) -> Sketch:
        kind, values = element
        return (sketch or Sketch(kind, *self._sizes)).add(values)

    def merge_accumulators(self, sketches):
        present = [s for s in sketches if s is not None]
        if not present:
            return None
        for other in present[1:]:
            present[0].merge(other)
        return present[0]

    def compact(self, sketch: Optional[Sketch]) -> Optional[Sketch]:
        return sketch and sketch.compact()

    def extract_output(self, sketch: Optional[Sketch]):
        return sketch and sketch.summary()


class SketchBatches(beam.PTransform):
    """PCollection[Batch] -> ((slice key, role, name), summary) for every slice of eval_config
    and every feature of config.features present in it, and the candidate's predictions."""

    def __init__(
        self, eval_config: config_pb2.EvalConfig, config: DriftConfig, candidate: ModelName
    ):
        super().__init__()
        self._eval_config = eval_config
        self._config = config
        self._candidate = candidate

    def expand(self, batches):
        return (
            batches
            | "SketchValues"
            >> beam.ParDo(_SketchValues(self._eval_config, self._config, self._candidate))
            | "MergeSketches"
            >> beam.CombinePerKey(
                _MergeSketches(
                    num_quantiles(self._config),
                    self._config.num_top_values or DEFAULT_NUM_TOP_VALUES,
                )
            )
            | "Summarised" >> beam.Filter(lambda element: element[1] is not None)
        )
