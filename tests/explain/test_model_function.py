"""SavedModelFunction: raw feature columns -> one score per row, through either signature kind."""

import numpy as np
import pytest
import tensorflow as tf

from glassbox.data.errors import MissingFeatureError
from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import SavedModelFunction
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_models

ROWS = explain_models.columns(500, seed=3)


@pytest.fixture(scope="module")
def keras_model():
    return explain_models.dict_model(seed=1)


@pytest.fixture(scope="module")
def model_dir(keras_model, tmp_path_factory):
    return explain_models.export(keras_model, str(tmp_path_factory.mktemp("dict")))


@pytest.fixture(scope="module")
def multiclass_dir(tmp_path_factory):
    return explain_models.export(
        explain_models.dict_model(outputs=3), str(tmp_path_factory.mktemp("multi"))
    )


def _keras_scores(model, columns):
    logits = model({name: tf.constant(values.reshape(-1, 1)) for name, values in columns.items()})
    return tf.sigmoid(logits).numpy()


def test_both_signatures_score_as_the_keras_model(keras_model, model_dir):
    expected = _keras_scores(keras_model, ROWS)[:, 0]
    serialized = SavedModelFunction(model_dir)
    features = SavedModelFunction(model_dir, signature_name=FEATURES_SIGNATURE_NAME)

    assert serialized.features is None
    assert set(features.features) == set(ROWS)
    for function in (serialized, features):
        scores = function(ROWS)
        assert scores.dtype == np.float64 and scores.shape == (500,)
        np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_strings_may_be_str_or_bytes_and_numbers_any_width(model_dir):
    function = SavedModelFunction(model_dir, signature_name=FEATURES_SIGNATURE_NAME)
    other = dict(
        ROWS,
        city=ROWS["city"].astype(str),
        rooms=ROWS["rooms"].astype(np.int32),
        x0=ROWS["x0"].astype(np.float64),
    )
    np.testing.assert_array_equal(function(other), function(ROWS))
    np.testing.assert_array_equal(SavedModelFunction(model_dir)(other), function(ROWS))


def test_calls_the_signature_once_per_batch(model_dir, monkeypatch):
    function = SavedModelFunction(model_dir, batch_size=200)
    calls = []
    predict = function.model.predict
    monkeypatch.setattr(
        function.model,
        "predict",
        lambda s, batch: calls.append(batch.num_rows) or predict(s, batch),
    )

    scores = function(ROWS)

    assert calls == [200, 200, 100]
    np.testing.assert_array_equal(scores, SavedModelFunction(model_dir)(ROWS))


def test_class_index_picks_a_column_of_a_multi_column_output(multiclass_dir):
    all_classes = SavedModelFunction(multiclass_dir, signature_name=FEATURES_SIGNATURE_NAME)
    with pytest.raises(
        ExplanationError, match="'probabilities' .* has 3 columns; set a class_index"
    ):
        all_classes(ROWS)
    with pytest.raises(ExplanationError, match="class_index 3 is out of range"):
        SavedModelFunction(multiclass_dir, class_index=3)(ROWS)
    second = SavedModelFunction(multiclass_dir, class_index=1)(ROWS)
    third = SavedModelFunction(multiclass_dir, class_index=2)(ROWS)
    assert second.shape == (500,) and not np.allclose(second, third)


def test_bad_columns_are_named(model_dir):
    function = SavedModelFunction(model_dir, signature_name=FEATURES_SIGNATURE_NAME)
    with pytest.raises(ExplanationError, match="different lengths.*'x1': 3"):
        function(dict(ROWS, x1=np.zeros(3)))
    with pytest.raises(ExplanationError, match=r"'x1' has shape \(500, 2\)"):
        function(dict(ROWS, x1=np.zeros((500, 2))))
    with pytest.raises(ExplanationError, match="'x1' holds complex128"):
        function(dict(ROWS, x1=np.zeros(500, dtype=complex)))
    with pytest.raises(MissingFeatureError, match="'rooms'"):
        function({name: values for name, values in ROWS.items() if name != "rooms"})


def test_a_model_with_a_multi_value_input_cannot_be_explained(tmp_path):
    module = tf.Module()
    module.serve = tf.function(
        lambda tokens: {"score": tf.reduce_sum(tokens, axis=1)},
        input_signature=[tf.TensorSpec([None, 20], tf.float32, name="tokens")],
    )
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.serve})

    with pytest.raises(
        ExplanationError, match=r"input 'tokens' .* has shape \(None, 20\).*\[None\] or \[None, 1\]"
    ):
        SavedModelFunction(str(tmp_path))
