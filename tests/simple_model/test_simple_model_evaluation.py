"""The simpler-model check in the evaluation's Beam pipeline, on data whose truth is a linear rule
(label = x0 + x1 + x2 + noise > 0): logistic regression against a candidate that knows the rule
and one that reads only an unrelated feature."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from tensorflow_model_analysis.proto import config_pb2
from tfx.types import artifact_utils, channel_utils, standard_artifacts

from glassbox import cli, keys
from glassbox.components.evaluator.component import Evaluator
from glassbox.data.example_decoder import ExampleDecoder
from glassbox.simple_model.beam import example_hashes, held_out
from tests.simple_model.conftest import CONFIG, EVAL_CONFIG, N
from tests.support import saved_models
from tests.support.executors import run_executor


def _models(result):
    return {m["name"]: m for m in result["models"]}


def test_logistic_regression_is_as_good_as_a_bad_candidate_and_worse_than_the_rule(runs):
    bad, good = _models(runs["bad"]), _models(runs["good"])
    assert runs["bad"]["task"] == "binary" and runs["bad"]["metric"] == "auc"
    assert runs["bad"]["candidate"]["score"] < 0.6
    assert bad["logistic_regression"]["score"] > 0.85
    assert bad["logistic_regression"]["candidate_lead"] < -0.25
    # The rule is what logistic regression learns: the candidate beats it by chance only.
    assert 0 < good["logistic_regression"]["candidate_lead"] < 0.01
    assert good["decision_tree"]["candidate_lead"] > 0.02
    # A person can read them: x0..x2 carry the rule, the unrelated features next to nothing.
    coefficients = good["logistic_regression"]["coefficients"]
    assert set(coefficients) == {
        "count",
        "x0",
        "x1",
        "x2",
        "category=a",
        "category=b",
        "category=c",
    }
    assert min(coefficients[f"x{i}"] for i in range(3)) > 5 * max(
        abs(coefficients[f]) for f in ("count", "category=a", "category=b", "category=c")
    )
    assert good["decision_tree"]["rules"].startswith("|--- x")
    assert runs["good"]["examples"] == runs["good"]["sampled"] == N
    assert runs["good"]["categorical_features"] == ["category"]


def test_the_sample_and_split_do_not_depend_on_files_or_their_order(runs):
    assert runs["good_shuffled"] == runs["good"]


def test_values_equal_scikit_learn_run_directly_on_the_same_rows(runs):
    """The held-out rows are those of glassbox's seeded split; everything else is sklearn's."""
    examples = runs["examples"]
    batch = ExampleDecoder().decode(saved_models.serialize(examples))
    labels = np.array([e.features.feature["label"].int64_list.value[0] for e in examples], float)
    names = ["count", "x0", "x1", "x2"]  # sorted (the features' order in the models)
    test = held_out(example_hashes(batch, CONFIG.features, labels, CONFIG.seed), 0.3)
    numeric = np.column_stack([batch.column(n).flatten().to_numpy().astype(float) for n in names])
    category = np.array([e.features.feature["category"].bytes_list.value[0] for e in examples])
    onehot = np.column_stack([category == c.encode() for c in saved_models.CATEGORIES]).astype(
        float
    )
    weights = batch.column("weight").flatten().to_numpy().astype(float)
    fit = ~test
    scaler = StandardScaler().fit(numeric[fit])
    linear = np.column_stack([scaler.transform(numeric), onehot])
    raw = np.column_stack([numeric, onehot])
    logistic = LogisticRegression(max_iter=1000).fit(linear[fit], labels[fit], weights[fit])
    tree = DecisionTreeClassifier(max_depth=3, random_state=7).fit(
        raw[fit], labels[fit], weights[fit]
    )
    model = tf.saved_model.load(str(runs["root"] / "model-good"))
    candidate = model.signatures["serving_default"](
        examples=tf.constant(saved_models.serialize(examples))
    )["predictions"].numpy()[:, 0]
    expected = {
        "candidate": roc_auc_score(labels[test], candidate[test], sample_weight=weights[test]),
        "logistic_regression": roc_auc_score(
            labels[test], logistic.predict_proba(linear[test])[:, 1], sample_weight=weights[test]
        ),
        "decision_tree": roc_auc_score(
            labels[test], tree.predict_proba(raw[test])[:, 1], sample_weight=weights[test]
        ),
    }
    result = runs["good"]
    assert result["held_out_examples"] == test.sum() and result["fit_examples"] == fit.sum()
    assert 0.25 < test.mean() < 0.35
    models = _models(result)
    assert result["candidate"]["score"] == pytest.approx(expected["candidate"], abs=1e-9)
    for name in ("logistic_regression", "decision_tree"):
        assert models[name]["score"] == pytest.approx(expected[name], abs=1e-9)
    assert list(models["logistic_regression"]["coefficients"].values()) == pytest.approx(
        logistic.coef_[0].tolist(), rel=1e-6
    )


def test_a_bad_config_exits_2_naming_the_field_and_writes_nothing(runs, tmp_path, capsys):
    config = tmp_path / "simple.pbtxt"
    config.write_text('metric: "f1"')
    eval_config = tmp_path / "eval.pbtxt"
    eval_config.write_text(EVAL_CONFIG)
    output = tmp_path / "out"
    code = cli.main(
        [
            "evaluate",
            "--model",
            str(runs["root"] / "model-good"),
            "--examples",
            str(runs["root"] / "data.gz"),
            "--eval-config",
            str(eval_config),
            "--output",
            str(output),
            "--simple-model-config",
            str(config),
        ]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert "SimpleModelConfig field 'metric' is 'f1'" in error and "Traceback" not in error
    assert not output.exists()


def test_the_tfx_evaluator_writes_simple_model_json_into_its_evaluation(runs, tmp_path):
    examples = standard_artifacts.Examples()
    examples.uri = saved_models.write_examples_artifact(
        str(tmp_path / "examples"), {"eval": runs["examples"]}
    )
    examples.split_names = artifact_utils.encode_split_names(["eval"])
    model = standard_artifacts.Model()
    model.uri = str(runs["root"] / "model-good")
    evaluator = Evaluator(
        examples=channel_utils.as_channel([examples]),
        model=channel_utils.as_channel([model]),
        eval_config=text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        simple_model_config=CONFIG,
    )
    outputs = run_executor(evaluator, tmp_path / "outputs")
    with open(os.path.join(outputs["evaluation"].uri, keys.SIMPLE_MODEL_FILE)) as f:
        assert json.load(f) == runs["good"]


def test_glassbox_evaluate_prints_the_scores_and_a_config_tfma_computes_is_refused(
    runs, tmp_path, capsys
):
    config = tmp_path / "simple.json"
    config.write_text(json.dumps({"seed": 7, "features": list(saved_models.MODEL_FEATURES)}))
    eval_config = tmp_path / "eval.pbtxt"
    eval_config.write_text(EVAL_CONFIG)
    args = [
        "evaluate",
        "--model",
        str(runs["root"] / "model-good"),
        "--examples",
        str(runs["root"] / "data.gz"),
        "--simple-model-config",
        str(config),
    ]
    assert (
        cli.main(args + ["--eval-config", str(eval_config), "--output", str(tmp_path / "a")]) == 0
    )
    out = capsys.readouterr().out
    good = runs["good"]
    assert f"Simpler models (auc on {good['held_out_examples']} held-out examples;" in out
    lead = next(m for m in good["models"] if m["name"] == "decision_tree")["candidate_lead"]
    assert f"(candidate {lead:+.6g})" in out
    # TFMA's exact path (JACKKNIFE intervals) computes no batches to sample.
    eval_config.write_text(
        EVAL_CONFIG
        + "options { compute_confidence_intervals { value: true } "
        + "confidence_intervals { method: JACKKNIFE } }"
    )
    assert (
        cli.main(args + ["--eval-config", str(eval_config), "--output", str(tmp_path / "b")]) == 2
    )
    assert "the simpler-model check samples the vectorised engine's batches" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "b").exists()
