"""Permutation importance of a real Keras 3 SavedModel with known weights: the key feature ranks
highest and unused ones exactly 0 on every metric and slice, with their spread over repeats;
batched calls, seeds, undefined metrics, and clear errors."""

import json

import numpy as np
import pytest

from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.permutation_importance import METRICS, permutation_importance
from glassbox.explain.slices import OVERALL
from glassbox.protos.explain_config_pb2 import PermutationImportance
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_models
from tests.support.explain_known_models import linear_model

N = 2000
COLUMNS = explain_models.columns(N, seed=1)
SLICES = {
    OVERALL: np.ones(N, dtype=bool),
    "city:paris": COLUMNS["city"] == "paris",
    "city:lyon": COLUMNS["city"] == "lyon",
}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """P(label) = sigmoid(3 x0 + 0.5 x1 + [city is paris]); x2 and rooms are inputs it ignores."""
    keras_model = linear_model([3.0, 0.5, 0.0], {"paris": 1.0}, rooms_slope=0.0)
    path = explain_models.export(keras_model, str(tmp_path_factory.mktemp("linear")))
    return SavedModelFunction(path, signature_name=FEATURES_SIGNATURE_NAME)


@pytest.fixture(scope="module")
def labels(model):
    return (np.random.default_rng(2).uniform(size=N) < model(COLUMNS)).astype(np.int64)


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_key_feature_ranks_highest_and_unused_features_are_zero_in_every_slice(
    model, labels, metric
):
    result = permutation_importance(
        model, COLUMNS, labels, config=PermutationImportance(metric=metric), slices=SLICES, seed=1
    )

    assert result.group_names == ("x0", "x1", "x2", "city", "rooms")
    for name, importance in result.slices.items():
        mean = dict(zip(result.group_names, importance.mean))
        std = dict(zip(result.group_names, importance.std))
        assert max(mean, key=mean.get) == "x0", name
        assert mean["x0"] > 5 * std["x0"] > 0, name
        for unused in ("x2", "rooms"):
            assert mean[unused] == 0 and std[unused] == 0, (name, unused)
        assert importance.importances.shape == (5, 5)


def test_default_metric_json_seeds_groups_and_batched_calls(model, labels):
    sizes = []

    def counting(columns):
        sizes.append(len(columns["x0"]))
        return model(columns)

    result = permutation_importance(
        counting,
        COLUMNS,
        labels,
        groups=[("numbers", ["x0", "x1"])],
        config=PermutationImportance(num_repeats=3),
        slices=SLICES,
        seed=7,
    )
    assert result.metric == "log_loss"  # probabilities of 0/1 labels
    assert result.group_names == ("numbers", "x2", "city", "rooms")
    # The rows, then 4 groups x 3 repeats of 2000 permuted rows in calls of >= 10k rows.
    assert sizes[0] == N and sum(sizes[1:]) == 12 * N and min(sizes[1:-1]) >= 10_000

    document = json.loads(json.dumps(result.to_json()))
    assert set(document["slices"]) == set(SLICES)
    assert document["slices"][OVERALL]["metric_value"] == pytest.approx(
        result.slices[OVERALL].metric_value
    )
    assert set(document["slices"][OVERALL]["importance"]["numbers"]) == {"mean", "std"}

    again = permutation_importance(
        model,
        COLUMNS,
        labels,
        groups=[("numbers", ["x0", "x1"])],
        config=PermutationImportance(num_repeats=3),
        slices=SLICES,
        seed=7,
    )
    other = permutation_importance(
        model,
        COLUMNS,
        labels,
        groups=[("numbers", ["x0", "x1"])],
        config=PermutationImportance(num_repeats=3),
        slices=SLICES,
        seed=8,
    )
    np.testing.assert_array_equal(
        again.slices[OVERALL].importances, result.slices[OVERALL].importances
    )
    assert not np.array_equal(other.slices[OVERALL].importances, result.slices[OVERALL].importances)


def test_auc_of_a_slice_with_one_class_is_undefined(model, labels):
    one_class = labels == 1
    result = permutation_importance(
        model,
        COLUMNS,
        labels,
        config=PermutationImportance(metric="auc", num_repeats=2),
        slices={OVERALL: np.ones(N, dtype=bool), "positives": one_class},
    )
    document = result.to_json()["slices"]
    assert document["positives"]["metric_value"] is None
    assert document["positives"]["importance"]["x0"] == {"mean": None, "std": None}
    assert document[OVERALL]["importance"]["x0"]["mean"] > 0


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(config=PermutationImportance(metric="f1")), "metric 'f1' is unknown"),
        (
            dict(groups=[("g", ["x0", "nowhere"])]),
            "feature 'nowhere' of group 'g' is not a feature",
        ),
        (
            dict(labels=np.full(N, 2), config=PermutationImportance(metric="auc")),
            r"needs binary labels .* \[2\]",
        ),
        (
            dict(
                model=lambda columns: 3.0 * columns["x0"],
                config=PermutationImportance(metric="log_loss"),
            ),
            r"needs probabilities in \[0, 1\]",
        ),
        (dict(labels=np.zeros(N - 1)), "feature 'x0' has shape"),
        (dict(slices={"bad": np.ones(N)}), "slice 'bad'"),
    ],
)
def test_bad_input_is_a_clear_error(model, labels, change, message):
    arguments = dict(model=model, columns=COLUMNS, labels=labels)
    arguments.update(change)
    with pytest.raises(ExplanationError, match=message):
        permutation_importance(**arguments)
