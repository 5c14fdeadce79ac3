"""Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018) from the Keras model
beside the SavedModel: a convolutional layer's activations A (h', w', k), weighted per channel by
the mean gradient of the target's score (Grad-CAM++: by the positive gradients, with its
second-order weights), summed, positive part, and resized bilinearly to the image.

The layer is ``layer_name``, else the last layer with a 4-D output (images, height, width,
channels). The maps are relevance, not attributions in score units: they have no completeness.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
import tensorflow as tf

from glassbox.explain.errors import ExplanationError
from glassbox.explain.image_model import IMAGE_BATCH, ImageModel
from glassbox.explain.model_function import Columns
from glassbox.protos.explain_config_pb2 import GradCam


def _output_rank(layer) -> int:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer not called in the graph (unbuilt, shared)
        return 0


def convolutional_layer(model, layer_name: str = ""):
    """The named layer, else the last with a 4-D output.

    Raises:
      ExplanationError: no such layer (the message lists the candidates).
    """
    candidates = [layer for layer in model.layers if _output_rank(layer) == 4]
    if layer_name:
        for layer in model.layers:
            if layer.name == layer_name:
                if _output_rank(layer) != 4:
                    raise ExplanationError(
                        f"ExplainConfig field 'grad_cam.layer_name': layer {layer_name!r} of Keras "
                        f"model {model.name!r} has no 4-D output; layers with one: "
                        f"{[c.name for c in candidates]}"
                    )
                return layer
        raise ExplanationError(
            f"ExplainConfig field 'grad_cam.layer_name': Keras model {model.name!r} has no layer "
            f"{layer_name!r}; layers with a 4-D output: {[c.name for c in candidates]}"
        )
    if not candidates:
        raise ExplanationError(
            f"Keras model {model.name!r} has no layer with a 4-D (images, height, width, channels) "
            "output, so Grad-CAM has no convolutional layer to use"
        )
    return candidates[-1]


def grad_cam(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    options: GradCam,
    seed: int,
) -> Tuple[np.ndarray, dict]:
    """Grad-CAM (or ++) maps (n, h, w), scaled to [0, 1] per image (0 where all are 0)."""
    del seed  # deterministic
    keras_model = model.checked_keras_model(images, target, held)
    layer = convolutional_layer(keras_model, options.layer_name)
    inner = type(keras_model)(keras_model.inputs, [layer.output, keras_model.outputs[0]])
    maps = []
    for start in range(0, len(images), IMAGE_BATCH):
        x = tf.constant(images[start : start + IMAGE_BATCH] * model.scale, tf.float32)
        index = tf.constant(target[start : start + IMAGE_BATCH], tf.int32)
        with tf.GradientTape() as tape:
            activations, outputs = inner(x, training=False)
            outputs = tf.reshape(outputs, [tf.shape(outputs)[0], -1])
            score = tf.gather(outputs, index, axis=1, batch_dims=1)
        gradients = tape.gradient(score, activations).numpy().astype(np.float64)
        activations = activations.numpy().astype(np.float64)
        if options.plus_plus:
            squared, cubed = gradients**2, gradients**3
            total = activations.sum(axis=(1, 2), keepdims=True)
            denominator = 2 * squared + total * cubed
            alpha = np.where(
                denominator != 0, squared / np.where(denominator != 0, denominator, 1), 0
            )
            weights = (alpha * np.maximum(gradients, 0)).sum(axis=(1, 2))
        else:
            weights = gradients.mean(axis=(1, 2))
        cam = np.maximum(np.einsum("nijk,nk->nij", activations, weights), 0)
        resized = tf.image.resize(cam[..., None], images.shape[1:3], method="bilinear")
        maps.append(resized.numpy()[..., 0].astype(np.float64))
    maps = np.concatenate(maps)
    peak = maps.reshape(len(maps), -1).max(axis=1)[:, None, None]
    maps = np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0)
    return maps, {"layer": layer.name, "plus_plus": bool(options.plus_plus)}
