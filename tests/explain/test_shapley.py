"""Shapley values of real Keras 3 SavedModels over raw numeric, string and integer features:
exact values against brute force and shap, KernelSHAP's accuracy, additivity, seeds, errors."""

import itertools
import math

import numpy as np
import pytest
import shap

from glassbox.explain.errors import ExplanationError
from glassbox.explain.exact_shapley import exact_shapley
from glassbox.explain.kernel_shap import BATCHES, kernel_shap
from glassbox.explain.masking import Masker, feature_groups
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.shapley import shapley_values
from glassbox.protos.explain_config_pb2 import Shapley
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_models

ROWS = explain_models.columns(4, seed=1)
BACKGROUND = explain_models.columns(16, seed=2)
WIDE_ROWS = explain_models.columns(3, num_numeric=12, seed=1)
WIDE_BACKGROUND = explain_models.columns(12, num_numeric=12, seed=2)
# The models compute in float32, and a batch of another size may round a score differently (by an
# ulp, ~6e-8 here): values built from scores of differently shaped batches agree to this.
FLOAT32_ROUNDING = 2e-7


@pytest.fixture(scope="module")
def dict_model(tmp_path_factory):
    """Named raw tensors in: the masking engine's fast path."""
    path = explain_models.export(
        explain_models.dict_model(seed=3), str(tmp_path_factory.mktemp("dict"))
    )
    return SavedModelFunction(path, signature_name=FEATURES_SIGNATURE_NAME)


@pytest.fixture(scope="module")
def sequence_model(tmp_path_factory):
    """Embeddings, an LSTM and attention; serialized tf.Examples in (masked rows re-encoded)."""
    path = explain_models.export(
        explain_models.sequence_model(seed=4), str(tmp_path_factory.mktemp("seq"))
    )
    return SavedModelFunction(path)


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    """14 raw features: beyond exact Shapley's default."""
    path = explain_models.export(
        explain_models.dict_model(num_numeric=12, seed=5), str(tmp_path_factory.mktemp("wide"))
    )
    return SavedModelFunction(path, signature_name=FEATURES_SIGNATURE_NAME)


def brute_force_shapley(model, rows, background, players, held=()):
    """Shapley values as the mean marginal contribution over every ordering of the players, each
    coalition's value the mean score over the background (one model call per coalition); held
    features keep the rows' values in every coalition."""
    n, size = len(next(iter(rows.values()))), len(next(iter(background.values())))
    value = {}
    for coalition in itertools.product([False, True], repeat=len(players)):
        kept = {
            feature for keep, members in zip(coalition, players) if keep for feature in members
        } | set(held)
        masked = {
            name: np.repeat(values, size) if name in kept else np.tile(background[name], n)
            for name, values in rows.items()
        }
        value[coalition] = model(masked).reshape(n, size).mean(axis=1)
    result = np.zeros((n, len(players)))
    for order in itertools.permutations(range(len(players))):
        coalition = [False] * len(players)
        for player in order:
            before = value[tuple(coalition)]
            coalition[player] = True
            result[:, player] += value[tuple(coalition)] - before
    return result / math.factorial(len(players))


def assert_additive(attributions, model, rows, background):
    expected = model(rows) - model(background).mean()
    np.testing.assert_allclose(
        attributions.values.sum(axis=1), expected, rtol=1e-6, atol=FLOAT32_ROUNDING
    )


@pytest.mark.parametrize("model_name", ["dict_model", "sequence_model"])
def test_exact_values_equal_brute_force_enumeration(model_name, request):
    model = request.getfixturevalue(model_name)
    attributions = exact_shapley(model, ROWS, BACKGROUND)

    assert attributions.groups == tuple(ROWS)
    expected = brute_force_shapley(model, ROWS, BACKGROUND, [[name] for name in ROWS])
    np.testing.assert_allclose(attributions.values, expected, rtol=1e-6, atol=FLOAT32_ROUNDING)
    assert np.abs(expected).min(axis=0).max() > 1e-3, "every feature type should matter"
    assert_additive(attributions, model, ROWS, BACKGROUND)
    np.testing.assert_array_equal(attributions.standard_errors, 0)


def test_exact_values_equal_shaps_exact_explainer(dict_model):
    # shap masks numeric matrices: the city enters as its index in CITIES.
    names = list(ROWS)
    cities = np.array(explain_models.CITIES, dtype=object)

    def as_matrix(columns):
        coded = dict(
            columns, city=np.array([explain_models.CITIES.index(city) for city in columns["city"]])
        )
        return np.stack([coded[name].astype(np.float64) for name in names], axis=1)

    def on_matrix(matrix):
        columns = {name: matrix[:, i] for i, name in enumerate(names)}
        return dict_model(
            dict(
                columns,
                city=cities[matrix[:, names.index("city")].astype(int)],
                rooms=columns["rooms"].astype(np.int64),
            )
        )

    background = as_matrix(BACKGROUND)
    explainer = shap.ExactExplainer(
        on_matrix, shap.maskers.Independent(background, max_samples=len(background))
    )
    expected = explainer(as_matrix(ROWS)).values

    np.testing.assert_allclose(
        exact_shapley(dict_model, ROWS, BACKGROUND).values,
        expected,
        rtol=1e-6,
        atol=FLOAT32_ROUNDING,
    )


def test_a_feature_group_is_masked_as_one(dict_model):
    groups = [("home", ["city", "rooms"])]
    attributions = exact_shapley(dict_model, ROWS, BACKGROUND, groups)

    assert attributions.groups == ("home", "x0", "x1", "x2")
    expected = brute_force_shapley(
        dict_model, ROWS, BACKGROUND, [["city", "rooms"], ["x0"], ["x1"], ["x2"]]
    )
    np.testing.assert_allclose(attributions.values, expected, rtol=1e-6, atol=FLOAT32_ROUNDING)
    assert_additive(attributions, dict_model, ROWS, BACKGROUND)


@pytest.mark.parametrize("algorithm", [Shapley.EXACT, Shapley.KERNEL])
def test_features_left_out_keep_the_rows_values(dict_model, algorithm):
    result = shapley_values(
        dict_model, ROWS, BACKGROUND, config=Shapley(algorithm=algorithm), features=["x0", "city"]
    )
    assert result.groups == ("x0", "city")
    expected = brute_force_shapley(
        dict_model, ROWS, BACKGROUND, [("x0",), ("city",)], held=("x1", "x2", "rooms")
    )
    np.testing.assert_allclose(result.values, expected, rtol=1e-6, atol=FLOAT32_ROUNDING)


@pytest.mark.parametrize("method", [exact_shapley, kernel_shap])
def test_a_single_feature_gets_the_whole_difference(dict_model, method):
    attributions = method(dict_model, ROWS, BACKGROUND, features=["x0"])

    masked = {name: np.repeat(values, 16) for name, values in ROWS.items()}
    masked["x0"] = np.tile(BACKGROUND["x0"], 4)
    expected = dict_model(ROWS) - dict_model(masked).reshape(4, 16).mean(axis=1)
    assert attributions.groups == ("x0",)
    np.testing.assert_allclose(
        attributions.values[:, 0], expected, rtol=1e-6, atol=FLOAT32_ROUNDING
    )


def test_background_weights_count_as_repeated_rows(dict_model):
    weights = np.arange(1, 17)
    repeated = {name: np.repeat(values, weights) for name, values in BACKGROUND.items()}

    weighted = exact_shapley(dict_model, ROWS, BACKGROUND, background_weights=weights)
    np.testing.assert_allclose(
        weighted.values,
        exact_shapley(dict_model, ROWS, repeated).values,
        rtol=1e-6,
        atol=FLOAT32_ROUNDING,
    )
    assert weighted.base_value == pytest.approx(dict_model(repeated).mean(), rel=1e-6)


def test_kernel_shap_with_every_coalition_is_exact(sequence_model):
    kernel = kernel_shap(sequence_model, ROWS, BACKGROUND, num_coalitions=2**5)

    np.testing.assert_allclose(
        kernel.values,
        exact_shapley(sequence_model, ROWS, BACKGROUND).values,
        rtol=1e-6,
        atol=FLOAT32_ROUNDING,
    )
    np.testing.assert_array_equal(kernel.standard_errors, 0)


def test_kernel_shap_is_accurate_additive_and_states_its_error(wide_model):
    exact = exact_shapley(wide_model, WIDE_ROWS, WIDE_BACKGROUND)
    kernel = kernel_shap(wide_model, WIDE_ROWS, WIDE_BACKGROUND, seed=7)

    error = kernel.values - exact.values
    assert np.linalg.norm(error) <= 0.02 * np.linalg.norm(exact.values)
    assert_additive(kernel, wide_model, WIDE_ROWS, WIDE_BACKGROUND)
    assert (kernel.standard_errors > 0).all()
    # The stated errors are of the size of the actual ones.
    assert 0.3 < np.sqrt((error**2).mean() / (kernel.standard_errors**2).mean()) < 3


def test_kernel_shap_repeats_for_a_seed_and_varies_across_seeds(wide_model):
    first, again, other = (
        kernel_shap(wide_model, WIDE_ROWS, WIDE_BACKGROUND, num_coalitions=256, seed=seed)
        for seed in (1, 1, 2)
    )
    np.testing.assert_array_equal(first.values, again.values)
    np.testing.assert_array_equal(first.standard_errors, again.standard_errors)
    assert not np.allclose(first.values, other.values)


@pytest.mark.parametrize(
    "model_name, method, rows, background, coalitions",
    [
        ("dict_model", exact_shapley, ROWS, BACKGROUND, (2**5 - 2, 2**5 - 2)),
        # Up to 2048 coalitions: the sampled pairs are a multiple of the batches.
        ("wide_model", kernel_shap, WIDE_ROWS, WIDE_BACKGROUND, (2048 - 2 * BATCHES, 2048)),
    ],
)
def test_masked_rows_reach_the_model_in_one_call_per_chunk(
    model_name, method, rows, background, coalitions, request
):
    model = request.getfixturevalue(model_name)
    calls = []

    def recorded(columns):
        calls.append(len(next(iter(columns.values()))))
        return model(columns)

    method(recorded, rows, background)

    # The explained rows are scored with the background rows, in one call.
    explained_and_background, masked_rows = sorted(calls)
    assert explained_and_background == len(rows["x0"]) + len(background["x0"])
    per_coalition = len(rows["x0"]) * len(background["x0"])
    assert coalitions[0] * per_coalition <= masked_rows <= coalitions[1] * per_coalition


def _mixed_columns(n, seed):
    rng = np.random.default_rng(seed)
    return {
        "f32": rng.standard_normal(n).astype(np.float32),
        "f64": rng.standard_normal(n),
        "i": rng.integers(-5, 5, n),
        "flag": rng.random(n) < 0.5,
        "s": rng.choice(["a", "bb", "ccc"], n),
        "held": rng.standard_normal(n),
    }


def _mixed_model(columns):
    """A score that tells every column's value apart (numbers of any dtype, strings), elementwise."""
    return (
        np.sin(3 * columns["f32"].astype(np.float64))
        + np.cos(5 * columns["f64"])
        + 0.1 * columns["i"]
        + 0.37 * columns["flag"]
        + np.char.str_len(columns["s"]) * columns["held"]
    )


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 10**6])
def test_masked_rows_take_the_rows_values_on_the_coalition_whatever_the_chunks(chunk_size):
    rows, background = _mixed_columns(3, seed=1), _mixed_columns(5, seed=2)
    background["f32"] = background["f32"].astype(
        np.float64
    )  # the row's float32 values join float64 ones
    groups = feature_groups(
        rows, [("numbers", ["f32", "i"])], ["f64", "flag", "s"]
    )  # "held" in no group
    masker = Masker(_mixed_model, background, groups, chunk_size=chunk_size)
    coalitions = np.random.default_rng(3).random((5, 6, len(groups))) < 0.5

    def masked(row, background_row, coalition):
        kept = {
            member for keep, (_, members) in zip(coalition, groups) if keep for member in members
        } | {"held"}
        return {
            name: np.asarray([values[row] if name in kept else background[name][background_row]])
            for name, values in rows.items()
        }

    expected = np.array(
        [
            [[_mixed_model(masked(r, b, c))[0] for c in coalitions[b]] for b in range(5)]
            for r in range(3)
        ]
    )
    np.testing.assert_array_equal(masker.baseline_values(rows, coalitions), expected)
    shared = coalitions[0]
    by_background = np.array(
        [[[_mixed_model(masked(r, b, c))[0] for b in range(5)] for c in shared] for r in range(3)]
    )
    np.testing.assert_allclose(masker.values(rows, shared), by_background.mean(axis=2), rtol=1e-12)


def test_config_picks_exact_for_few_groups_and_kernel_beyond(dict_model):
    auto = shapley_values(dict_model, ROWS, BACKGROUND)
    assert auto.method == "exact_shapley"
    kernel = shapley_values(
        dict_model,
        ROWS,
        BACKGROUND,
        config=Shapley(max_exact_features=4, num_coalitions=16),
        seed=3,
    )
    assert kernel.method == "kernel_shap"
    forced = shapley_values(
        dict_model,
        ROWS,
        BACKGROUND,
        config=Shapley(algorithm=Shapley.KERNEL, num_coalitions=16),
        seed=3,
    )
    np.testing.assert_array_equal(forced.values, kernel.values)
    with pytest.raises(ExplanationError, match="Shapley.max_exact_features is 20; at most 16"):
        shapley_values(dict_model, ROWS, BACKGROUND, config=Shapley(max_exact_features=20))


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda m: exact_shapley(
                m, {**ROWS, **{f"y{i}": ROWS["x0"] for i in range(12)}}, BACKGROUND
            ),
            "over 17 feature groups need 2\\^17 coalitions",
        ),
        (
            lambda m: kernel_shap(m, ROWS, BACKGROUND, num_coalitions=8),
            "num_coalitions 8 is too few for 5 .* at least 16",
        ),
        (
            lambda m: exact_shapley(m, ROWS, BACKGROUND, [("home", ["city", "floor"])]),
            "feature 'floor' of group 'home' is not a feature of the rows",
        ),
        (
            lambda m: exact_shapley(
                m, ROWS, BACKGROUND, [("a", ["city"]), ("b", ["city", "rooms"])]
            ),
            "feature 'city' is in groups 'a' and 'b'",
        ),
        (
            lambda m: exact_shapley(m, ROWS, {k: v for k, v in BACKGROUND.items() if k != "x1"}),
            "feature 'x1' \\(group 'x1'\\) is not in the background",
        ),
        (
            lambda m: exact_shapley(m, ROWS, {k: v[:0] for k, v in BACKGROUND.items()}),
            "the background has no rows",
        ),
        (
            lambda m: exact_shapley(m, ROWS, BACKGROUND, background_weights=-np.ones(16)),
            "background weights must be 16 non-negative numbers",
        ),
    ],
)
def test_bad_input_is_named(dict_model, call, message):
    with pytest.raises(ExplanationError, match=message):
        call(dict_model)
