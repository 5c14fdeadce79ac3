"""Ground truth for token attributions: texts of 8 filler words where the label is 1 exactly when
one of two keywords ("excellent", "superb") is among them, at a random place, and a Keras 3 model
(StringLookup, Embedding, LSTM, sigmoid) trained on them, exported as TFX exports it:
``serving_default`` parses serialized tf.Examples whose ``text`` feature holds the text, with
the ``.keras`` file (taking the tokens, [None, 8] strings) beside the SavedModel.
"""

from __future__ import annotations

import os
from typing import List, Tuple

import keras
import numpy as np
import pytest
import tensorflow as tf

from glassbox.training.export import examples_signature, write_saved_model
from tests.support.image_models import TrainedImageModel

FEATURE = "text"
KEYWORDS = ("excellent", "superb")
FILLER = tuple(f"w{i}" for i in range(40))
LENGTH = 8


def keyword_texts(n: int, seed: int) -> Tuple[List[str], np.ndarray, List[int]]:
    """n texts, their labels, and the keyword's position in each (-1 where there is none)."""
    rng = np.random.default_rng(seed)
    texts, labels, positions = [], [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, LENGTH))
        position = -1
        if rng.random() < 0.5:
            position = int(rng.integers(LENGTH))
            words[position] = str(rng.choice(KEYWORDS))
        texts.append(" ".join(words))
        labels.append(int(position >= 0))
        positions.append(position)
    return texts, np.array(labels), positions


def examples(texts: List[str], labels: np.ndarray) -> list:
    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    FEATURE: tf.train.Feature(bytes_list=tf.train.BytesList(value=[t.encode()])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                }
            )
        ).SerializeToString()
        for t, label in zip(texts, labels)
    ]


def _tokens(texts: tf.Tensor) -> tf.Tensor:
    return tf.strings.split(texts).to_tensor(default_value="", shape=[None, LENGTH])


def lstm_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    # Every layer named: Keras numbers unnamed ones by how many it built before in the process.
    inputs = keras.Input((LENGTH,), dtype="string", name=FEATURE)
    ids = keras.layers.StringLookup(
        vocabulary=list(FILLER + KEYWORDS), mask_token="", name="token_ids"
    )(inputs)
    x = keras.layers.Embedding(
        len(FILLER) + len(KEYWORDS) + 2, 8, mask_zero=True, name="token_embedding"
    )(ids)
    x = keras.layers.LSTM(8, name="lstm")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(inputs, outputs, name="keyword_lstm")


def train_text(export_dir: str, seed: int = 0) -> TrainedImageModel:
    texts, labels, _ = keyword_texts(800, seed)
    model = lstm_model(seed)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy")
    tokens = _tokens(tf.constant(texts))
    model.fit(tokens[:600], labels[:600], epochs=8, batch_size=32, verbose=0)
    predicted = model.predict(tokens[600:], verbose=0)[:, 0] > 0.5
    return TrainedImageModel(export(model, export_dir), float((predicted == labels[600:]).mean()))


def export(model: keras.Model, export_dir: str) -> str:
    """The SavedModel (serving_default over tf.Examples holding the text, output
    'probabilities') and model.keras beside it."""
    spec = {FEATURE: tf.io.FixedLenFeature([], tf.string)}
    signature = examples_signature(
        spec, lambda features: {"probabilities": model(_tokens(features[FEATURE]))}
    )
    write_saved_model(model, {"serving_default": signature}, export_dir)
    model.save(os.path.join(export_dir, "model.keras"))
    return export_dir


def bag_of_words(words: Tuple[str, ...], name: str) -> keras.Model:
    """An untrained model with set weights that reads only `words`: sigmoid(4 * how many of the
    text's tokens are among them - 2), so removing one of them is all that changes its score."""
    vocabulary = list(FILLER + KEYWORDS)
    inputs = keras.Input((LENGTH,), dtype="string", name=FEATURE)
    ids = keras.layers.StringLookup(vocabulary=vocabulary, mask_token="", name=f"{name}_ids")(
        inputs
    )
    embedding = keras.layers.Embedding(len(vocabulary) + 2, 1, name=f"{name}_embedding")
    x = keras.layers.Flatten(name=f"{name}_flatten")(embedding(ids))
    score = keras.layers.Dense(1, activation="sigmoid", name=f"{name}_score")
    outputs = score(x)
    weights = np.zeros((len(vocabulary) + 2, 1), np.float32)
    for word in words:
        weights[2 + vocabulary.index(word)] = 4.0  # ids 0 and 1: the mask and unknown tokens
    embedding.set_weights([weights])
    score.set_weights([np.ones((LENGTH, 1), np.float32), np.array([-2.0], np.float32)])
    return keras.Model(inputs, outputs, name=name)


@pytest.fixture(scope="session")
def trained_text_model(tmp_path_factory) -> TrainedImageModel:
    return train_text(str(tmp_path_factory.mktemp("text_model") / "model"))
