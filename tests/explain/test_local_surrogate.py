"""The LIME-style local surrogate: a linear model's local effects recovered, equal results for a
fixed seed, stability across seeds reported (and improving with more samples) on a real Keras 3
SavedModel, batched calls, and clear errors."""

import json

import numpy as np
import pytest

from glassbox.explain.errors import ExplanationError
from glassbox.explain.local_surrogate import local_surrogate
from glassbox.explain.model_function import SavedModelFunction
from glassbox.protos.explain_config_pb2 import LocalSurrogate
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_models

ROWS = explain_models.columns(8, seed=1)
BACKGROUND = explain_models.columns(16, seed=2)
WEIGHTS = np.array([2.0, -1.0, 0.5])
CITY_EFFECTS = {"paris": 1.5, "lyon": -0.7, "nice": 0.3, "lille": 0.0}
ROOMS_SLOPE = 0.4


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    path = explain_models.export(
        explain_models.dict_model(seed=3), str(tmp_path_factory.mktemp("mlp"))
    )
    return SavedModelFunction(path, signature_name=FEATURES_SIGNATURE_NAME)


def _city_effect(cities):
    return np.array([CITY_EFFECTS[city] for city in cities])


def _linear(columns):
    return (
        sum(w * np.asarray(columns[f"x{i}"], np.float64) for i, w in enumerate(WEIGHTS))
        + _city_effect(columns["city"])
        + ROOMS_SLOPE * columns["rooms"]
    )


def test_recovers_a_linear_models_local_effects_against_one_background_row():
    background = {name: values[:1] for name, values in BACKGROUND.items()}
    result = local_surrogate(_linear, ROWS, background, groups=[("x01", ["x0", "x1"])])

    x = np.stack([ROWS[f"x{i}"] for i in range(3)], axis=1) - np.stack(
        [background[f"x{i}"] for i in range(3)], axis=1
    )
    city = _city_effect(ROWS["city"]) - _city_effect(background["city"])
    rooms = ROOMS_SLOPE * (ROWS["rooms"] - background["rooms"])
    expected = np.stack([x[:, :2] @ WEIGHTS[:2], x[:, 2] * WEIGHTS[2], city, rooms], axis=1)
    assert result.attributions.groups == ("x01", "x2", "city", "rooms")
    # Ridge's penalty (alpha 1, as lime) shrinks the exact effects by about 1%.
    np.testing.assert_allclose(result.attributions.values, expected, rtol=0.03, atol=0.02)
    assert result.local_r2.min() > 0.999
    assert result.attributions.standard_errors.max() < 0.01
    np.testing.assert_allclose(result.rank_correlation, 1.0)
    np.testing.assert_allclose(result.attributions.predictions, _linear(ROWS))


def test_a_fixed_seed_gives_equal_results_and_the_stability_across_seeds_is_reported(mlp):
    sizes = []

    def counting(columns):
        sizes.append(len(columns["x0"]))
        return mlp(columns)

    config = LocalSurrogate(num_samples=500, num_seeds=4)
    result = local_surrogate(counting, ROWS, BACKGROUND, config=config, seed=11)
    # Every perturbation of every row and seed in one call, then the background's mean score.
    assert sizes == [8 * 500 * 4, 16]
    again = local_surrogate(mlp, ROWS, BACKGROUND, config=config, seed=11)
    other = local_surrogate(mlp, ROWS, BACKGROUND, config=config, seed=12)
    np.testing.assert_array_equal(again.attributions.values, result.attributions.values)
    np.testing.assert_array_equal(again.rank_correlation, result.rank_correlation)
    assert not np.array_equal(other.attributions.values, result.attributions.values)

    errors = result.attributions.standard_errors
    assert errors.shape == (8, 5) and np.isfinite(errors).all() and errors.max() > 0
    assert np.all((-1 <= result.rank_correlation) & (result.rank_correlation <= 1))
    document = json.loads(json.dumps(result.to_json()))
    assert document["num_seeds"] == 4 and document["seed"] == 11
    assert document["mean_rank_correlation"] == pytest.approx(result.rank_correlation.mean())
    assert document["mean_coefficient_std"] == pytest.approx(errors.mean())
    assert 0 <= document["mean_local_r2"] <= 1


def test_more_samples_make_the_surrogate_more_stable(mlp):
    few = local_surrogate(mlp, ROWS, BACKGROUND, config=LocalSurrogate(num_samples=50, num_seeds=3))
    many = local_surrogate(
        mlp, ROWS, BACKGROUND, config=LocalSurrogate(num_samples=2000, num_seeds=3)
    )
    assert many.attributions.standard_errors.mean() < 0.5 * few.attributions.standard_errors.mean()
    assert many.rank_correlation.mean() > few.rank_correlation.mean()


def test_one_seed_reports_no_stability():
    result = local_surrogate(
        _linear, ROWS, BACKGROUND, config=LocalSurrogate(num_samples=100, num_seeds=1)
    )
    assert (
        np.isnan(result.attributions.standard_errors).all()
        and np.isnan(result.rank_correlation).all()
    )
    document = result.to_json()
    assert document["mean_rank_correlation"] is None and document["mean_coefficient_std"] is None


@pytest.mark.parametrize(
    "change, message",
    [
        (
            dict(background={name: values[:0] for name, values in BACKGROUND.items()}),
            "background has no rows",
        ),
        (
            dict(background={"x0": BACKGROUND["x0"]}),
            r"feature 'x1' \(group 'x1'\) is not in the background",
        ),
        (
            dict(groups=[("g", ["x0", "nowhere"])]),
            "feature 'nowhere' of group 'g' is not a feature",
        ),
        (
            dict(background_weights=-np.ones(16)),
            "background weights must be 16 non-negative numbers",
        ),
        (dict(config=LocalSurrogate(num_samples=1)), "num_samples must be at least 2"),
    ],
)
def test_bad_input_is_a_clear_error(change, message):
    arguments = dict(model=_linear, rows=ROWS, background=BACKGROUND)
    arguments.update(change)
    with pytest.raises(ExplanationError, match=message):
        local_surrogate(**arguments)
