"""TFMA itself, run in-process on the same examples: the oracle the metrics engine is tested against.

``tfma_combiner_output`` feeds examples one by one to a TFMA primitive combiner; ``tfma_evaluate``
runs TFMA's evaluator core (``_ComputeMetricsAndPlots``: preprocessors, per-example combiners,
derived metrics, diffs, private-metric removal, min slice size) on a tiny DirectRunner pipeline.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import tempfile
from typing import Any, Dict, List, Sequence

import apache_beam as beam
import numpy as np
import pyarrow as pa
from tensorflow_model_analysis import constants
from tensorflow_model_analysis.evaluators import (
    metrics_plots_and_validations_evaluator as tfma_evaluator,
)
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.data.types import Batch, SliceKey, SliceMembership


def make_batch(
    labels: Dict[str, np.ndarray],
    predictions: Dict[str, np.ndarray],
    example_weights: Dict[str, np.ndarray],
) -> Batch:
    num_rows = len(next(iter(predictions.values())))
    return Batch(
        pa.RecordBatch.from_pydict({"row": np.arange(num_rows)}),
        labels,
        predictions,
        example_weights,
    )


def overall_membership(num_rows: int) -> SliceMembership:
    return SliceMembership(
        keys=[()], rows=np.arange(num_rows), groups=np.zeros(num_rows, dtype=np.int64)
    )


def membership_of(slice_keys_per_row: Sequence[Sequence[SliceKey]]) -> SliceMembership:
    """COO membership from each row's list of slice keys."""
    keys = sorted({key for row_keys in slice_keys_per_row for key in row_keys})
    pairs = [
        (row, keys.index(key))
        for row, row_keys in enumerate(slice_keys_per_row)
        for key in row_keys
    ]
    rows, groups = np.array(pairs).T
    return SliceMembership(keys=keys, rows=rows, groups=groups)


def _example_value(values: np.ndarray, row: int) -> np.ndarray:
    value = values[row]
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


def _by_model(values: Dict[str, np.ndarray], row: int):
    if list(values) == [""]:
        return _example_value(values[""], row)
    return {name: _example_value(v, row) for name, v in values.items()}


def example_extracts(batch: Batch) -> List[Dict[str, Any]]:
    """The batch as TFMA's per-example extracts (labels, predictions, weights keyed by model)."""
    return [
        {
            constants.LABELS_KEY: _by_model(batch.labels, row),
            constants.PREDICTIONS_KEY: _by_model(batch.predictions, row),
            constants.EXAMPLE_WEIGHTS_KEY: _by_model(batch.example_weights, row),
        }
        for row in range(batch.num_rows)
    ]


def tfma_combiner_output(combiner, extracts: List[Dict[str, Any]]) -> Dict[Any, Any]:
    """TFMA's primitive combiner fed example by example (as its evaluator feeds it)."""
    combiner.setup()
    accumulator = combiner.create_accumulator()
    for extract in extracts:
        accumulator = combiner.add_input(accumulator, metric_types.StandardMetricInputs(extract))
    return combiner.extract_output(accumulator)


def tfma_evaluate(
    eval_config: config_pb2.EvalConfig,
    batch: Batch,
    slice_keys_per_row: Sequence[Sequence[SliceKey]],
) -> Dict[SliceKey, tuple]:
    """{slice key: (metrics, plots)} as TFMA's evaluator computes them (no confidence intervals)."""
    extracts = example_extracts(batch)
    for extract, keys in zip(extracts, slice_keys_per_row):
        extract[constants.SLICE_KEY_TYPES_KEY] = slicer_lib.slice_keys_to_numpy_array(list(keys))
    with tempfile.TemporaryDirectory() as directory:
        with beam.Pipeline() as pipeline:
            evaluation = (
                pipeline
                | beam.Create(extracts, reshuffle=False)
                | tfma_evaluator._ComputeMetricsAndPlots(
                    eval_config, list(eval_config.metrics_specs)
                )
            )
            for kind in (constants.METRICS_KEY, constants.PLOTS_KEY):
                _ = (
                    evaluation[kind]
                    | f"Collect{kind}" >> beam.combiners.ToList()
                    | f"Save{kind}" >> beam.Map(_save, os.path.join(directory, kind))
                )
        metrics, plots = (
            _load(os.path.join(directory, kind))
            for kind in (constants.METRICS_KEY, constants.PLOTS_KEY)
        )
    return {key: (metrics[key], plots.get(key, {})) for key in metrics}


def _save(values, path: str) -> None:
    with open(path, "wb") as f:
        pickle.dump(dict(values), f)


def _load(path: str) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f)


def _close(expected: float, actual: float, rtol: float) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    return math.isclose(expected, actual, rel_tol=rtol, abs_tol=rtol)


def assert_equivalent(expected: Any, actual: Any, rtol: float = 1e-6, path: str = "value") -> None:
    """Same structure and types; numbers equal within ``rtol`` (NaN equals NaN); protos equal."""
    if isinstance(expected, (bool, str, type(None))):
        assert expected == actual, f"{path}: {expected!r} != {actual!r}"
    elif isinstance(expected, (int, float, np.number)):
        assert type(actual) is type(expected), f"{path}: {type(actual)} is not {type(expected)}"
        assert _close(float(expected), float(actual), rtol), (
            f"{path}: expected {expected!r}, got {actual!r}"
        )
    elif isinstance(expected, np.ndarray):
        assert np.shape(expected) == np.shape(actual), (
            f"{path}: shape {np.shape(actual)} != {expected.shape}"
        )
        for i, (e, a) in enumerate(zip(expected.ravel(), np.asarray(actual).ravel())):
            assert_equivalent(e, a, rtol, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {type(actual)} is not a dict"
        assert set(expected) == set(actual), (
            f"{path}: keys differ: missing {set(expected) - set(actual)}, extra {set(actual) - set(expected)}"
        )
        for key in expected:
            assert_equivalent(expected[key], actual[key], rtol, f"{path}[{key}]")
    elif isinstance(expected, (list, tuple)):
        assert type(expected) is type(actual) and len(expected) == len(actual), (
            f"{path}: {actual!r} != {expected!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_equivalent(e, a, rtol, f"{path}[{i}]")
    elif dataclasses.is_dataclass(expected):
        assert type(expected) is type(actual), f"{path}: {type(actual)} != {type(expected)}"
        assert_equivalent(dataclasses.astuple(expected), dataclasses.astuple(actual), rtol, path)
    elif hasattr(expected, "ListFields"):  # a proto: compare field by field through its dict form
        from google.protobuf import json_format  # noqa: PLC0415

        assert type(expected) is type(actual), f"{path}: {type(actual)} != {type(expected)}"
        assert_equivalent(
            json_format.MessageToDict(expected), json_format.MessageToDict(actual), rtol, path
        )
    else:  # plain objects with slots, e.g. TFMA's _WeightedLabelsPredictionsExamples
        assert type(expected) is type(actual), f"{path}: {type(actual)} != {type(expected)}"
        for slot in expected.__slots__:
            assert_equivalent(
                getattr(expected, slot), getattr(actual, slot), rtol, f"{path}.{slot}"
            )
