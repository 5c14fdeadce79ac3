"""The Trainer: its functions export a SavedModel that scores serialized tf.Examples the TFX way."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import roc_auc_score
from tfx.types import channel_utils, standard_artifacts

from glassbox import keys
from glassbox.components import Trainer
from glassbox.training.config import TrainingConfig
from glassbox.training.train import train_and_export
from tests.support.executors import run_executor
from tests.support.saved_models import (
    make_examples,
    serialize,
    to_example,
    write_examples_artifact,
    write_tfrecords,
)

CONFIG = TrainingConfig(
    label="label",
    numeric_features=("x0", "x1", "x2"),
    categorical_features=("category", "count"),
    hidden_units=(8,),
    epochs=5,
)
EVAL_EXAMPLES = make_examples(300, seed=1)
EVAL_LABELS = [e.features.feature["label"].int64_list.value[0] for e in EVAL_EXAMPLES]


@pytest.fixture(scope="module")
def train_files(tmp_path_factory):
    return [write_tfrecords(str(tmp_path_factory.mktemp("train") / "data.gz"), make_examples(600))]


def _score(export_dir, examples=EVAL_EXAMPLES):
    signature = tf.saved_model.load(export_dir).signatures["serving_default"]
    return signature(examples=tf.constant(serialize(examples)))["probabilities"].numpy()


def test_signature_takes_serialized_examples_and_returns_probabilities(train_files, tmp_path):
    train_and_export(train_files, str(tmp_path / "model"), CONFIG)

    signature = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    _, inputs = signature.structured_input_signature
    assert inputs == {"examples": tf.TensorSpec([None], tf.string, name="examples")}
    assert list(signature.structured_outputs) == ["probabilities"]
    probabilities = _score(str(tmp_path / "model"))
    assert probabilities.shape == (300, 1)
    assert ((probabilities > 0) & (probabilities < 1)).all()


def test_same_seed_gives_the_same_model_and_another_seed_another(train_files, tmp_path):
    for name, seed in [("a", 0), ("b", 0), ("c", 1)]:
        train_and_export(train_files, str(tmp_path / name), dataclasses.replace(CONFIG, seed=seed))

    np.testing.assert_array_equal(_score(str(tmp_path / "a")), _score(str(tmp_path / "b")))
    assert not np.allclose(_score(str(tmp_path / "a")), _score(str(tmp_path / "c")))


def test_trained_model_ranks_far_better_than_an_untrained_one(train_files, tmp_path):
    train_and_export(train_files, str(tmp_path / "trained"), CONFIG)
    train_and_export(
        train_files, str(tmp_path / "untrained"), dataclasses.replace(CONFIG, epochs=0)
    )

    assert roc_auc_score(EVAL_LABELS, _score(str(tmp_path / "trained"))) > 0.85
    assert roc_auc_score(EVAL_LABELS, _score(str(tmp_path / "untrained"))) < 0.75


def test_unseen_category_is_scored(train_files, tmp_path):
    train_and_export(train_files, str(tmp_path / "model"), CONFIG)
    unseen = to_example({"x0": 0.1, "x1": -0.2, "x2": 0.3, "category": "never-seen", "count": 99})
    assert np.isfinite(_score(str(tmp_path / "model"), [unseen])).all()


def test_missing_feature_is_named(train_files, tmp_path):
    config = dataclasses.replace(CONFIG, numeric_features=("x0", "height"))
    with pytest.raises(ValueError, match="feature 'height' is not in the training examples"):
        train_and_export(train_files, str(tmp_path / "model"), config)


def test_non_binary_label_is_refused(train_files, tmp_path):
    config = dataclasses.replace(CONFIG, label="class")  # values 0, 1, 2
    with pytest.raises(
        ValueError,
        match="label 'class' must hold 0 or 1 in every training example; found \\[0, 1, 2\\]",
    ):
        train_and_export(train_files, str(tmp_path / "model"), config)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"numeric_features": (), "categorical_features": ()}, "has no features"),
        ({"categorical_features": ("label",)}, "label 'label' is also listed as a feature"),
        ({"numeric_features": ("x0", "x0")}, r"names features \['x0'\] more than once"),
        ({"numeric_features": "x0"}, "numeric_features must be a sequence"),
        ({"hidden_units": (8, 0)}, "hidden_units must all be positive"),
        ({"epochs": -1}, "epochs must be >= 0"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
    ],
)
def test_bad_config_is_refused_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CONFIG, **fields)


def test_executor_exports_to_the_model_artifacts_format_serving_dir(tmp_path):
    examples = standard_artifacts.Examples()
    examples.uri = write_examples_artifact(
        str(tmp_path / "examples"), {"train": make_examples(200), "eval": make_examples(50, seed=1)}
    )
    config = dataclasses.replace(
        CONFIG,
        numeric_features=("x0", "x1"),
        categorical_features=("category",),
        hidden_units=(),
        epochs=1,
        batch_size=32,
        learning_rate=0.01,
        seed=0,
    )
    trainer = Trainer(examples=channel_utils.as_channel([examples]), config=config)

    model = run_executor(trainer, tmp_path)[keys.MODEL_KEY]

    assert tf.saved_model.contains_saved_model(os.path.join(model.uri, "Format-Serving"))
    assert _score(os.path.join(model.uri, "Format-Serving")).shape == (300, 1)
