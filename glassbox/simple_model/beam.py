"""The simpler-model check as a Beam PTransform: the evaluation's batches -> a seeded sample of
examples -> simple_model.json (``compare``).

    Batch --SampleBatch--> its examples of smallest seeded hash (at most sample_size)
      --CombineGlobally(MergeSamples)--> the sample --WriteComparison--> simple_model.json

An example's hash is of its contents (the sampled features' values and its label) keyed by the
seed, so the sample and its split (the hash's low bits: held out or fitting) depend only on the
data and the seed, never on files, batches, their order or the number of workers.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Dict, FrozenSet, Optional, Sequence

import apache_beam as beam
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from glassbox.data.types import Batch, ModelName
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.simple_model import config as config_lib
from glassbox.simple_model.compare import Sample, compare
from glassbox.simple_model.files import write_comparison

_SPLIT_BITS = 20


@dataclasses.dataclass
class Rows:
    """Sampled examples: their hashes (ascending), feature columns (float64 with NaN, or objects:
    bytes, None), labels, weights and predictions; the examples seen; the features found with
    more than one value in an example (left out)."""

    hashes: np.ndarray
    features: Dict[str, np.ndarray]
    labels: np.ndarray
    weights: np.ndarray
    predictions: np.ndarray
    examples: int
    multivalent: FrozenSet[str]

    def take(self, order: np.ndarray) -> "Rows":
        return dataclasses.replace(
            self,
            hashes=self.hashes[order],
            features={name: values[order] for name, values in self.features.items()},
            labels=self.labels[order],
            weights=self.weights[order],
            predictions=self.predictions[order],
        )


def _value_hashes(column: pa.Array) -> np.ndarray:
    """Per example, a hash of a list-typed column's values in their order (0 for none)."""
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    lengths = lengths.astype(np.int64)
    values = column.flatten().to_numpy(zero_copy_only=False)
    hashes = pd.util.hash_array(values, categorize=False) if len(values) else np.zeros(0, np.uint64)
    position = np.arange(len(values)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    hashes = pd.util.hash_array(hashes ^ position.astype(np.uint64))
    result = np.zeros(len(lengths), np.uint64)
    np.add.at(result, np.repeat(np.arange(len(lengths)), lengths), hashes)
    return result


@functools.lru_cache(maxsize=None)
def _word(text: str) -> np.uint64:
    return pd.util.hash_array(np.array([text], dtype=object))[0]


def example_hashes(
    features: pa.RecordBatch, names: Sequence[str], labels: np.ndarray, seed: int
) -> np.ndarray:
    """Each example's seeded hash of the named features' values (absent ones: none) and its label."""
    n = features.num_rows
    hashes = np.full(n, pd.util.hash_array(np.array([seed], np.uint64))[0], np.uint64)
    for name in sorted(names):
        values = (
            _value_hashes(features.column(name))
            if name in features.schema.names
            else np.zeros(n, np.uint64)
        )
        hashes = pd.util.hash_array(hashes ^ values ^ _word(name))
    for column in labels.reshape(n, -1).T:
        hashes = pd.util.hash_array(hashes ^ pd.util.hash_array(column))
    return hashes


def _single_values(column: Optional[pa.Array], n: int) -> Optional[np.ndarray]:
    """A list-typed column's one value per example (NaN or None where absent), or None when an
    example holds more than one."""
    if column is None:
        return np.full(n, np.nan)
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    if (lengths > 1).any():
        return None
    values = column.flatten().to_numpy(zero_copy_only=False)
    numeric = values.dtype.kind in "iufb"
    result = np.full(n, np.nan) if numeric else np.full(n, None, dtype=object)
    result[lengths == 1] = values.astype(np.float64) if numeric else values
    return result


class _SampleBatch(beam.DoFn):
    """A Batch -> Rows of its (at most size) examples of smallest hash."""

    def __init__(self, features: Sequence[str], size: int, seed: int, candidate: ModelName):
        self._features = sorted(features)
        self._size = size
        self._seed = seed
        self._candidate = candidate

    def process(self, batch: Batch):
        labels = batch.labels[self._candidate]
        hashes = example_hashes(batch.features, self._features, labels, self._seed)
        kept = np.argsort(hashes, kind="stable")[: self._size]
        taken = pa.array(kept)
        present = set(batch.features.schema.names)
        columns, multivalent = {}, set()
        for name in self._features:
            column = batch.features.column(name).take(taken) if name in present else None
            values = _single_values(column, len(kept))
            if values is None:
                multivalent.add(name)
            else:
                columns[name] = values
        yield Rows(
            hashes=hashes[kept],
            features=columns,
            labels=labels[kept],
            weights=batch.example_weights[self._candidate][kept],
            predictions=batch.predictions[self._candidate][kept],
            examples=batch.num_rows,
            multivalent=frozenset(multivalent),
        )


def merge(samples: Sequence[Rows], size: int) -> Rows:
    """One Rows of the size examples of smallest hash among the samples' (in any order)."""
    multivalent = frozenset().union(*(s.multivalent for s in samples))
    names = sorted(set().union(*(s.features for s in samples)) - multivalent)
    merged = Rows(
        hashes=np.concatenate([s.hashes for s in samples]),
        features={name: np.concatenate([s.features[name] for s in samples]) for name in names},
        labels=np.concatenate([s.labels for s in samples]),
        weights=np.concatenate([s.weights for s in samples]),
        predictions=np.concatenate([s.predictions for s in samples]),
        examples=sum(s.examples for s in samples),
        multivalent=multivalent,
    )
    return merged.take(np.argsort(merged.hashes, kind="stable")[:size])


class _MergeSamples(beam.CombineFn):
    def __init__(self, size: int):
        self._size = size

    def create_accumulator(self):
        return None

    def add_input(self, accumulator, rows):
        return rows if accumulator is None else merge([accumulator, rows], self._size)

    def merge_accumulators(self, accumulators):
        present = [a for a in accumulators if a is not None]
        return merge(present, self._size) if present else None

    def extract_output(self, accumulator):
        return accumulator


def held_out(hashes: np.ndarray, fraction: float) -> np.ndarray:
    """Which sampled examples are held out: those whose hash's low bits fall under fraction."""
    return (hashes & np.uint64(2**_SPLIT_BITS - 1)) < np.uint64(round(fraction * 2**_SPLIT_BITS))


def sample_of(rows: Rows, config: SimpleModelConfig) -> Sample:
    """The comparison's Sample of merged Rows (bytes decoded as UTF-8)."""
    fraction = config.holdout_fraction or config_lib.DEFAULT_HOLDOUT_FRACTION
    features = {
        name: (
            np.array(
                [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in values],
                dtype=object,
            )
            if values.dtype == object
            else values
        )
        for name, values in rows.features.items()
    }
    return Sample(
        features=features,
        labels=rows.labels,
        weights=rows.weights,
        predictions=rows.predictions,
        held_out=held_out(rows.hashes, fraction),
        left_out=tuple(sorted(rows.multivalent)),
        examples=rows.examples,
    )


def _write(rows: Optional[Rows], output_dir: str, config: SimpleModelConfig) -> None:
    if rows is not None:
        write_comparison(output_dir, compare(sample_of(rows, config), config))


class CompareWithSimpleModels(beam.PTransform):
    """PCollection[Batch] -> simple_model.json in output_dir: the candidate against simple models
    fitted on a seeded sample of the batches' examples.

    Args:
      config: the SimpleModelConfig, its features filled in (``compare`` reads those present).
      candidate: the candidate's model name in the batches.
    """

    def __init__(self, output_dir: str, config: SimpleModelConfig, candidate: ModelName):
        super().__init__()
        self._output_dir = output_dir
        self._config = config
        self._candidate = candidate

    def expand(self, batches):
        size = self._config.sample_size or config_lib.DEFAULT_SAMPLE_SIZE
        return (
            batches
            | "SampleBatch"
            >> beam.ParDo(
                _SampleBatch(self._config.features, size, self._config.seed, self._candidate)
            )
            | "MergeSamples" >> beam.CombineGlobally(_MergeSamples(size))
            | "WriteComparison" >> beam.Map(_write, self._output_dir, self._config)
        )
