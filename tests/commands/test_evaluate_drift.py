"""`glassbox evaluate` with drift: a reference split of the Examples artifact or a previous
evaluation, drift.json written and its summary printed; every bad input refused in one line naming
it (exit 2), nothing written."""

import json
import os

import pytest

from glassbox import cli, keys
from tests.support import saved_models

EVAL_CONFIG = (
    'model_specs { label_key: "label" } slicing_specs {} slicing_specs { feature_keys: "category" }'
    ' metrics_specs { metrics { class_name: "ExampleCount" } }'
)
DRIFT_CONFIG = 'features: ["x0", "x1", "category", "count"] categorical_features: "count"'


def _shifted(examples, feature, by):
    for example in examples:
        example.features.feature[feature].float_list.value[0] += by
    return examples


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift_cli")
    eval_examples = _shifted(saved_models.make_examples(300, seed=1), "x1", 1.5)
    paths = {
        "model": saved_models.export_model(str(root / "model")),
        "artifact": saved_models.write_examples_artifact(
            str(root / "artifact"),
            {"train": saved_models.make_examples(300, seed=2), "eval": eval_examples},
        ),
        "eval_config": str(root / "eval_config.pbtxt"),
        "drift_config": str(root / "drift_config.pbtxt"),
    }
    with open(paths["eval_config"], "w") as f:
        f.write(EVAL_CONFIG)
    with open(paths["drift_config"], "w") as f:
        f.write(DRIFT_CONFIG)
    return paths


def _evaluate(files, output, *extra):
    argv = ["evaluate", "--model", files["model"], "--examples", files["artifact"]]
    argv += ["--eval-config", files["eval_config"], "--output", str(output), *extra]
    return cli.main(argv)


def _drift(output):
    with open(os.path.join(output, keys.DRIFT_FILE)) as f:
        return json.load(f)


def test_drift_from_the_train_split_finds_the_shifted_feature_first(files, tmp_path, capsys):
    output = tmp_path / "out"
    extra = ["--drift-config", files["drift_config"], "--drift-reference-split", "train"]
    assert _evaluate(files, output, *extra) == 0
    drift = _drift(output)
    assert drift["reference"] == f"split train of {files['artifact']}"
    slices = {s["slice_name"]: s for s in drift["slices"]}
    assert set(slices) == {"Overall", "category:a", "category:b", "category:c"}
    for drift_slice in slices.values():
        assert [f["name"] for f in drift_slice["features"]][0] == "x1"
        assert {f["name"] for f in drift_slice["features"]} == {"x0", "x1", "category", "count"}
    overall = slices["Overall"]["features"]
    assert overall[0]["wasserstein"] > 1.2  # shifted by 1.5 (other draws on either side)
    assert next(f for f in overall if f["name"] == "count")["kind"] == "categorical"
    out = capsys.readouterr().out
    assert f"Drift from split train of {files['artifact']}" in out
    lines = out.split("Drift from", 1)[1].splitlines()
    assert lines[1].split()[0] == "x1" and lines[4].split()[0] == "prediction"


def test_a_previous_evaluation_is_a_reference(files, tmp_path, capsys):
    first, again = tmp_path / "first", tmp_path / "again"
    assert _evaluate(files, first, "--drift-config", files["drift_config"]) == 0
    assert os.path.exists(first / keys.DRIFT_SKETCHES_FILE)
    assert not os.path.exists(first / keys.DRIFT_FILE)
    # No config: every feature of the examples is sketched; the reference has four of them.
    assert _evaluate(files, again, "--drift-reference", str(first)) == 0
    drift = _drift(again)
    assert drift["reference"] == f"evaluation {first}"
    overall = next(s for s in drift["slices"] if s["slice_name"] == "Overall")
    compared = {f["name"]: f for f in overall["features"] if "error" not in f}
    assert set(compared) == {"x0", "x1", "category"}  # count: categorical in the reference
    assert all(f["jensen_shannon"] == pytest.approx(0, abs=1e-12) for f in compared.values())
    assert overall["predictions"][0]["kolmogorov_smirnov"] == pytest.approx(0, abs=1e-12)


BAD = {
    "missing config": (
        ["--drift-config", "{root}/nothing.pbtxt"],
        "cannot read drift config file '{root}/nothing.pbtxt'",
    ),
    "malformed config": (
        ["--drift-config", "{root}/malformed.pbtxt"],
        "malformed drift config in {root}/malformed.pbtxt",
    ),
    "negative field": (
        ["--drift-config", "{root}/negative.pbtxt"],
        "DriftConfig field 'num_bins' is -3",
    ),
    "unknown feature": (
        ["--drift-config", "{root}/unknown.pbtxt", "--drift-reference-split", "train"],
        "DriftConfig field 'features' names ['nosuch'], which no example evaluated holds",
    ),
    "reference without sketches": (
        ["--drift-reference", "{root}"],
        "drift reference '{root}' has no readable drift_sketches.json",
    ),
    "unknown split": (
        ["--drift-reference-split", "training"],
        "split 'training' not found in Examples artifact",
    ),
    "two references": (
        ["--drift-reference", "{root}", "--drift-reference-split", "train"],
        "--drift-reference (a previous evaluation) and --drift-reference-examples",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_drift_input_exits_2_naming_it(files, tmp_path, capsys, case):
    (tmp_path / "malformed.pbtxt").write_text("features: x0")
    (tmp_path / "negative.pbtxt").write_text("num_bins: -3")
    (tmp_path / "unknown.pbtxt").write_text('features: ["x1", "nosuch"]')
    argv, message = BAD[case]
    output = tmp_path / "out"
    code = _evaluate(files, output, *(a.format(root=tmp_path) for a in argv))
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert message.format(root=tmp_path) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not os.path.exists(output / keys.EVAL_CONFIG_FILE)
