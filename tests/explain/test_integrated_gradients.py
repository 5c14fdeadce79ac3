"""Integrated gradients of real Keras 3 models (a SavedModel's named-feature signature and in-memory
dict models): convergence within 1% at the configured steps, exact values on a linear model for
every baseline, batched calls, held non-numeric inputs, and clear errors."""

import json

import keras
import numpy as np
import pytest

from glassbox.explain.errors import ExplanationError
from glassbox.explain.integrated_gradients import (
    DifferentiableModel,
    integrated_gradients,
    keras_scores,
    signature_scores,
)
from glassbox.explain.model_function import SavedModelFunction
from glassbox.protos.explain_config_pb2 import IntegratedGradients
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_models
from tests.support.explain_known_models import linear_model

ROWS = explain_models.columns(64, seed=1)
BACKGROUND = explain_models.columns(32, seed=2)
WEIGHTS = np.array([1.5, -2.0, 0.5])
NUMBERS = ("x0", "x1", "x2")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An MLP over numbers, an embedded string and an embedded integer, as the Trainer exports it."""
    return explain_models.export(
        explain_models.dict_model(seed=3), str(tmp_path_factory.mktemp("mlp"))
    )


@pytest.fixture(scope="module")
def mlp(exported):
    return signature_scores(SavedModelFunction(exported, signature_name=FEATURES_SIGNATURE_NAME))


def _counting(model: DifferentiableModel, sizes: list) -> DifferentiableModel:
    def scores(inputs):
        sizes.append(int(next(iter(inputs.values())).shape[0]))
        return model.scores(inputs)

    return DifferentiableModel(model.input_specs, scores)


def test_convergence_delta_within_one_percent_at_the_configured_steps_in_one_batched_call(
    exported, mlp
):
    sizes = []
    result = integrated_gradients(
        _counting(mlp, sizes), ROWS, BACKGROUND, config=IntegratedGradients(steps=16)
    )

    assert np.nanmax(result.relative_delta) <= 0.01
    assert json.loads(json.dumps(result.to_json()))["max_relative_delta"] <= 0.01
    # All 16 steps (and both ends) of all 64 rows in one gradient call, after a one-row probe.
    assert sizes == [1, 64 * (16 + 2)]
    assert result.attributions.groups == NUMBERS
    assert result.not_attributed == ("city", "rooms")
    scores = SavedModelFunction(exported, signature_name=FEATURES_SIGNATURE_NAME)(ROWS)
    np.testing.assert_allclose(result.attributions.predictions, scores, rtol=1e-6)
    # The delta is what tells a too coarse quadrature apart.
    coarse = integrated_gradients(mlp, ROWS, BACKGROUND, config=IntegratedGradients(steps=1))
    assert np.nanmax(coarse.relative_delta) > 0.01


@pytest.mark.parametrize(
    "baseline",
    [
        IntegratedGradients.BACKGROUND_MEAN,
        IntegratedGradients.ZERO,
        IntegratedGradients.BACKGROUND_ROWS,
    ],
)
def test_linear_model_attributions_are_exactly_x_minus_baseline_times_w(baseline):
    model = keras_scores(linear_model(WEIGHTS, {"paris": 1.0, "nice": -0.5}, rooms_slope=0.3))
    weights = np.random.default_rng(0).uniform(0.1, 2.0, 32)
    result = integrated_gradients(
        model,
        ROWS,
        BACKGROUND,
        config=IntegratedGradients(steps=4, baseline=baseline),
        background_weights=weights,
    )

    x = np.stack([ROWS[name] for name in NUMBERS], axis=1).astype(np.float64)
    x0 = (
        np.zeros(3)
        if baseline == IntegratedGradients.ZERO
        else np.average(
            np.stack([BACKGROUND[name] for name in NUMBERS], axis=1), axis=0, weights=weights
        )
    )
    np.testing.assert_allclose(result.attributions.values, (x - x0) * WEIGHTS, rtol=1e-5, atol=1e-5)
    assert result.convergence_delta.max() < 1e-4
    assert result.not_attributed == ("city", "rooms")


def test_groups_sum_their_inputs_and_features_left_out_are_held():
    model = keras_scores(linear_model(WEIGHTS, {"lyon": 2.0}))
    x = np.stack([ROWS[name] for name in NUMBERS], axis=1)
    x0 = np.stack([BACKGROUND[name] for name in NUMBERS], axis=1).mean(axis=0)

    grouped = integrated_gradients(model, ROWS, BACKGROUND, groups=[("x01", ["x0", "x1"])])
    assert grouped.attributions.groups == ("x01", "x2")
    np.testing.assert_allclose(
        grouped.attributions.values[:, 0],
        ((x - x0) * WEIGHTS)[:, :2].sum(axis=1),
        rtol=1e-5,
        atol=1e-5,
    )

    only_x2 = integrated_gradients(model, ROWS, BACKGROUND, features=["x2"])
    assert only_x2.attributions.groups == ("x2",)
    assert only_x2.not_attributed == ("x0", "x1", "city", "rooms")
    np.testing.assert_allclose(
        only_x2.attributions.values[:, 0], (x[:, 2] - x0[2]) * WEIGHTS[2], rtol=1e-5, atol=1e-5
    )
    assert only_x2.convergence_delta.max() < 1e-4


def _keras_model(inputs, output):
    return keras.Model(inputs, keras.layers.Dense(1)(output))


def test_a_model_not_differentiable_in_any_input_is_refused():
    categorical = {
        "city": keras.Input(shape=(1,), name="city", dtype="string"),
        "rooms": keras.Input(shape=(1,), name="rooms", dtype="int64"),
    }
    only_categorical = _keras_model(
        categorical,
        keras.layers.Concatenate()(
            [
                keras.layers.StringLookup(
                    vocabulary=list(explain_models.CITIES), output_mode="one_hot"
                )(categorical["city"]),
                keras.layers.Lambda(lambda r: keras.ops.cast(r, "float32"))(categorical["rooms"]),
            ]
        ),
    )
    with pytest.raises(
        ExplanationError, match=r"takes no float input.*city \(string\), rooms \(int64\)"
    ):
        integrated_gradients(keras_scores(only_categorical), ROWS, BACKGROUND)

    x0 = keras.Input(shape=(1,), name="x0", dtype="float32")
    rounded = _keras_model({"x0": x0}, keras.layers.Lambda(keras.ops.round)(x0))
    with pytest.raises(ExplanationError, match=r"no gradient for any of its float inputs \['x0'\]"):
        integrated_gradients(keras_scores(rounded), ROWS, BACKGROUND)


def test_a_keras_model_with_a_multi_value_input_is_refused():
    vector = keras.Input(shape=(3,), name="vector", dtype="float32")
    with pytest.raises(ExplanationError, match=r"input 'vector' .* has shape \(None, 3\)"):
        keras_scores(_keras_model({"vector": vector}, vector))


def test_a_signature_parsing_serialized_examples_is_refused(exported):
    with pytest.raises(ExplanationError, match="parses serialized tf.Examples.*serving_features"):
        signature_scores(SavedModelFunction(exported))


@pytest.mark.parametrize(
    "change, message",
    [
        (
            dict(groups=[("g", ["x0", "nowhere"])]),
            "feature 'nowhere' of group 'g' is not a feature",
        ),
        (dict(groups=[("mixed", ["x0", "city"])]), r"group 'mixed' mixes .*\['city'\]"),
        (
            dict(background={name: values[:0] for name, values in BACKGROUND.items()}),
            "background rows have no rows",
        ),
        (
            dict(background={"x0": BACKGROUND["x0"]}),
            r"background rows lack the model inputs \['x1', 'x2'\]",
        ),
        (
            dict(rows={name: values for name, values in ROWS.items() if name != "x1"}),
            r"explained rows lack the model inputs \['x1'\]",
        ),
        (dict(background_weights=np.ones(3)), "background weights must be 32 non-negative numbers"),
    ],
)
def test_bad_input_is_a_clear_error(change, message):
    arguments = dict(
        model=keras_scores(linear_model(WEIGHTS, {})), rows=ROWS, background=BACKGROUND
    )
    arguments.update(change)
    with pytest.raises(ExplanationError, match=message):
        integrated_gradients(**arguments)
