"""One engine, three front-ends: the TFX Evaluator and Validator (their executors, in-process),
`glassbox evaluate` / `glassbox validate` and the native KFP components' steps write the same
evaluation and the same blessing, and record the same properties but for the ML Metadata ids
only TFX knows."""

import json
import os

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from kfp import dsl
from tensorflow_model_analysis.proto import config_pb2
from tfx.types import channel_utils, standard_artifacts

from glassbox import cli, keys
from glassbox.commands import validate as validate_command
from glassbox.components import Evaluator, Validator
from glassbox.components.properties import get_properties, set_properties
from glassbox.kfp import steps
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.explain_config_pb2 import ExplainConfig
from tests.support import compared_models
from tests.support.compared_models import EVAL_CONFIG
from tests.support.executors import run_executor

# Replaces the evaluation's thresholds: ones the candidate meets.
LENIENT_EVAL_CONFIG = """
metrics_specs {
  metrics { class_name: "AUC" threshold { value_threshold { lower_bound { value: 0.1 } } } }
}
"""
EXPLAIN_CONFIG = """
seed: 3
explained_rows { count: 20 }
background { size: 10 }
methods { permutation_importance { metric: "auc" num_repeats: 2 } }
"""
# Drift from the examples' train split, in the same pass.
DRIFT_CONFIG = 'categorical_features: "count"'
FRONT_ENDS = ("tfx", "cli", "kfp")
# The ids of ML Metadata, which only TFX gives the engine.
IDS = (keys.CURRENT_MODEL_ID_PROPERTY, keys.BASELINE_MODEL_ID_PROPERTY)
MODEL_ID, BASELINE_ID = 11, 12


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    files = {"eval_config.pbtxt": EVAL_CONFIG, "explain_config.pbtxt": EXPLAIN_CONFIG}
    files["drift_config.pbtxt"] = DRIFT_CONFIG
    files["lenient.pbtxt"] = LENIENT_EVAL_CONFIG
    for name, text in files.items():
        (root / name).write_text(text)
    return {"root": root, **compared_models.write_inputs(str(root))}


def _model(uri, model_id):
    model = standard_artifacts.Model()
    model.uri, model.id = uri, model_id
    return channel_utils.as_channel([model])


def _evaluate_tfx(inputs, output_dir):
    examples = standard_artifacts.Examples()
    examples.uri, examples.split_names = inputs["examples"], '["train", "eval"]'
    schema = standard_artifacts.Schema()
    schema.uri = inputs["schema"]
    evaluator = Evaluator(
        examples=channel_utils.as_channel([examples]),
        model=_model(inputs["model"], MODEL_ID),
        baseline_model=_model(inputs["baseline_model"], BASELINE_ID),
        schema=channel_utils.as_channel([schema]),
        eval_config=text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        explain_config=text_format.Parse(EXPLAIN_CONFIG, ExplainConfig()),
        drift_config=text_format.Parse(DRIFT_CONFIG, DriftConfig()),
        drift_reference_split="train",
    )
    evaluation = run_executor(evaluator, output_dir)[keys.EVALUATION_KEY]
    return evaluation.uri, get_properties(evaluation)


def _evaluate_cli(inputs, output_dir):
    output, properties = os.path.join(output_dir, "evaluation"), output_dir / "properties.json"
    root = inputs["root"]
    argv = ["evaluate", "--model", inputs["model"], "--baseline", inputs["baseline_model"]]
    argv += ["--examples", inputs["examples"], "--schema", inputs["schema"]]
    argv += ["--eval-config", str(root / "eval_config.pbtxt"), "--output", output]
    argv += ["--explain-config", str(root / "explain_config.pbtxt")]
    argv += ["--drift-config", str(root / "drift_config.pbtxt"), "--drift-reference-split", "train"]
    assert cli.main([*argv, "--properties", str(properties)]) == 0
    return output, json.loads(properties.read_text())


def _evaluate_kfp(inputs, output_dir):
    evaluation = dsl.Artifact(uri=os.path.join(output_dir, "evaluation"))
    steps.evaluate(
        dsl.Dataset(uri=inputs["examples"]),
        dsl.Model(uri=inputs["model"]),
        EVAL_CONFIG,
        evaluation,
        dsl.Metrics(uri=os.path.join(output_dir, "metrics")),
        dsl.HTML(uri=os.path.join(output_dir, "report", "report.html")),
        dsl.Model(uri=inputs["baseline_model"]),
        dsl.Artifact(uri=inputs["schema"]),
        explain_config=EXPLAIN_CONFIG,
        drift_config=DRIFT_CONFIG,
        drift_reference_split="train",
    )
    return evaluation.path, evaluation.metadata


@pytest.fixture(scope="module")
def evaluated(inputs, tmp_path_factory):
    """Each front-end's evaluation: {front-end: (evaluation dir, its properties)}."""
    evaluate = {"tfx": _evaluate_tfx, "cli": _evaluate_cli, "kfp": _evaluate_kfp}
    return {name: evaluate[name](inputs, tmp_path_factory.mktemp(name)) for name in FRONT_ENDS}


def _files(directory):
    return sorted(
        os.path.relpath(os.path.join(parent, name), directory)
        for parent, _, names in os.walk(directory)
        for name in names
    )


def _without_ids(properties):
    return {name: value for name, value in properties.items() if name not in IDS}


def test_each_front_end_writes_the_same_evaluation_with_explanations_and_drift(evaluated):
    tfx_dir, _ = evaluated["tfx"]
    assert {
        keys.EVAL_CONFIG_FILE,
        keys.EXPLANATION_SUMMARY_FILE,
        keys.REPORT_FILE,
        keys.DRIFT_FILE,
        keys.DRIFT_SKETCHES_FILE,
    } <= set(_files(tfx_dir))
    metrics = dict(tfma.load_eval_result(tfx_dir).slicing_metrics)
    assert len(metrics) == 4  # overall and three categories
    for name in ("cli", "kfp"):
        directory, _ = evaluated[name]
        # The TFX Evaluator also leaves its inline validation's ValidationResult, as TFMA does.
        assert _files(directory) == sorted(set(_files(tfx_dir)) - {keys.VALIDATIONS_FILE}), name
        assert dict(tfma.load_eval_result(directory).slicing_metrics) == metrics, name
        for file in (keys.EVAL_CONFIG_FILE, keys.EXPLANATIONS_FILE, keys.DRIFT_FILE):
            with open(os.path.join(directory, file)) as f, open(os.path.join(tfx_dir, file)) as g:
                assert json.load(f) == json.load(g), (name, file)


def test_each_front_end_records_the_same_properties_but_for_the_ids(evaluated, inputs):
    _, properties = evaluated["tfx"]
    assert properties[keys.CURRENT_MODEL_PROPERTY] == inputs["model"]
    assert properties[keys.BASELINE_MODEL_PROPERTY] == inputs["baseline_model"]
    assert [properties[key] for key in IDS] == [MODEL_ID, BASELINE_ID]
    # The default split, recorded alike whether a front-end was given splits or not.
    assert json.loads(properties[keys.EXAMPLE_SPLITS_PROPERTY]) == ["eval"]
    assert (
        properties["overall_example_count"] == compared_models.EVAL_ROWS
        and "overall_diff_auc" in properties
    )
    for name in ("cli", "kfp"):
        assert evaluated[name][1] == _without_ids(properties), name


def _validate_tfx(inputs, evaluation, output_dir, eval_config):
    evaluation_artifact = standard_artifacts.ModelEvaluation()
    evaluation_artifact.uri, properties = evaluation
    set_properties(evaluation_artifact, properties)
    validator = Validator(
        evaluation=channel_utils.as_channel([evaluation_artifact]),
        model=_model(inputs["model"], MODEL_ID),
        baseline_model=_model(inputs["baseline_model"], BASELINE_ID),
        eval_config=text_format.Parse(eval_config, config_pb2.EvalConfig())
        if eval_config
        else None,
    )
    blessing = run_executor(validator, output_dir)[keys.BLESSING_KEY]
    return blessing.uri, get_properties(blessing)


def _validate_cli(inputs, evaluation, output_dir, eval_config):
    output_dir.mkdir()
    (output_dir / "evaluation.json").write_text(json.dumps(evaluation[1]))
    argv = ["validate", "--evaluation", evaluation[0], "--output", str(output_dir / "validation")]
    argv += ["--model", inputs["model"], "--baseline", inputs["baseline_model"]]
    argv += ["--evaluation-properties", str(output_dir / "evaluation.json")]
    argv += ["--blessing", str(output_dir / "blessing")]
    argv += ["--properties", str(output_dir / "blessing.json")]
    if eval_config:
        argv += ["--eval-config", str(inputs["root"] / "lenient.pbtxt")]
    assert cli.main(argv) == (0 if eval_config else validate_command.EXIT_NOT_BLESSED)
    return str(output_dir / "blessing"), json.loads((output_dir / "blessing.json").read_text())


def _validate_kfp(inputs, evaluation, output_dir, eval_config):
    blessing = dsl.Artifact(uri=str(output_dir / "blessing"))
    steps.validate(
        dsl.Artifact(uri=evaluation[0], metadata=dict(evaluation[1])),
        blessing,
        dsl.Artifact(uri=str(output_dir / "validation")),
        dsl.HTML(uri=str(output_dir / "report.html")),
        dsl.Model(uri=inputs["model"]),
        dsl.Model(uri=inputs["baseline_model"]),
        eval_config=eval_config,
    )
    return blessing.path, blessing.metadata


@pytest.mark.parametrize(
    "eval_config, verdict",
    [("", keys.NOT_BLESSED_FILE), (LENIENT_EVAL_CONFIG, keys.BLESSED_FILE)],
    ids=["its-thresholds", "lenient-thresholds"],
)
def test_each_front_end_writes_the_same_blessing(inputs, evaluated, tmp_path, eval_config, verdict):
    validate = {"tfx": _validate_tfx, "cli": _validate_cli, "kfp": _validate_kfp}
    blessings = {
        name: validate[name](inputs, evaluated["tfx"], tmp_path / name, eval_config)
        for name in FRONT_ENDS
    }

    tfx_dir, properties = blessings["tfx"]
    assert os.listdir(tfx_dir) == [verdict]
    assert properties[keys.BLESSED_PROPERTY] == int(verdict == keys.BLESSED_FILE)
    assert properties[keys.CURRENT_MODEL_PROPERTY] == inputs["model"]
    assert [properties[key] for key in IDS] == [MODEL_ID, BASELINE_ID]
    assert properties[keys.REASON_PROPERTY].startswith(
        "Blessed: all" if eval_config else "Not blessed:"
    )
    assert (properties[keys.FAILURES_PROPERTY] == 0) == bool(eval_config)
    for name in ("cli", "kfp"):
        directory, recorded = blessings[name]
        assert os.listdir(directory) == [verdict], name
        assert recorded == _without_ids(properties), name
        report = tmp_path / name / "validation" / keys.REPORT_FILE
        assert report.read_text().startswith("<!DOCTYPE html>"), name


def test_the_tfx_evaluators_own_blessing_is_the_validators_decision_on_its_thresholds(
    inputs, evaluated, tmp_path
):
    tfx_dir, _ = evaluated["tfx"]
    inline = os.path.join(os.path.dirname(tfx_dir), keys.BLESSING_KEY)  # run_executor's layout
    _validate_tfx(inputs, evaluated["tfx"], tmp_path, "")
    assert sorted(os.listdir(inline)) == [keys.NOT_BLESSED_FILE, keys.EVALUATOR_VALIDATION_DIR]
    decisions = [
        os.path.join(directory, keys.DECISION_JSON_FILE)
        for directory in (
            os.path.join(inline, keys.EVALUATOR_VALIDATION_DIR),
            tmp_path / "validation",
        )
    ]
    with open(decisions[0]) as inline_decision, open(decisions[1]) as validator_decision:
        assert json.load(inline_decision) == json.load(validator_decision)
