"""Evaluation data and models shared by the benchmark and the TFMA parity tests.

A :class:`Dataset` holds numeric model inputs, a label and extra slicing/weight columns. It is
written as gzip TFRecords of tf.Examples and used to train a small Keras model, exported the TFX
way: a SavedModel whose ``serving_default`` signature takes serialized tf.Examples.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Tuple

import numpy as np
import pyarrow as pa

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"

LABEL_KEY = "label"
WEIGHT_KEY = "weight"
SEGMENT_KEY = "segment"  # categorical, 10 values 'seg_0'..'seg_9'
REGION_KEY = "region"  # categorical, 3 values, to cross with SEGMENT_KEY
TAGS_KEY = "tags"  # multi-valued string feature, 0 to 3 values per example
USER_KEY = "user"  # with_users: a user-id-like feature, many values of a few examples each
NUM_CLASSES = 3
OUTPUT_KEY = "predictions"


@dataclasses.dataclass
class Dataset:
    """Examples of one task.

    Attributes:
      task: BINARY, MULTICLASS or REGRESSION.
      inputs: float32 model inputs of shape (n, d), stored as one feature per column.
      input_names: the tf.Example feature name of each input column.
      labels: int64 class ids (classification) or float32 targets (regression), shape (n,).
      extra: more tf.Example features (slicing, weights) as Arrow list arrays.
    """

    task: str
    inputs: np.ndarray
    input_names: Tuple[str, ...]
    labels: np.ndarray
    extra: Dict[str, pa.Array]

    @property
    def num_examples(self) -> int:
        return len(self.labels)

    def record_batch(self) -> pa.RecordBatch:
        """All features as the list-typed Arrow columns tf.Examples decode to."""
        columns = {name: _singletons(self.inputs[:, i]) for i, name in enumerate(self.input_names)}
        columns[LABEL_KEY] = _singletons(self.labels)
        columns.update(self.extra)
        return pa.RecordBatch.from_pydict(columns)


def synthetic(task: str, num_examples: int, num_inputs: int = 16, seed: int = 0) -> Dataset:
    """Gaussian inputs and a label with real signal, shifted per segment, with all slice columns."""
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((num_examples, num_inputs), dtype=np.float32)
    segment = rng.integers(0, 10, num_examples)
    signal = inputs @ rng.standard_normal(num_inputs) / np.sqrt(num_inputs) * 2.0
    signal += (segment - 4.5) * 0.2
    if task == BINARY:
        labels = (rng.random(num_examples) < 1.0 / (1.0 + np.exp(-signal))).astype(np.int64)
    elif task == MULTICLASS:
        logits = np.stack([signal, -signal, inputs[:, 0]], axis=1)
        labels = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1).astype(np.int64)
    elif task == REGRESSION:
        labels = (10.0 + 3.0 * signal + rng.standard_normal(num_examples)).astype(np.float32)
    else:
        raise ValueError(f"unknown task {task!r}")
    extra = {
        SEGMENT_KEY: _singletons(np.char.add("seg_", segment.astype(str))),
        REGION_KEY: _singletons(
            np.array(["north", "south", "west"])[rng.integers(0, 3, num_examples)]
        ),
        TAGS_KEY: _random_tags(rng, num_examples),
        WEIGHT_KEY: _singletons(rng.uniform(0.5, 2.0, num_examples).astype(np.float32)),
    }
    names = tuple(f"x{i:02d}" for i in range(num_inputs))
    return Dataset(task, inputs, names, labels, extra)


def with_users(dataset: Dataset, num_users: int, seed: int = 0, key: str = USER_KEY) -> Dataset:
    """The dataset with feature ``key``, a string 'u<id>' per example, ids uniform in
    [0, num_users)."""
    users = np.random.default_rng(seed).integers(0, num_users, dataset.num_examples)
    extra = {**dataset.extra, key: _singletons(np.char.add("u", users.astype(str)))}
    return dataclasses.replace(dataset, extra=extra)


def breast_cancer() -> Dataset:
    """scikit-learn's breast cancer data (binary); SEGMENT_KEY is the quartile of mean radius."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return _from_sklearn(BINARY, data, quantile_of="mean radius")


def iris() -> Dataset:
    """scikit-learn's iris data (3 classes); SEGMENT_KEY is the quartile of sepal length."""
    from sklearn.datasets import load_iris

    return _from_sklearn(MULTICLASS, load_iris(), quantile_of="sepal length (cm)")


def write_tfrecords(
    dataset: Dataset, directory: str, num_shards: int = 1, prefix: str = "examples"
) -> List[str]:
    """Writes the dataset as gzip TFRecords of tf.Examples, files named
    ``{prefix}-{shard}-of-{num_shards}.gz``; returns the file paths."""
    import tensorflow as tf
    from tfx_bsl.coders import example_coder

    os.makedirs(directory, exist_ok=True)
    records = dataset.record_batch()
    paths = []
    for shard, rows in enumerate(np.array_split(np.arange(records.num_rows), num_shards)):
        path = os.path.join(directory, f"{prefix}-{shard:05d}-of-{num_shards:05d}.gz")
        chunk = records.slice(rows[0], len(rows)) if len(rows) else records.slice(0, 0)
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for example in example_coder.RecordBatchToExamples(chunk):
                writer.write(example)
        paths.append(path)
    return paths


def train_and_export(
    dataset: Dataset, export_dir: str, epochs: int = 3, max_train: int = 50_000, seed: int = 0
) -> str:
    """Trains a small Keras MLP on the dataset briefly and exports it as a TFX-style SavedModel.

    The ``serving_default`` signature takes serialized tf.Examples (input ``examples``) and
    returns ``{OUTPUT_KEY: ...}``: the positive-class probability (n, 1) for BINARY, class
    probabilities (n, NUM_CLASSES) for MULTICLASS, the estimate (n, 1) for REGRESSION.
    """
    import keras
    import tensorflow as tf

    from glassbox.training.export import examples_signature, write_saved_model

    keras.utils.set_random_seed(seed)
    inputs, labels = dataset.inputs[:max_train], dataset.labels[:max_train]
    head, loss = {
        BINARY: (keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"),
        MULTICLASS: (
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
            "sparse_categorical_crossentropy",
        ),
        REGRESSION: (keras.layers.Dense(1), "mse"),
    }[dataset.task]
    normalize = keras.layers.Normalization()
    normalize.adapt(inputs)
    model = keras.Sequential(
        [
            keras.Input((inputs.shape[1],)),
            normalize,
            keras.layers.Dense(16, activation="relu"),
            head,
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    model.fit(inputs, labels, epochs=epochs, batch_size=256, verbose=0)

    def outputs(features):
        return {OUTPUT_KEY: model(tf.concat([features[n] for n in dataset.input_names], axis=1))}

    feature_spec = {name: tf.io.FixedLenFeature([1], tf.float32) for name in dataset.input_names}
    return write_saved_model(
        model, {"serving_default": examples_signature(feature_spec, outputs)}, export_dir
    )


def _from_sklearn(task: str, bunch, quantile_of: str) -> Dataset:
    inputs = bunch.data.astype(np.float32)
    names = tuple(name.replace(" (cm)", "").replace(" ", "_") for name in bunch.feature_names)
    column = inputs[:, list(bunch.feature_names).index(quantile_of)]
    quartile = np.searchsorted(np.quantile(column, [0.25, 0.5, 0.75]), column, side="right")
    extra = {SEGMENT_KEY: _singletons(np.char.add("q", quartile.astype(str)))}
    return Dataset(task, inputs, names, bunch.target.astype(np.int64), extra)


def _singletons(values: np.ndarray) -> pa.ListArray:
    """One value per example, as a list column."""
    return _lists(np.arange(len(values) + 1, dtype=np.int32), values)


def _lists(offsets: np.ndarray, values: np.ndarray) -> pa.ListArray:
    """A list column; strings become bytes, as tf.Example stores them."""
    if values.dtype.kind == "U":
        values = np.char.encode(values)
    return pa.ListArray.from_arrays(offsets, pa.array(values))


def _random_tags(rng: np.random.Generator, num_examples: int) -> pa.ListArray:
    """0 to 3 distinct tags from {'a', 'b', 'c'} per example."""
    chosen = rng.random((num_examples, 3)) < 0.4
    offsets = np.concatenate([[0], np.cumsum(chosen.sum(axis=1))]).astype(np.int32)
    return _lists(offsets, np.broadcast_to(np.array(["a", "b", "c"]), chosen.shape)[chosen])
