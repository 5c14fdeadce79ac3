"""The native KFP components, run by kfp.local (SubprocessRunner, in this venv), compute the same
evaluation, metrics and decision as the TFX Evaluator and Validator on the same data.

Slow: each component runs in its own Python process, as on a cluster (about a minute in all)."""

import json
import os
from typing import NamedTuple

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from kfp import dsl, local
from tensorflow_model_analysis.proto import config_pb2
from tfx.types import channel_utils, standard_artifacts

from glassbox import keys
from glassbox.components import Evaluator
from glassbox.components.properties import get_properties
from glassbox.components.validator.component import Validator
from glassbox.kfp import components
from tests.support import compared_models
from tests.support.executors import run_executor

# The ML Metadata ids of the models, which only TFX knows.
IDS = (keys.CURRENT_MODEL_ID_PROPERTY, keys.BASELINE_MODEL_ID_PROPERTY)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    # Every input is given: kfp.local cannot leave an optional input artifact out.
    return compared_models.write_inputs(str(tmp_path_factory.mktemp("inputs")))


class Outputs(NamedTuple):
    evaluation: dsl.Artifact
    metrics: dsl.Metrics
    blessing: dsl.Artifact
    validation: dsl.Artifact
    evaluation_report: dsl.HTML
    validation_report: dsl.HTML
    blessed: bool


@dsl.pipeline
def evaluate_and_validate(examples: str, model: str, baseline_model: str, schema: str) -> Outputs:
    model = dsl.importer(artifact_uri=model, artifact_class=dsl.Model).output
    baseline_model = dsl.importer(artifact_uri=baseline_model, artifact_class=dsl.Model).output
    evaluated = components.evaluate(
        examples=dsl.importer(artifact_uri=examples, artifact_class=dsl.Dataset).output,
        model=model,
        baseline_model=baseline_model,
        schema=dsl.importer(artifact_uri=schema, artifact_class=dsl.Artifact).output,
        eval_config=compared_models.EVAL_CONFIG,
    )
    validated = components.validate(
        evaluation=evaluated.outputs["evaluation"], model=model, baseline_model=baseline_model
    )
    return Outputs(
        evaluation=evaluated.outputs["evaluation"],
        metrics=evaluated.outputs["metrics"],
        blessing=validated.outputs["blessing"],
        validation=validated.outputs["validation"],
        evaluation_report=evaluated.outputs["report"],
        validation_report=validated.outputs["report"],
        blessed=validated.outputs["Output"],
    )


@pytest.fixture(scope="module")
def native(inputs, tmp_path_factory):
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(tmp_path_factory.mktemp("kfp")),
    )
    return evaluate_and_validate(**inputs).outputs


def _artifact(artifact_type, uri, **properties):
    artifact = artifact_type()
    artifact.uri = uri
    for name, value in properties.items():
        setattr(artifact, name, value)
    return artifact


@pytest.fixture(scope="module")
def tfx(inputs, tmp_path_factory):
    root = tmp_path_factory.mktemp("tfx")
    model, baseline = (
        channel_utils.as_channel([_artifact(standard_artifacts.Model, inputs[key], id=i)])
        for i, key in ((1, "model"), (2, "baseline_model"))
    )
    examples = _artifact(
        standard_artifacts.Examples, inputs["examples"], split_names='["train", "eval"]'
    )
    evaluated = run_executor(
        Evaluator(
            examples=channel_utils.as_channel([examples]),
            model=model,
            baseline_model=baseline,
            schema=channel_utils.as_channel(
                [_artifact(standard_artifacts.Schema, inputs["schema"])]
            ),
            eval_config=text_format.Parse(compared_models.EVAL_CONFIG, config_pb2.EvalConfig()),
        ),
        root / "evaluator",  # both components have a blessing output
    )
    validated = run_executor(
        Validator(
            evaluation=channel_utils.as_channel([evaluated["evaluation"]]),
            model=model,
            baseline_model=baseline,
        ),
        root / "validator",
    )
    return {**evaluated, **validated}


def test_native_evaluation_has_the_tfx_evaluators_metrics_on_every_slice(native, tfx):
    def by_slice(uri):
        return {
            slice_key: metrics for slice_key, metrics in tfma.load_eval_result(uri).slicing_metrics
        }

    assert by_slice(native["evaluation"].uri) == by_slice(tfx["evaluation"].uri)


def _without_ids(artifact):
    return {name: value for name, value in get_properties(artifact).items() if name not in IDS}


def test_native_metadata_is_the_tfx_evaluators_properties_but_for_the_ids(native, tfx):
    recorded = _without_ids(tfx["evaluation"])
    assert {"overall_auc", "overall_diff_auc", keys.CURRENT_MODEL_PROPERTY} <= set(recorded)
    assert native["evaluation"].metadata == recorded
    prefix = keys.OVERALL_METRIC_PREFIX
    assert native["metrics"].metadata == {
        name[len(prefix) :]: value for name, value in recorded.items() if name.startswith(prefix)
    }


def _decision(validation_uri):
    """decision.json but for what names the evaluation's dir and the models' ids."""
    with open(os.path.join(validation_uri, keys.DECISION_JSON_FILE)) as f:
        decision = json.load(f)
    decision.pop("evaluation")
    for model in ("candidate", "baseline"):
        decision[model].pop("id")
    decision["checks"][0].pop("sentence")  # the evaluated-models check names the ids too
    return decision


def test_native_decision_and_blessing_are_the_tfx_validators_but_for_the_ids(native, tfx):
    decision = _decision(native["validation"].uri)
    assert decision == _decision(tfx["validation"].uri)
    assert decision["checks"][0]["kind"] == "evaluated_models" and decision["checks"][0]["passed"]
    assert {check["passed"] for check in decision["checks"]} == {True, False}
    assert native["blessed"] is decision["blessed"] is False

    assert native["blessing"].metadata == _without_ids(tfx["blessing"])
    assert os.listdir(native["blessing"].uri) == os.listdir(tfx["blessing"].uri) == ["NOT_BLESSED"]


def test_native_components_write_html_reports_for_the_kfp_ui(native):
    for name in ("evaluation_report", "validation_report"):
        with open(native[name].path) as f:
            assert f.read().startswith("<!DOCTYPE html>")
