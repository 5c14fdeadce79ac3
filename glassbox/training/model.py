"""A small Keras binary classifier: built and fitted on numpy columns, exported the TFX way.

The exported SavedModel's ``serving_default`` signature takes a batch of serialized tf.Examples
(tf.string [None], input ``examples``) and returns ``{'probabilities': [None, 1] float32}``: the
convention TFX Trainer modules follow and TFMA and the glassbox Evaluator read. Its
``serving_features`` signature returns the same from one named raw feature tensor of shape [None]
per feature, so explanations mask features without re-encoding tf.Examples and can take gradients.
"""

from __future__ import annotations

from typing import List, Mapping

import keras
import numpy as np
import tensorflow as tf

from glassbox.training.config import TrainingConfig
from glassbox.training.examples import FeatureSpec
from glassbox.training.export import examples_signature, features_signature, write_saved_model

SIGNATURE_NAME = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
FEATURES_SIGNATURE_NAME = "serving_features"
PREDICTION_KEY = "probabilities"

Columns = Mapping[str, np.ndarray]


def train_model(columns: Columns, config: TrainingConfig) -> keras.Model:
    """A model from config.feature_keys columns ([n, 1] each) to the label's logit, fitted on them.

    Standardisation and vocabularies come from ``columns``; ``config.seed`` fixes initialisation
    and shuffling, so equal columns and config give an equal model.
    """
    keras.utils.set_random_seed(config.seed)
    model = _build_model(columns, config)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    if config.epochs:
        labels = _labels(columns, config.label)
        data = (
            tf.data.Dataset.from_tensor_slices(
                ({key: columns[key] for key in config.feature_keys}, labels)
            )
            .shuffle(len(labels), seed=config.seed)
            .batch(config.batch_size)
        )
        model.fit(data, epochs=config.epochs, shuffle=False, verbose=0)  # `data` shuffles, seeded
    return model


def export_serving_model(model: keras.Model, feature_spec: FeatureSpec, export_dir: str) -> None:
    """Writes model as a SavedModel at export_dir with both signatures of the module docstring.

    model: a Keras model from a dict of [n, 1] inputs to one logit per row.
    feature_spec: how to parse each model input, as in training (see examples.infer_feature_spec).
    """
    spec = {name: feature_spec[name] for name in model.input}

    def probabilities(features):
        return {
            PREDICTION_KEY: tf.sigmoid(
                model({name: tf.reshape(features[name], [-1, 1]) for name in spec})
            )
        }

    write_saved_model(
        model,
        {
            SIGNATURE_NAME: examples_signature(spec, probabilities),
            FEATURES_SIGNATURE_NAME: features_signature(
                {name: parse.dtype for name, parse in spec.items()}, probabilities
            ),
        },
        export_dir,
    )


def _labels(columns: Columns, label: str) -> np.ndarray:
    values = columns[label]
    if values.dtype == object or not np.isin(values, (0, 1)).all():
        found = sorted(set(values.ravel().tolist()))[:5]
        raise ValueError(
            f"label {label!r} must hold 0 or 1 in every training example; found {found}"
        )
    return values.astype(np.float32)


def _build_model(columns: Columns, config: TrainingConfig) -> keras.Model:
    inputs = {
        key: keras.Input(shape=(1,), name=key, dtype=_input_dtype(columns[key]))
        for key in config.feature_keys
    }
    encoded: List[keras.KerasTensor] = []
    if config.numeric_features:
        numeric = np.concatenate(
            [columns[key].astype(np.float32) for key in config.numeric_features], axis=1
        )
        stacked = keras.ops.concatenate(
            [keras.ops.cast(inputs[key], "float32") for key in config.numeric_features], axis=1
        )
        encoded.append(
            keras.layers.Normalization(mean=numeric.mean(axis=0), variance=numeric.var(axis=0))(
                stacked
            )
        )
    for key in config.categorical_features:
        encoded.append(_one_hot_lookup(key, columns[key])(inputs[key]))
    hidden = keras.ops.concatenate(encoded, axis=1) if len(encoded) > 1 else encoded[0]
    for units in config.hidden_units:
        hidden = keras.layers.Dense(units, activation="relu")(hidden)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def _input_dtype(column: np.ndarray) -> str:
    return "string" if column.dtype == object else column.dtype.name


def _one_hot_lookup(key: str, column: np.ndarray) -> keras.layers.Layer:
    """One-hot over the column's sorted distinct values, plus one slot for unseen values."""
    if column.dtype == object:
        return keras.layers.StringLookup(
            vocabulary=sorted({v.decode() for v in column.ravel()}), output_mode="one_hot"
        )
    if np.issubdtype(column.dtype, np.integer):
        return keras.layers.IntegerLookup(vocabulary=np.unique(column), output_mode="one_hot")
    raise ValueError(
        f"categorical feature {key!r} holds {column.dtype} values; "
        "categorical features must be strings or integers"
    )
