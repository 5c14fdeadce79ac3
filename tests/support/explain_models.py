"""Keras 3 models over raw features for the explanation tests, exported by the Trainer's exporter.

Every model takes a dict of [n, 1] inputs — floats ``x0``..``x{k-1}``, a string ``city``
(StringLookup + Embedding) and an integer ``rooms`` (IntegerLookup + Embedding) — and returns
logits; seeded initialisers, no training. ``export`` writes it with
``glassbox.training.model.export_serving_model``: ``serving_default`` parses serialized
tf.Examples, ``serving_features`` takes named raw tensors.
"""

from __future__ import annotations

from typing import Dict

import keras
import numpy as np
import tensorflow as tf

from glassbox.training.model import export_serving_model

CITIES = ("paris", "lyon", "nice", "lille")
ROOMS = (1, 2, 3, 4, 5)


def columns(n: int, num_numeric: int = 3, seed: int = 0) -> Dict[str, np.ndarray]:
    """n rows of the raw features of models built with num_numeric float features."""
    rng = np.random.default_rng(seed)
    result = {f"x{i}": rng.normal(size=n).astype(np.float32) for i in range(num_numeric)}
    result["city"] = np.array(CITIES, dtype=object)[rng.integers(0, len(CITIES), n)]
    result["rooms"] = rng.choice(ROOMS, n).astype(np.int64)
    return result


def _inputs(num_numeric: int) -> Dict[str, keras.KerasTensor]:
    inputs = {
        f"x{i}": keras.Input(shape=(1,), name=f"x{i}", dtype="float32") for i in range(num_numeric)
    }
    inputs["city"] = keras.Input(shape=(1,), name="city", dtype="string")
    inputs["rooms"] = keras.Input(shape=(1,), name="rooms", dtype="int64")
    return inputs


def _tokens(inputs: Dict[str, keras.KerasTensor], width: int, seed: int) -> keras.KerasTensor:
    """[n, features, width]: each feature as one token (categoricals embedded, numbers projected)."""
    init = keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    city = keras.layers.Embedding(len(CITIES) + 1, width, embeddings_initializer=init)(
        keras.layers.StringLookup(vocabulary=list(CITIES))(inputs["city"])
    )
    rooms = keras.layers.Embedding(len(ROOMS) + 1, width, embeddings_initializer=init)(
        keras.layers.IntegerLookup(vocabulary=list(ROOMS))(inputs["rooms"])
    )
    numbers = [
        keras.layers.Dense(width, kernel_initializer=init)(keras.layers.Reshape((1, 1))(value))
        for name, value in inputs.items()
        if name.startswith("x")
    ]
    return keras.layers.Concatenate(axis=1)(numbers + [city, rooms])


def dict_model(num_numeric: int = 3, outputs: int = 1, seed: int = 0) -> keras.Model:
    """An MLP over numeric, embedded string and embedded integer features."""
    inputs = _inputs(num_numeric)
    hidden = keras.layers.Flatten()(_tokens(inputs, 4, seed))
    hidden = keras.layers.Dense(
        16, activation="tanh", kernel_initializer=keras.initializers.GlorotNormal(seed)
    )(hidden)
    logits = keras.layers.Dense(
        outputs, kernel_initializer=keras.initializers.GlorotNormal(seed + 1)
    )(hidden)
    return keras.Model(inputs, logits)


def sequence_model(num_numeric: int = 3, seed: int = 0) -> keras.Model:
    """Features as a sequence of tokens through an LSTM and multi-head self-attention."""
    inputs = _inputs(num_numeric)
    tokens = _tokens(inputs, 8, seed)
    hidden = keras.layers.LSTM(
        8,
        return_sequences=True,
        seed=seed,
        kernel_initializer=keras.initializers.GlorotNormal(seed),
    )(tokens)
    hidden = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, seed=seed)(hidden, hidden)
    pooled = keras.layers.GlobalAveragePooling1D()(hidden)
    logit = keras.layers.Dense(
        1, kernel_initializer=keras.initializers.RandomNormal(stddev=2.0, seed=seed)
    )(pooled)
    return keras.Model(inputs, logit)


def export(model: keras.Model, path: str) -> str:
    """Exports model (see the module docstring); returns path."""
    dtypes = {"float32": tf.float32, "string": tf.string, "int64": tf.int64}
    spec = {
        name: tf.io.FixedLenFeature([1], dtypes[tensor.dtype])
        for name, tensor in model.input.items()
    }
    export_serving_model(model, spec, path)
    return path
