"""Keras models written as SavedModels the TFX way, with signatures over tf.Examples or features.

TFX Trainer modules export a ``serving_default`` signature that takes a batch of serialized
tf.Examples (tf.string [None], input ``examples``) and parses them in the graph: what TFMA and the
glassbox Evaluator feed. A signature over one named tensor per feature serves explanations.
"""

from __future__ import annotations

from typing import Callable, Dict, Mapping, Sequence, Union

import keras
import tensorflow as tf

INPUT_NAME = "examples"

ParseSpec = Union[tf.io.FixedLenFeature, tf.io.VarLenFeature]
Outputs = Callable[[Dict[str, tf.Tensor]], Dict[str, tf.Tensor]]
Signature = tf.types.experimental.PolymorphicFunction


def examples_signature(feature_spec: Mapping[str, ParseSpec], outputs: Outputs) -> Signature:
    """A signature over serialized tf.Examples (input INPUT_NAME): outputs of their parsed features."""
    spec = dict(feature_spec)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=INPUT_NAME)])
    def serve(examples):
        return outputs(tf.io.parse_example(examples, spec))

    return serve


def features_signature(
    dtypes: Mapping[str, tf.DType], outputs: Outputs, feature_shape: Sequence[int] = ()
) -> Signature:
    """A signature over one tensor per feature, named as it, of shape [None, *feature_shape]: its outputs."""

    @tf.function(
        input_signature=[
            {
                name: tf.TensorSpec([None, *feature_shape], dtype, name=name)
                for name, dtype in dtypes.items()
            }
        ]
    )
    def serve(features):
        return outputs(features)

    return serve


def write_saved_model(
    model: keras.Model, signatures: Mapping[str, Signature], export_dir: str
) -> str:
    """Writes model's variables and the signatures (by name) as a SavedModel at export_dir; returns it."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, function in signatures.items():
        archive.add_endpoint(name, function)
    archive.write_out(export_dir, verbose=False)
    return export_dir
