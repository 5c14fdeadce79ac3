"""The Transform-based model fixture (tests/support/transform_models.py) works as TFX's do.

A taxi-like and a penguin-like pipeline: the tf.Transform graph analysed with tft_beam, a model
trained on its output and saved as a TFX Model artifact; both signatures are called on serialized
tf.Examples and checked against the raw values (the label rule, vocabulary and bucket indices,
z-scores) and the model against chance. Each build analyses a graph with Beam (tens of seconds
here): the taxi one runs by default, the penguin one is slow.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.support import transform_models as tm


def _call(built: tm.TransformedModel, signature: str, examples) -> dict:
    loaded = tf.saved_model.load(built.serving_dir)
    serialized = tf.constant([e.SerializeToString() for e in examples])
    outputs = loaded.signatures[signature](examples=serialized)
    return {name: value.numpy() for name, value in outputs.items()}


def _raw(examples, name: str) -> np.ndarray:
    feature = [e.features.feature[name] for e in examples]
    kind = feature[0].WhichOneof("kind")
    return np.array([getattr(f, kind).value[0] for f in feature])


def _without(examples, name: str):
    stripped = []
    for example in examples:
        copy = tf.train.Example()
        copy.CopyFrom(example)
        del copy.features.feature[name]
        stripped.append(copy)
    return stripped


@pytest.fixture(scope="module")
def taxi(tmp_path_factory) -> tm.TransformedModel:
    return tm.build_taxi(str(tmp_path_factory.mktemp("taxi")), n=200)


@pytest.fixture(scope="module")
def penguin(tmp_path_factory) -> tm.TransformedModel:
    return tm.build_penguin(str(tmp_path_factory.mktemp("penguin")), n=200)


def test_the_model_is_a_tfx_model_artifact(taxi):
    assert os.path.exists(os.path.join(taxi.model_uri, "Format-Serving", "saved_model.pb"))
    assert set(tf.saved_model.load(taxi.serving_dir).signatures) == {
        "serving_default",
        tm.TRANSFORM_SIGNATURE,
    }


def test_taxi_transform_features_computes_the_label_buckets_and_vocabulary(taxi):
    examples = taxi.examples
    transformed = _call(taxi, tm.TRANSFORM_SIGNATURE, examples)
    fare, tips = _raw(examples, "fare"), _raw(examples, "tips")
    np.testing.assert_array_equal(transformed["tips_xf"].ravel(), (tips > 0.2 * fare).astype(int))
    assert 0.2 < transformed["tips_xf"].mean() < 0.8
    assert (
        abs(transformed["fare_xf"].mean()) < 1e-4 and abs(transformed["fare_xf"].std() - 1) < 1e-3
    )
    buckets = transformed["trip_miles_xf"].ravel()
    assert set(buckets) == {0, 1, 2, 3}
    miles = _raw(examples, "trip_miles")
    assert all(miles[buckets == b].max() <= miles[buckets == b + 1].min() for b in range(3))
    np.testing.assert_array_equal(
        transformed["trip_start_hour_xf"].ravel(), _raw(examples, "trip_start_hour")
    )
    vocabulary = [v.decode() for v in _vocabulary(taxi, "payment_type")]
    payment = [v.decode() for v in _raw(examples, "payment_type")]
    assert transformed["payment_type_xf"].ravel().tolist() == [vocabulary.index(p) for p in payment]


def test_taxi_serving_default_scores_examples_without_their_label(taxi):
    outputs = _call(taxi, "serving_default", _without(taxi.examples, taxi.raw_label))
    scores = outputs[tm.OUTPUT_KEY]
    assert scores.shape == (len(taxi.examples), 1) and ((scores >= 0) & (scores <= 1)).all()
    labels = _call(taxi, tm.TRANSFORM_SIGNATURE, taxi.examples)["tips_xf"].ravel()
    accuracy = ((scores.ravel() > 0.5) == labels).mean()
    assert accuracy > max(labels.mean(), 1 - labels.mean()) + 0.05


def _vocabulary(built: tm.TransformedModel, name: str):
    import tensorflow_transform as tft  # noqa: PLC0415

    return tft.TFTransformOutput(built.transform_dir).vocabulary_by_name(name)


@pytest.mark.slow
def test_penguin_species_xf_is_the_vocabulary_index_and_the_model_classifies(penguin):
    transformed = _call(penguin, tm.TRANSFORM_SIGNATURE, penguin.examples)
    vocabulary = _vocabulary(penguin, "species")
    species = _raw(penguin.examples, "species").tolist()
    assert transformed["species_xf"].ravel().tolist() == [vocabulary.index(s) for s in species]
    mass, buckets = _raw(penguin.examples, "body_mass_g"), transformed["body_mass_g_bucket_xf"]
    assert set(buckets.ravel()) == {0, 1, 2}
    assert all(
        mass[buckets.ravel() == b].max() <= mass[buckets.ravel() == b + 1].min() for b in (0, 1)
    )
    logits = _call(penguin, "serving_default", _without(penguin.examples, "species"))
    predicted = logits[tm.OUTPUT_KEY].argmax(axis=1)
    assert logits[tm.OUTPUT_KEY].shape == (len(species), 3)
    assert (predicted == transformed["species_xf"].ravel()).mean() > 0.8


@pytest.mark.slow
def test_penguin_with_integer_species_as_in_tfxs_data(tmp_path):
    built = tm.build_penguin(str(tmp_path), n=120, species_as_string=False, epochs=2)
    transformed = _call(built, tm.TRANSFORM_SIGNATURE, built.examples[:10])
    vocabulary = [int(v) for v in _vocabulary(built, "species")]
    species = _raw(built.examples[:10], "species").tolist()
    assert transformed["species_xf"].ravel().tolist() == [vocabulary.index(s) for s in species]
