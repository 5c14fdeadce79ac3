"""Ground truth for the image explanations: 16x16 grey images of dim noise where the label is 1
exactly when a bright 4x4 patch sits somewhere (at a random place), and a small Keras 3 CNN
trained on them, exported as TFX exports it: ``serving_default`` parses serialized tf.Examples
whose ``image`` feature holds an encoded PNG, with the ``.keras`` file beside the SavedModel.

``trained_image_model`` trains it once per test session (a few seconds) and caches the export
under the session's temporary directory. Real data: scikit-learn's ``load_digits`` (8x8 digits,
upscaled to 16x16) and a 10-class CNN exported the same way (``trained_digits_model``).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Tuple

import keras
import numpy as np
import pytest
import tensorflow as tf

from glassbox.training.export import examples_signature, features_signature, write_saved_model

SIZE = 16
PATCH = 4
FEATURE = "image"
LABEL = "label"


def patch_images(n: int, seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n uint8 images (n, 16, 16, 1), their labels (n,) and patch masks (n, 16, 16) (all False
    where there is no patch); half of them (at random) hold the patch."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 80, size=(n, SIZE, SIZE, 1)).astype(np.uint8)
    labels = rng.random(n) < 0.5
    masks = np.zeros((n, SIZE, SIZE), bool)
    for i in np.flatnonzero(labels):
        y, x = rng.integers(0, SIZE - PATCH + 1, size=2)
        images[i, y : y + PATCH, x : x + PATCH] = 255
        masks[i, y : y + PATCH, x : x + PATCH] = True
    return images, labels.astype(np.int64), masks


def examples(images: np.ndarray, labels: np.ndarray) -> list:
    """Serialized tf.Examples: the PNG-encoded image and the label."""
    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    FEATURE: tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[tf.io.encode_png(image).numpy()])
                    ),
                    LABEL: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                }
            )
        ).SerializeToString()
        for image, label in zip(images, labels)
    ]


def cnn(seed: int = 0) -> keras.Model:
    """Two 3x3 convolutions, global average pooling, a sigmoid: P(the patch is there)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 1), name=FEATURE)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(inputs, outputs)


def digits_cnn(seed: int = 0) -> keras.Model:
    """3x3 convolutions (16, pooled 2x2, then 32), a dense softmax over the 10 digits."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 1), name=FEATURE)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs)


def patch_detector(name: str) -> keras.Model:
    """An untrained model with set weights: sigmoid(20 * max over 4x4 windows of relu(their mean
    pixel - 0.6) - 2), high exactly where a bright patch sits (the noise stays below 0.32)."""
    inputs = keras.Input((SIZE, SIZE, 1), name=FEATURE)
    window = keras.layers.Conv2D(1, PATCH, activation="relu", name=f"{name}_window_mean")
    x = keras.layers.GlobalMaxPooling2D(name=f"{name}_brightest_window")(window(inputs))
    score = keras.layers.Dense(1, activation="sigmoid", name=f"{name}_score")
    outputs = score(x)
    window.set_weights(
        [np.full((PATCH, PATCH, 1, 1), 1 / PATCH**2, np.float32), np.array([-0.6], np.float32)]
    )
    score.set_weights([np.array([[20.0]], np.float32), np.array([-2.0], np.float32)])
    return keras.Model(inputs, outputs, name=name)


def corner_model(name: str) -> keras.Model:
    """An untrained model with set weights that looks only at the bottom-right 4x4 corner:
    sigmoid(10 * its mean pixel - 1.5)."""
    inputs = keras.Input((SIZE, SIZE, 1), name=FEATURE)
    x = keras.layers.Flatten(name=f"{name}_pixels")(inputs)
    score = keras.layers.Dense(1, activation="sigmoid", name=f"{name}_score")
    outputs = score(x)
    weights = np.zeros((SIZE, SIZE), np.float32)
    weights[-PATCH:, -PATCH:] = 10 / PATCH**2
    score.set_weights([weights.reshape(-1, 1), np.array([-1.5], np.float32)])
    return keras.Model(inputs, outputs, name=name)


def export(model: keras.Model, export_dir: str) -> str:
    """The SavedModel (serving_default over tf.Examples with PNGs, output 'probabilities') and
    model.keras beside it."""

    def outputs(features):
        pixels = tf.map_fn(
            lambda png: tf.io.decode_png(png, channels=1),
            features[FEATURE],
            fn_output_signature=tf.TensorSpec([SIZE, SIZE, 1], tf.uint8),
        )
        return {"probabilities": model(tf.cast(pixels, tf.float32) / 255.0)}

    spec = {FEATURE: tf.io.FixedLenFeature([], tf.string)}
    write_saved_model(model, {"serving_default": examples_signature(spec, outputs)}, export_dir)
    model.save(os.path.join(export_dir, "model.keras"))
    return export_dir


def export_float(model: keras.Model, export_dir: str, keras_file: bool) -> str:
    """A SavedModel whose serving_default takes the float images (0..255, input 'image'
    [None, 16, 16, 1]), with model.keras beside it if keras_file."""
    signature = features_signature(
        {FEATURE: tf.float32},
        lambda features: {"probabilities": model(features[FEATURE] / 255.0)},
        feature_shape=(SIZE, SIZE, 1),
    )
    write_saved_model(model, {"serving_default": signature}, export_dir)
    if keras_file:
        model.save(os.path.join(export_dir, "model.keras"))
    return export_dir


@dataclasses.dataclass(frozen=True)
class TrainedImageModel:
    model_dir: str
    accuracy: float  # on 200 held-out images


def train(export_dir: str, seed: int = 0) -> TrainedImageModel:
    images, labels, _ = patch_images(600, seed)
    model = cnn(seed)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    x = images.astype(np.float32) / 255.0
    model.fit(x[:400], labels[:400], epochs=8, batch_size=32, verbose=0)
    accuracy = float(((model.predict(x[400:], verbose=0)[:, 0] > 0.5) == labels[400:]).mean())
    return TrainedImageModel(export(model, export_dir), accuracy)


def digits() -> Tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as uint8 images (n, 16, 16, 1) (each pixel doubled, 0..16
    scaled to 0..255) and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.kron(data.images, np.ones((2, 2))) * (255 / 16)
    return np.round(images).astype(np.uint8)[..., None], data.target.astype(np.int64)


def train_digits(export_dir: str, seed: int = 0) -> TrainedImageModel:
    images, labels = digits()
    order = np.random.default_rng(seed).permutation(len(labels))
    x, y = images[order].astype(np.float32) / 255.0, labels[order]
    model = digits_cnn(seed)
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy")
    model.fit(x[:1400], y[:1400], epochs=6, batch_size=32, verbose=0)
    accuracy = float((model.predict(x[1400:], verbose=0).argmax(axis=1) == y[1400:]).mean())
    return TrainedImageModel(export(model, export_dir), accuracy)


@pytest.fixture(scope="session")
def trained_image_model(tmp_path_factory) -> TrainedImageModel:
    return train(str(tmp_path_factory.mktemp("image_model") / "model"))


@pytest.fixture(scope="session")
def trained_digits_model(tmp_path_factory) -> TrainedImageModel:
    return train_digits(str(tmp_path_factory.mktemp("digits_model") / "model"))
