"""What-if explanations: partial dependence and ICE curves equal a brute-force computation (a score
linear in x1 and independent of x2 has the PDP slope of x1 and a flat PDP of x2); each row's
counterfactual is the nearest pool example of the other outcome by Gower distance, with the
features that differ; both run through `glassbox evaluate` and are written as documented, each
explained row with its own ICE curves; what_if scores a row with any changes as the model does."""

import json
import os

import numpy as np
import pytest

from glassbox.explain.counterfactual import counterfactuals, outcomes_of
from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.partial_dependence import grid, partial_dependence
from glassbox.explain.what_if import what_if
from glassbox.protos.explain_config_pb2 import PartialDependence
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_known_models, explain_models, explained_runs

N = 300


def _rows(n=N, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x1": rng.normal(size=n),
        "x2": rng.uniform(-1, 1, size=n),
        "count": rng.integers(0, 10, n),
        "city": np.array([b"paris", b"lyon", b"nice"], dtype=object)[rng.integers(0, 3, n)],
    }


def _linear(columns):
    """3 x1 + [city == paris], independent of x2 and count."""
    return 3.0 * np.asarray(columns["x1"]) + (np.asarray(columns["city"]) == b"paris")


def test_pdp_and_ice_equal_brute_force_and_recover_a_linear_score():
    rows = _rows()
    slices = {"Overall": np.ones(N, bool), "city:paris": rows["city"] == b"paris"}
    curves = partial_dependence(
        _linear, rows, ["x1", "x2", "count", "city"], PartialDependence(grid_size=7), slices
    )
    for feature, result in curves.features.items():
        np.testing.assert_array_equal(result.grid, grid(rows[feature], 7))
        brute = np.array(
            [[_linear({**rows, feature: np.full(N, g)})[i] for g in result.grid] for i in range(N)]
        )
        np.testing.assert_allclose(result.ice, brute)
        for mask in slices.values():
            np.testing.assert_allclose(result.pdp(mask), brute[mask].mean(axis=0))
    x1 = curves.features["x1"]
    assert len(x1.grid) == 7 and x1.grid[0] == rows["x1"].min() and x1.grid[-1] == rows["x1"].max()
    np.testing.assert_allclose(np.diff(x1.pdp(slices["Overall"])) / np.diff(x1.grid), 3.0)
    for flat in ("x2", "count"):
        assert np.ptp(curves.features[flat].pdp(slices["Overall"])) == 0
    assert curves.features["count"].grid.dtype == np.int64  # whole numbers of an integer feature
    assert set(curves.features["city"].grid) == {b"paris", b"lyon", b"nice"}
    with pytest.raises(ExplanationError, match="'rooms' is not a feature"):
        partial_dependence(_linear, rows, ["rooms"])


def _gower(a, b, pool, rows, features):
    total = 0.0
    for name in features:
        if isinstance(a[name], bytes):
            total += a[name] != b[name]
        else:
            values = np.concatenate([rows[name], pool[name]]).astype(float)
            total += abs(float(a[name]) - float(b[name])) / np.ptp(values)
    return total / len(features)


def test_each_counterfactual_is_the_nearest_pool_example_of_the_other_outcome():
    rows, pool = _rows(60, seed=1), _rows(90, seed=2)
    features = ["x1", "x2", "count", "city"]
    row_outcomes = outcomes_of(_linear(rows)[:, None], 0.5)
    pool_outcomes = outcomes_of(_linear(pool)[:, None], 0.5)
    result = counterfactuals(rows, row_outcomes, pool, pool_outcomes, features, 0.5)
    row = lambda columns, i: {name: columns[name][i] for name in features}  # noqa: E731
    for i in range(60):
        others = [j for j in range(90) if pool_outcomes.classes[j] != row_outcomes.classes[i]]
        distances = [_gower(row(rows, i), row(pool, j), pool, rows, features) for j in others]
        assert result.distance[i] == pytest.approx(min(distances), abs=1e-12)
        assert result.index[i] == others[int(np.argmin(distances))]
        j = result.index[i]
        assert pool_outcomes.classes[j] != row_outcomes.classes[i]
        assert result.changes(rows, i) == {
            name: (rows[name][i], pool[name][j])
            for name in features
            if rows[name][i] != pool[name][j]
        }
    # None of the other outcome in the pool: no counterfactual.
    positive = {name: values[pool_outcomes.classes == 1] for name, values in pool.items()}
    alone = counterfactuals(
        rows,
        row_outcomes,
        positive,
        outcomes_of(_linear(positive)[:, None], 0.5),
        features,
    )
    assert (alone.index[row_outcomes.classes == 1] == -1).all()
    assert np.isnan(alone.distance[row_outcomes.classes == 1]).all()


def test_an_output_of_several_columns_flips_by_its_argmax_class():
    outputs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    argmax = outcomes_of(outputs, 0.5)
    assert argmax.classes.tolist() == [1, 0] and argmax.scores.tolist() == [0.5, 0.6]
    column = outcomes_of(outputs, 0.25, class_index=2)
    assert column.classes.tolist() == [1, 1]
    with pytest.raises(ExplanationError, match="class_index 3 is out of range"):
        outcomes_of(outputs, 0.5, class_index=3)


EVAL_CONFIG = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "ExampleCount" } }
"""
EXPLAIN_CONFIG = """
model_output { signature_name: "serving_features" }
background { size: 20 }
explained_rows { count: 30 }
per_slice: true
methods { counterfactual {} }
methods { partial_dependence { grid_size: 6 ice_rows: 4 } }
"""


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("what_if")
    columns = explain_models.columns(200, num_numeric=2, seed=4)
    columns["label"] = np.random.default_rng(4).integers(0, 2, 200)
    model = explain_models.export(
        explain_known_models.linear_model([1.5, 0.0], {"paris": 1.0}, rooms_slope=0.2),
        str(root / "model"),
    )
    examples = explained_runs.examples_file(root / "eval.gz", columns)
    output = explained_runs.evaluate(root, "output", model, examples, EVAL_CONFIG, EXPLAIN_CONFIG)
    return output, SavedModelFunction(model, FEATURES_SIGNATURE_NAME)


def _json(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f)


def _columns(records, names):
    return {
        name: np.array(
            [r[name].encode() if isinstance(r[name], str) else r[name] for r in records],
            dtype=object if isinstance(records[0][name], str) else None,
        )
        for name in names
    }


def test_glassbox_evaluate_writes_pdp_ice_and_counterfactuals_as_documented(evaluated):
    output, function = evaluated
    examples = _json(output, "explanations.json")["examples"]
    names = sorted(examples[0]["features"])
    rows = _columns([e["features"] for e in examples], names)
    rows = {k: v.astype(np.float32) if k.startswith("x") else v for k, v in rows.items()}
    written = _json(output, "partial_dependence.json")
    assert sorted(written["features"]) == ["rooms", "x0", "x1"]  # numeric features by default
    assert sorted(written["slices"]) == [
        "Overall",
        "city:lille",
        "city:lyon",
        "city:nice",
        "city:paris",
    ]
    curves = written["models"]["candidate"]["features"]
    ids = [e["id"] for e in examples]
    for feature in ("x0", "x1"):
        points = np.array(written["features"][feature]["grid"], np.float32)
        assert len(points) == 6
        ice = np.stack(
            [function({**rows, feature: np.full(len(ids), g, np.float32)}) for g in points], 1
        )
        for name, entry in written["slices"].items():
            members = [i for i, e in enumerate(examples) if name in e["slices"]]
            assert entry["rows"] == len(members)
            assert entry["ice_ids"] == [ids[i] for i in members[:4]]
            np.testing.assert_allclose(
                curves[feature]["pdp"][name], ice[members].mean(0), rtol=1e-5
            )
            for i in members[:4]:
                np.testing.assert_allclose(curves[feature]["ice"][ids[i]], ice[i], rtol=1e-5)
        # Every explained row carries its own ICE curves (the report's what-if control): the
        # model's score of the row with the feature set to each grid value.
        for i, example in enumerate(examples):
            np.testing.assert_allclose(
                example["models"]["candidate"]["ice"][feature], ice[i], rtol=1e-5
            )
        # The score is a sigmoid of 1.5 x0 + ...: increasing in x0, independent of x1.
        steps = np.diff(curves[feature]["pdp"]["Overall"])
        assert (steps > 0.01).all() if feature == "x0" else np.abs(steps).max() < 1e-6

    background = _json(output, "explanation_summary.json")["sample"]["background"]["features"]
    pool = _columns(
        [e["features"] for e in examples]
        + [dict(zip(background, values)) for values in zip(*background.values())],
        names,
    )
    pool_scores = function(
        {k: v.astype(np.float32) if k.startswith("x") else v for k, v in pool.items()}
    )
    pool_records = [e["features"] for e in examples] + [
        dict(zip(background, values)) for values in zip(*background.values())
    ]
    flipped = 0
    for i, example in enumerate(examples):
        counterfactual = example["models"]["candidate"]["counterfactual"]
        outcome = example["models"]["candidate"]["prediction"] >= 0.5
        candidates = [j for j, s in enumerate(pool_scores) if (s >= 0.5) != outcome]
        nearest = min(
            _gower(
                {k: rows[k][i] for k in names}, {k: pool[k][j] for k in names}, pool, rows, names
            )
            for j in candidates
        )
        assert counterfactual["distance"] == pytest.approx(nearest, abs=1e-6)
        assert counterfactual["row_outcome"] == int(outcome) and counterfactual["outcome"] != int(
            outcome
        )
        assert (counterfactual["prediction"] >= 0.5) != outcome
        assert counterfactual["changes"] == {
            k: {"from": example["features"][k], "to": counterfactual["features"][k]}
            for k in names
            if example["features"][k] != counterfactual["features"][k]
        }
        assert counterfactual["features"] in pool_records
        flipped += 1
    assert flipped == len(examples)
    summary = _json(output, "explanation_summary.json")["models"]["candidate"]
    assert summary["counterfactual"]["pool_rows"] == len(pool_records)
    assert summary["counterfactual"]["rows_with_counterfactual"] == len(examples)
    assert summary["partial_dependence"]["grid_size"]["x0"] == 6


def test_what_if_scores_a_row_and_its_changes_as_the_evaluation_and_the_model_do(evaluated):
    output, function = evaluated
    example = _json(output, "explanations.json")["examples"][5]
    grid_x0 = _json(output, "partial_dependence.json")["features"]["x0"]["grid"]
    model = function.model.model_dir
    # A grid value: the row's ICE point, as the report's what-if control shows it.
    result = what_if(
        {"candidate": model}, example["features"], {"x0": grid_x0[2]}, "serving_features"
    )
    candidate = example["models"]["candidate"]
    assert result.original["candidate"] == pytest.approx(candidate["prediction"], rel=1e-6)
    assert result.predictions["candidate"] == pytest.approx(candidate["ice"]["x0"][2], rel=1e-5)
    # Any values, several at once: the model's own score of the changed row.
    changes = {"x0": 0.123, "city": "paris", "rooms": 7}
    result = what_if({"candidate": model}, example["features"], changes, "serving_features")
    changed = _columns([{**example["features"], **changes}], sorted(example["features"]))
    changed = {k: v.astype(np.float32) if k.startswith("x") else v for k, v in changed.items()}
    assert result.predictions["candidate"] == pytest.approx(float(function(changed)[0]), rel=1e-6)
    assert result.change["candidate"] == pytest.approx(
        result.predictions["candidate"] - result.original["candidate"]
    )
    assert result.changed == {**example["features"], **changes}
    with pytest.raises(ExplanationError, match=r"changes \['floors'\], which the row does not"):
        what_if({"candidate": model}, example["features"], {"floors": 2}, "serving_features")
    row = {k: v for k, v in example["features"].items() if k != "x1"}
    with pytest.raises(ExplanationError, match=r"takes features \['x1'\]"):
        what_if({"candidate": model}, row, {"x0": 1.0}, "serving_features")
