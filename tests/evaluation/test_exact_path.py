"""TFMA's exact path: a config the vectorised engine does not cover is computed by TFMA itself in
glassbox's pipeline (staging, eval_config.json last, report), not refused, with TFMA's values."""

import os

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox import cli
from glassbox.engine.pipeline import run_evaluation
from glassbox.errors import ConfigError
from glassbox.evaluation.config import prepare_eval_config
from glassbox.evaluation.exact_path import fast_path_refusal
from tests.support import saved_models

FAST = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs { metrics { class_name: "AUC" } metrics { class_name: "ExampleCount" } }
"""
# Jackknife confidence intervals: TFMA's, which the vectorised engine does not compute.
JACKKNIFE = (
    FAST
    + """
options {
  compute_confidence_intervals { value: true }
  confidence_intervals { method: JACKKNIFE }
}
"""
)


def _config(text):
    return text_format.Parse(text, config_pb2.EvalConfig())


@pytest.mark.parametrize(
    "extra, field",
    [
        ('slicing_specs { slice_keys_sql: "SELECT 1" }', "slicing_specs[2].slice_keys_sql"),
        ('metrics_specs { output_names: "head" }', "metrics_specs[1].output_names"),
        ('metrics_specs { query_key: "q" }', "metrics_specs[1].query_key"),
        (
            "options { compute_confidence_intervals { value: true } "
            "confidence_intervals { method: JACKKNIFE } }",
            "options.confidence_intervals.method",
        ),
    ],
)
def test_what_the_engine_does_not_cover_is_named_for_the_exact_path(extra, field):
    prepared = prepare_eval_config(_config(FAST + extra), has_baseline=False)
    assert f"'{field}'" in fast_path_refusal(prepared, {})
    assert fast_path_refusal(prepare_eval_config(_config(FAST), has_baseline=False), {}) is None


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("exact_path")
    return {
        "model": saved_models.export_model(str(root / "model")),
        "examples": saved_models.write_tfrecords(
            str(root / "data" / "eval.gz"), saved_models.make_examples(400, seed=3)
        ),
    }


def _evaluate(tmp_path, files, config_text):
    config = tmp_path / "eval_config.pbtxt"
    config.write_text(config_text)
    output = tmp_path / "out"
    argv = ["evaluate", "--model", files["model"], "--examples", files["examples"]]
    return cli.main([*argv, "--eval-config", str(config), "--output", str(output)]), output


def test_a_jackknife_config_runs_on_tfmas_path_and_writes_tfmas_values(tmp_path, files, capsys):
    code, output = _evaluate(tmp_path, files, JACKKNIFE)
    assert code == 0
    printed = capsys.readouterr().out
    assert "Note: metrics computed by TFMA itself" in printed
    assert "'options.confidence_intervals.method' is JACKKNIFE" in printed
    assert os.path.exists(output / "report.html")

    config = _config(JACKKNIFE)
    expected = tfma.run_model_analysis(
        eval_shared_model=tfma.default_eval_shared_model(files["model"], eval_config=config),
        eval_config=config,
        data_location=files["examples"],
        output_path=str(tmp_path / "tfma"),
    )
    ours = dict(tfma.load_eval_result(str(output)).slicing_metrics)
    theirs = dict(expected.slicing_metrics)
    assert len(ours) == 4 and _values(ours) == _values(theirs)
    for slice_metrics in ours.values():
        bounded = slice_metrics[""][""]["auc"]["boundedValue"]
        # Jackknife draws its partitions at random, so the bounds are TFMA's kind, not its values.
        assert bounded["lowerBound"] < bounded["value"] < bounded["upperBound"]


def _values(slicing_metrics):
    """Each slice's metric values, with the point estimate of a bounded value."""
    return {
        slice_key: {
            name: value.get("doubleValue", value.get("boundedValue", {}).get("value"))
            for name, value in metrics[""][""].items()
        }
        for slice_key, metrics in slicing_metrics.items()
    }


def test_what_tfma_refuses_on_its_path_exits_2_with_tfmas_reason_leaving_nothing(
    tmp_path, files, capsys
):
    # A SQL slice: TFMA refuses it at run time without ZetaSQL (tfx-bsl's SQL support).
    sql = 'slicing_specs { slice_keys_sql: "SELECT STRUCT(category) FROM example" }'
    code, output = _evaluate(tmp_path, files, FAST + sql)
    assert code == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert "TFMA, computing this config on its exact path" in error
    assert "'slicing_specs[2].slice_keys_sql'" in error
    assert "SQL slicing is not supported in this environment" in error
    assert "Traceback" not in error
    assert [f for f in os.listdir(output) if not f.startswith(".")] == []


def test_predictions_stored_in_the_examples_are_evaluated_without_a_model_as_tfma_does(tmp_path):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 300)
    rows = [
        {"label": int(y), "prediction": float(p), "category": c}
        for y, p, c in zip(
            labels,
            np.clip(0.3 * labels + rng.uniform(0, 0.7, 300), 0, 1),
            rng.choice(["a", "b"], 300),
        )
    ]
    examples = saved_models.write_tfrecords(
        str(tmp_path / "data" / "eval.gz"), [saved_models.to_example(r) for r in rows]
    )
    config = _config(
        FAST.replace('label_key: "label"', 'label_key: "label" prediction_key: "prediction"')
    )
    run_evaluation(config, None, [examples], str(tmp_path / "out"))

    expected = tfma.run_model_analysis(
        eval_config=config, data_location=examples, output_path=str(tmp_path / "tfma")
    )
    ours = dict(tfma.load_eval_result(str(tmp_path / "out")).slicing_metrics)
    assert len(ours) == 3 and _values(ours) == _values(dict(expected.slicing_metrics))
    assert _values(ours)[()]["example_count"] == 300


def test_without_a_model_a_baseline_or_explanations_are_refused_naming_why(tmp_path, files):
    with pytest.raises(ConfigError, match="no model to evaluate"):
        run_evaluation(
            _config(FAST), None, [files["examples"]], str(tmp_path / "o"), files["model"]
        )
