"""Small real test data for every test module: tf.Examples, TFRecord files, Keras SavedModels.

Models are Keras 3 functional models with seeded initialisers (no training, so building one
takes well under a second) exported with ``glassbox.training.export`` the way TFX Trainer
modules export them: a ``serving_default`` signature that either parses serialized
``tf.Example``s inside a ``tf.function`` (``inputs='examples'``) or takes one named tensor per
feature (``inputs='features'``).

Every example has the same features:
  x0..x{NUM_NUMERIC-1}  float, N(0, 1)        category  bytes, one of CATEGORIES
  count                 int64 in [0, 5)       label     int64 binary label
  weight                float in [0.5, 2)     class     int64 multi-class label in [0, 3)
  target                float regression label
"""

from __future__ import annotations

import os
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from glassbox.training.export import examples_signature, features_signature, write_saved_model

NUM_NUMERIC = 3
NUMERIC_FEATURES = tuple(f"x{i}" for i in range(NUM_NUMERIC))
CATEGORIES = ("a", "b", "c")
NUM_CLASSES = 3
MODEL_FEATURES = NUMERIC_FEATURES + ("category", "count")

_FEATURE_DTYPES = {
    **{name: tf.float32 for name in NUMERIC_FEATURES},
    "category": tf.string,
    "count": tf.int64,
}

FeatureValue = Union[None, float, int, str, bytes, Sequence]


def to_example(features: Mapping[str, FeatureValue]) -> tf.train.Example:
    """A tf.Example from python values; a scalar is a one-value list, None leaves the feature out.

    The list type follows the values: floats -> float_list, ints -> int64_list, str/bytes ->
    bytes_list; an empty list gives a feature present with no values (and no list type).
    """
    example = tf.train.Example()
    for name, value in features.items():
        if value is None:
            continue
        values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
        feature = example.features.feature[name]
        if not values:
            continue
        if any(isinstance(v, (str, bytes)) for v in values):
            feature.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in values)
        elif any(isinstance(v, (float, np.floating)) for v in values):
            feature.float_list.value.extend(float(v) for v in values)
        else:
            feature.int64_list.value.extend(int(v) for v in values)
    return example


def make_examples(n: int, seed: int = 0) -> List[tf.train.Example]:
    """n examples with every feature of the module docstring, single-valued, deterministic."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, NUM_NUMERIC)).astype(np.float32)
    columns = {
        **{name: numeric[:, i] for i, name in enumerate(NUMERIC_FEATURES)},
        "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
        "count": rng.integers(0, 5, n),
        "label": (numeric.sum(axis=1) + rng.normal(size=n) > 0).astype(np.int64),
        "weight": rng.uniform(0.5, 2.0, n).astype(np.float32),
        "class": rng.integers(0, NUM_CLASSES, n),
        "target": (numeric @ np.arange(1, NUM_NUMERIC + 1) + rng.normal(size=n)).astype(np.float32),
    }
    rows = [dict(zip(columns, row)) for row in zip(*(c.tolist() for c in columns.values()))]
    return [to_example(row) for row in rows]


def serialize(examples: Iterable[Union[tf.train.Example, bytes]]) -> List[bytes]:
    """Serialized bytes of examples (bytes pass through)."""
    return [e if isinstance(e, bytes) else e.SerializeToString() for e in examples]


def serialize_reordered(example: tf.train.Example) -> bytes:
    """The example serialized with its feature map in reverse key order, as a writer in another
    process may order it: one-feature Examples concatenated, which parse as their merge."""
    return b"".join(
        tf.train.Example(
            features=tf.train.Features(feature={key: example.features.feature[key]})
        ).SerializeToString()
        for key in sorted(example.features.feature, reverse=True)
    )


def write_tfrecords(
    path: str, examples: Iterable[Union[tf.train.Example, bytes]], gzip: bool = True
) -> str:
    """Writes examples to one TFRecord file (GZIP-compressed unless gzip=False); returns path."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with tf.io.TFRecordWriter(path, options="GZIP" if gzip else None) as writer:
        for record in serialize(examples):
            writer.write(record)
    return path


def write_examples_artifact(
    uri: str, splits: Mapping[str, Sequence[tf.train.Example]], num_shards: int = 1
) -> str:
    """Lays out a TFX Examples artifact as ExampleGen does: uri/Split-<name>/data_tfrecord-*.gz."""
    for split, examples in splits.items():
        for shard in range(num_shards):
            write_tfrecords(
                os.path.join(
                    uri, f"Split-{split}", f"data_tfrecord-{shard:05d}-of-{num_shards:05d}.gz"
                ),
                examples[shard::num_shards],
            )
    return uri


def write_schema(uri: str) -> str:
    """Lays out a TFX Schema artifact as SchemaGen does (uri/schema.pbtxt, a text-format TFMD
    Schema) with the models' features and the label; returns uri."""
    os.makedirs(uri, exist_ok=True)
    lines = [f'feature {{ name: "{name}" type: FLOAT }}' for name in NUMERIC_FEATURES]
    lines += ['feature { name: "category" type: BYTES }', 'feature { name: "count" type: INT }']
    lines += ['feature { name: "label" type: INT }']
    with open(os.path.join(uri, "schema.pbtxt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return uri


def build_keras_model(task: str = "binary", seed: int = 0) -> keras.Model:
    """A Keras model over MODEL_FEATURES (inputs of shape [n, 1]) returning logits.

    task: 'binary' (1 logit), 'multiclass' (NUM_CLASSES logits) or 'regression' (1 value).
    """
    units = {"binary": 1, "multiclass": NUM_CLASSES, "regression": 1}[task]
    inputs = {
        name: keras.Input(shape=(1,), name=name, dtype=_FEATURE_DTYPES[name].name)
        for name in MODEL_FEATURES
    }
    category = keras.layers.StringLookup(vocabulary=list(CATEGORIES), output_mode="one_hot")(
        inputs["category"]
    )
    count = keras.layers.Lambda(lambda x: keras.ops.cast(x, "float32"))(inputs["count"])
    hidden = keras.layers.Concatenate()([inputs[n] for n in NUMERIC_FEATURES] + [category, count])
    logits = keras.layers.Dense(
        units,
        kernel_initializer=keras.initializers.GlorotUniform(seed),
        bias_initializer=keras.initializers.RandomNormal(seed=seed),
    )(hidden)
    return keras.Model(inputs, logits)


def export_model(
    path: str,
    task: str = "binary",
    inputs: str = "examples",
    feature_shape: Sequence[int] = (),
    with_logits: bool = False,
    signature_name: str = "serving_default",
    seed: int = 0,
    dense_weights: Optional[Sequence[np.ndarray]] = None,
) -> str:
    """Exports build_keras_model(task, seed) as a SavedModel at path; returns path.

    dense_weights: optional kernel (of shape (8, units): the numeric features, the category's
      one-hot columns after its out-of-vocabulary one, count) and bias of the model's one layer.

    inputs: 'examples' -> one tf.string input ``examples`` of shape [None] (serialized
      tf.Examples, parsed in the signature as TFX Trainer modules do); 'features' -> one input
      per MODEL_FEATURES name of shape [None, *feature_shape] (feature_shape () or (1,)).
    The signature returns {'predictions': sigmoid/softmax/identity of the logits}, plus
    {'logits': ...} when with_logits.
    """
    model = build_keras_model(task, seed)
    if dense_weights is not None:
        model.layers[-1].set_weights(list(dense_weights))
    activation = {"binary": tf.sigmoid, "multiclass": tf.nn.softmax, "regression": tf.identity}[
        task
    ]

    def outputs(features: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        logits = model({name: tf.reshape(features[name], [-1, 1]) for name in MODEL_FEATURES})
        result = {"predictions": activation(logits)}
        if with_logits:
            result["logits"] = logits
        return result

    if inputs == "examples":
        parse_spec = {
            name: tf.io.FixedLenFeature([1], dtype) for name, dtype in _FEATURE_DTYPES.items()
        }
        serve = examples_signature(parse_spec, outputs)
    elif inputs == "features":
        serve = features_signature(_FEATURE_DTYPES, outputs, feature_shape)
    else:
        raise ValueError(f"inputs must be 'examples' or 'features', got {inputs!r}")
    return write_saved_model(model, {signature_name: serve}, path)
