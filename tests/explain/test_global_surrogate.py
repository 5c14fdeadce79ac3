"""The global surrogate: a shallow tree recovers a tree-structured model with its features named in
readable rules, states its fidelity per slice honestly, and refuses bad input by name."""

import json

import numpy as np
import pytest

from glassbox.explain.errors import ExplanationError
from glassbox.explain.global_surrogate import fit_global_surrogate
from glassbox.explain.slices import OVERALL
from glassbox.protos.explain_config_pb2 import GlobalSurrogate

N = 4000


def _columns(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x0": rng.normal(size=N).astype(np.float32),
        "category": np.array([b"a", b"b", b"c"], dtype=object)[rng.integers(0, 3, N)],
        "count": rng.integers(0, 5, N),
        "noise": rng.normal(size=N),
    }


def _tree_model(columns):
    """0.9 if x0 > 0.5 and category is b, else 0.6 if count >= 3, else 0.1."""
    return np.where(
        (columns["x0"] > 0.5) & (columns["category"] == b"b"),
        0.9,
        np.where(columns["count"] >= 3, 0.6, 0.1),
    )


def _slices(columns):
    return {
        OVERALL: np.ones(N, dtype=bool),
        "category:a": columns["category"] == b"a",
        "category:b": columns["category"] == b"b",
    }


def test_recovers_a_tree_structured_model_with_readable_rules():
    columns = _columns()
    tree = fit_global_surrogate(columns, _tree_model(columns), slices=_slices(columns))

    for fidelity in tree.fidelity.values():
        assert fidelity.r2 == pytest.approx(1.0, abs=1e-9)
        assert fidelity.agreement == 1.0
    rules = tree.rules
    assert "x0 <= 0.50" in rules and "x0 >  0.50" in rules
    assert "category == b" in rules and "category != b" in rules
    assert "count <= 2.50" in rules
    assert "noise" not in rules  # a feature the model ignores is never split on
    assert "value: [0.90]" in rules and "value: [0.60]" in rules and "value: [0.10]" in rules


def test_json_is_the_surrogate_json_layout_and_fidelity_is_honest_for_a_smooth_model():
    columns = _columns(seed=1)
    scores = 1 / (1 + np.exp(-3 * columns["x0"] - columns["noise"]))
    tree = fit_global_surrogate(
        columns, scores, slices=_slices(columns), config=GlobalSurrogate(max_depth=2)
    )

    document = json.loads(json.dumps(tree.to_json()))
    assert document["rules"] == tree.rules
    assert set(document["fidelity"]) == {OVERALL, "category:a", "category:b"}
    overall = document["fidelity"][OVERALL]
    # Four leaves cannot reproduce a smooth function of two features: the fidelity says so.
    assert 0.5 < overall["r2"] < 0.95
    assert 0.8 < overall["agreement"] < 1.0
    assert document["max_depth"] == 2 and tree.rules.count("value:") <= 4


def test_equal_seeds_give_equal_rules():
    columns = _columns(seed=2)
    scores = columns["x0"] * columns["count"]
    assert (
        fit_global_surrogate(columns, scores, seed=3).rules
        == fit_global_surrogate(columns, scores, seed=3).rules
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(features=["x0", "missing"]), "unknown feature 'missing'"),
        (dict(scores=np.zeros(N - 1)), "feature 'x0' has shape"),
        (dict(scores=np.full(N, np.nan)), "non-finite"),
        (dict(slices={"bad": np.ones(3, dtype=bool)}), "slice 'bad'"),
    ],
)
def test_bad_input_is_a_clear_error(change, message):
    columns = _columns()
    arguments = dict(columns=columns, scores=_tree_model(columns))
    arguments.update(change)
    with pytest.raises(ExplanationError, match=message):
        fit_global_surrogate(**arguments)
