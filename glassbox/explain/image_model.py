"""An image model as the image attribution methods call it: its scores of batches of images (any
signature, as a black box), and, where reachable, a differentiable function of the pixels.

Pixels are in the model's decoded space: (n, height, width, channels) float32, 0..255 for encoded
images (re-encoded as PNG, losslessly, for a signature parsing tf.Examples), the tensor's own
values for a signature taking float images. Each example's explained class (its *target*) is
``class_index`` if set, else the output's only column, else the class the model predicts.

The gradient methods call the Keras model beside the SavedModel (``find_keras_model``) on the
pixels times ``keras_input_scale``, after checking that it reproduces the signature's scores, or
the signature itself when it takes float images.
"""

from __future__ import annotations

import contextlib
import glob
import os
from typing import Callable, Iterator, Optional

import numpy as np
import tensorflow as tf
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from glassbox.data.models import ServingModel
from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import (
    Columns,
    SavedModelFunction,
    num_rows,
    signature_outputs,
)
from glassbox.protos.explain_config_pb2 import ImageInput

_KERAS_METADATA = "keras_metadata.pb"
# Largest |Keras score - signature score| accepted as the same model.
KERAS_TOLERANCE = 1e-3
# Images per model call.
IMAGE_BATCH = 1024

Gradients = Callable[[tf.Tensor, np.ndarray], tf.Tensor]


def find_keras_model(model_dir: str, path: str = "", field: str = "image.keras_model"):
    """The Keras model computing the SavedModel's scores: path if given, else a .keras file in
    model_dir or its parent, else the SavedModel itself if it carries tf_keras metadata; None
    when there is none.

    Raises:
      ExplanationError: path (ExplainConfig field ``field``) names no loadable Keras model.
    """
    candidates = (
        [path]
        if path
        else sorted(
            glob.glob(os.path.join(model_dir, "*.keras"))
            + glob.glob(os.path.join(os.path.dirname(model_dir.rstrip("/")), "*.keras"))
        )
    )
    for candidate in candidates:
        import keras  # Keras 3 loads only for a Keras model (glassbox.deferred_imports)

        try:
            return keras.saving.load_model(candidate, compile=False)
        except (OSError, ValueError) as e:
            raise ExplanationError(
                f"ExplainConfig field {field!r}: cannot load Keras model {candidate}: {e}"
            ) from e
    if os.path.exists(os.path.join(model_dir, _KERAS_METADATA)):
        import tf_keras

        return tf_keras.models.load_model(model_dir, compile=False)
    return None


def targets(outputs: np.ndarray, class_index: Optional[int]) -> np.ndarray:
    """Each row's explained class of (n, k) outputs (see the module docstring).

    Raises:
      ExplanationError: class_index out of range.
    """
    width = outputs.shape[1]
    if class_index is not None:
        if not 0 <= class_index < width:
            raise ExplanationError(
                f"the output has {width} columns; class_index {class_index} is out of range"
            )
        return np.full(len(outputs), class_index)
    return np.zeros(len(outputs), int) if width == 1 else outputs.argmax(axis=1)


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Each row's predicted class of (n, k) outputs: the largest column's, or for one column
    (read as the probability of class 1) 1 from 0.5 on."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] >= 0.5).astype(int)
    return outputs.argmax(axis=1)


def pick(outputs, target: np.ndarray):
    """outputs[i, target[i]] of an (n, k) tensor or array."""
    outputs = tf.reshape(outputs, [tf.shape(outputs)[0], -1])
    return tf.gather(outputs, tf.cast(target, tf.int32), axis=1, batch_dims=1)


class ImageModel:
    """Scores of images by one model (see the module docstring).

    Attributes:
      feature: the image feature or input.
      encoded: whether the signature parses tf.Examples holding encoded images.
      keras_model: the Keras model, or None.
      scale: the Keras model's input per pixel value.
      baseline_value: a removed pixel's value.
      config: the ImageInput.

    Raises:
      ExplanationError: no image feature, or a float image input that is not [None, h, w, c].
    """

    def __init__(self, model: ServingModel, output_key: str, image: ImageInput, class_index=None):
        if not image.feature:
            raise ExplanationError(
                "ExplainConfig field 'image.feature' is empty: name the feature holding the images"
            )
        self.model, self.output_key, self.class_index = model, output_key, class_index
        self.config = image
        self.feature = image.feature
        self.encoded = model.takes_serialized_examples
        if not self.encoded:
            spec = model.input_specs.get(self.feature)
            if spec is None or spec.shape.rank != 4 or not spec.dtype.is_floating:
                raise ExplanationError(
                    f"ExplainConfig field 'image.feature' is {self.feature!r}, which is not a float "
                    f"image input [None, height, width, channels] of signature "
                    f"{model.signature_name!r} (its inputs: "
                    f"{ {name: str(s.shape) for name, s in model.input_specs.items()} })"
                )
        self._keras_path = image.keras_model
        self._keras = None
        self._keras_checked = False
        self.scale = image.keras_input_scale or (1 / 255 if self.encoded else 1.0)
        self.baseline_value = image.baseline_value
        self._encoder = RecordBatchToExamplesEncoder()

    @classmethod
    def of(cls, function: SavedModelFunction, image: ImageInput) -> "ImageModel":
        """The ImageModel of the model, output and class of a SavedModelFunction."""
        return cls(function.model, function.output_key, image, function.class_index)

    def images(self, rows: Columns) -> np.ndarray:
        """The rows' images, (n, h, w, c) float32: decoded, or for a float image input each row's
        values (an array, or a flat list) in the input's shape.

        Raises:
          ExplanationError: the rows lack the feature, an image cannot be decoded or shaped, or
            the images differ in shape (the row is named).
        """
        if self.feature not in rows:
            raise ExplanationError(
                f"the explained rows lack the image feature {self.feature!r} (ExplainConfig field "
                f"'image.feature'); they have {sorted(rows)}"
            )
        images = []
        for i, value in enumerate(rows[self.feature]):
            images.append(self._image(i, value))
            if images[-1].shape != images[0].shape:
                raise ExplanationError(
                    f"row {i}: image {self.feature!r} has shape {images[-1].shape}, row 0 "
                    f"{images[0].shape}; the images explained together must have one shape"
                )
        return np.stack(images).astype(np.float32)

    def _image(self, i: int, value) -> np.ndarray:
        if not self.encoded:
            shape = self.model.input_specs[self.feature].shape[1:]
            values = np.asarray(value, np.float32)
            if values.size != shape.num_elements():
                raise ExplanationError(
                    f"row {i}: image {self.feature!r} holds {values.size} values; input "
                    f"{self.feature!r} takes {shape.as_list()}"
                )
            return values.reshape(shape)
        try:
            return tf.io.decode_image(value, expand_animations=False).numpy()
        except (tf.errors.OpError, ValueError) as e:
            raise ExplanationError(
                f"row {i}: feature {self.feature!r} is not an encoded image: {str(e).splitlines()[0]}"
            ) from e

    def outputs(self, images: np.ndarray, held: Columns) -> np.ndarray:
        """(n, k) float64 outputs of images (n, h, w, c), with the rows' other features held."""
        parts = []
        for start in range(0, len(images), IMAGE_BATCH):
            batch = images[start : start + IMAGE_BATCH]
            rest = {name: values[start : start + IMAGE_BATCH] for name, values in held.items()}
            if self.encoded:
                pixels = np.clip(np.round(batch), 0, 255).astype(np.uint8)
                encoded = np.array([tf.io.encode_png(image).numpy() for image in pixels], object)
                columns = {**rest, self.feature: encoded}
                parts.append(signature_outputs(self.model, self.output_key, columns, self._encoder))
            else:
                output = self.model.signature(
                    **{self.feature: tf.constant(batch)}, **_tensors(rest)
                )[self.output_key]
                parts.append(np.asarray(output, np.float64).reshape(len(batch), -1))
        return np.concatenate(parts)

    def scores(self, images: np.ndarray, target: np.ndarray, held: Columns) -> np.ndarray:
        """(n,) each image's score of its target class."""
        return self.outputs(images, held)[np.arange(len(images)), target]

    @property
    def keras_model(self):
        """The Keras model (see find_keras_model), or None."""
        if self._keras is None:
            self._keras = find_keras_model(self.model.model_dir, self._keras_path)
        return self._keras

    def _no_keras_model(self, what: str) -> ExplanationError:
        return ExplanationError(
            f"{what}, and no Keras model is beside signature {self.model.signature_name!r} of "
            f"model {self.model.model_dir}: save it as a .keras file in the SavedModel's "
            "directory, or name it in ExplainConfig field 'image.keras_model'"
        )

    def checked_keras_model(self, images: np.ndarray, target: np.ndarray, held: Columns):
        """The Keras model, checked against the signature's scores of images.

        Raises:
          ExplanationError: no Keras model, or its scores differ from the signature's.
        """
        model = self.keras_model
        if model is None:
            raise self._no_keras_model("Grad-CAM needs a model's convolutional layer")
        if not self._keras_checked:
            sample, few = images[:16], target[:16]
            expected = self.scores(sample, few, {k: v[:16] for k, v in held.items()})
            got = np.asarray(pick(model(sample * self.scale, training=False), few), np.float64)
            gap = float(np.abs(got - expected).max())
            if gap > KERAS_TOLERANCE:
                raise ExplanationError(
                    f"the Keras model's scores differ from signature "
                    f"{self.model.signature_name!r}'s by up to {gap:.3g} on the explained images: "
                    f"check ExplainConfig field 'image.keras_input_scale' (now {self.scale:.6g}) "
                    "and 'image.keras_model'"
                )
            self._keras_checked = True
        return model

    def differentiable(self, images: np.ndarray, target: np.ndarray, held: Columns) -> Callable:
        """A function of an image tensor (m, h, w, c) and targets (m,) -> (m,) scores, traceable
        by tf.GradientTape; checked against the signature's scores of images.

        Raises:
          ExplanationError: the signature parses tf.Examples and no Keras model is reachable, or
            the Keras model's scores differ from the signature's.
        """
        if not self.encoded:
            fixed = _tensors(held)
            return lambda x, t: pick(
                self.model.signature(**{self.feature: x}, **fixed)[self.output_key], t
            )
        if self.keras_model is None:
            raise self._no_keras_model(
                f"signature {self.model.signature_name!r} parses tf.Examples holding encoded "
                "images, so no gradient reaches the pixels"
            )
        model = self.checked_keras_model(images, target, held)
        return lambda x, t: pick(model(x * self.scale, training=False), t)

    @contextlib.contextmanager
    def randomised(self, seed: int) -> Iterator[None]:
        """Within the block, every float weight of the model (the SavedModel's and the Keras
        model's) is redrawn as zero-mean Gaussian noise of the weight's own root mean square
        (its scale kept, what was learned gone); restored after."""
        variables = list(self.model.signature.variables)
        if self._keras is not None:
            variables += list(self._keras.weights)
        saved = [variable.numpy() for variable in variables]
        rng = np.random.default_rng(seed)
        try:
            for variable, values in zip(variables, saved):
                if values.dtype.kind == "f":
                    scale = np.sqrt(np.mean(np.square(values, dtype=np.float64)))
                    variable.assign(rng.normal(0, scale, values.shape).astype(values.dtype))
            yield
        finally:
            for variable, values in zip(variables, saved):
                variable.assign(values)


def _tensors(columns: Columns) -> dict:
    if columns:
        num_rows(columns)
    return {name: tf.constant(values) for name, values in columns.items()}
