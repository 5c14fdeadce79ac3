"""options.include_default_metrics: the compiled loss and metrics of a tf_keras SavedModel (as TFX
Trainers save them), which TFMA and glassbox compute, are named in a note per model; a
SavedModel without Keras metadata is said to carry none; include_default_metrics false: silent."""

from __future__ import annotations

import pytest
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.keras_metadata import compiled_metric_names
from glassbox.evaluation.default_metrics import default_metrics_notes
from tests.support import eval_config_cases as cases
from tests.support import transform_models as tm


def _saved(tmp_path, name, **case):
    case = cases.Case("multiclass", classes=3, features=cases.NUMERIC, **case)
    rows = cases.make_rows(case, 60)
    model = cases.train_model(case, rows, epochs=1)
    return cases.save_model(case, model, str(tmp_path / name))


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "keras": _saved(
            root, "keras", compiled_metrics=("sparse_categorical_accuracy", "accuracy")
        ),
        "plain": _saved(root, "plain", keras_metadata=False),
    }


def test_the_compiled_loss_and_metrics_are_read_by_tfmas_names(model_dirs):
    assert compiled_metric_names(model_dirs["keras"]) == [
        "loss",
        "sparse_categorical_accuracy",
        "accuracy",
    ]
    assert compiled_metric_names(model_dirs["plain"]) is None


def test_a_model_saved_by_tf_saved_model_save_carries_no_keras_metadata(tmp_path):
    # As the Transform fixture saves its tf_keras model (TFMA then loads it as a generic model).
    built = tm.build_taxi(str(tmp_path), n=40, epochs=1)
    assert compiled_metric_names(built.serving_dir) is None


def test_each_model_gets_a_note_unless_default_metrics_are_off(model_dirs):
    dirs = {"candidate": model_dirs["keras"], "baseline": model_dirs["plain"]}
    candidate, baseline = default_metrics_notes(config_pb2.EvalConfig(), dirs)
    assert (
        candidate.startswith("candidate model") and "loss, sparse_categorical_accuracy" in candidate
    )
    assert "computed too, as TFMA adds them" in candidate
    assert baseline.startswith("baseline model") and "carries no Keras metadata" in baseline
    off = config_pb2.EvalConfig()
    off.options.include_default_metrics.value = False
    assert default_metrics_notes(off, dirs) == []
