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

from glassbox.components import Evaluator
from glassbox.components.validator.component import Validator
from glassbox.evaluation.models import resolve_model_dir
from glassbox.kfp import components
from tests.support import saved_models

EVAL_CONFIG = """
model_specs { name: "candidate" label_key: "label" }
model_specs { name: "baseline" label_key: "label" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics {
    class_name: "AUC"
    threshold {
      value_threshold { lower_bound { value: 0.5 } }
      change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } }
    }
  }
  metrics { class_name: "BinaryAccuracy" threshold { value_threshold { lower_bound { value: 0.55 } } } }
}
"""
# The models' evaluated-models check is the TFX Validator's own (native components have no MLMD ids).
TFX_ONLY_CHECKS = {"evaluated_models"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    examples = saved_models.write_examples_artifact(
        str(root / "examples"),
        {
            "train": saved_models.make_examples(100, seed=1),
            "eval": saved_models.make_examples(600, seed=2),
        },
    )
    model, baseline = (
        os.path.dirname(saved_models.export_model(str(root / name / "Format-Serving"), seed=seed))
        for name, seed in (("model", 0), ("baseline", 1))
    )
    return {"examples": examples, "model": model, "baseline_model": baseline}


class Outputs(NamedTuple):
    evaluation: dsl.Artifact
    metrics: dsl.Metrics
    blessing: dsl.Artifact
    validation: dsl.Artifact
    evaluation_report: dsl.HTML
    validation_report: dsl.HTML
    blessed: bool


@dsl.pipeline
def evaluate_and_validate(examples: str, model: str, baseline_model: str) -> Outputs:
    evaluated = components.evaluate(
        examples=dsl.importer(artifact_uri=examples, artifact_class=dsl.Dataset).output,
        model=dsl.importer(artifact_uri=model, artifact_class=dsl.Model).output,
        baseline_model=dsl.importer(artifact_uri=baseline_model, artifact_class=dsl.Model).output,
        eval_config=EVAL_CONFIG,
    )
    validated = components.validate(evaluation=evaluated.outputs["evaluation"])
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


def _do(component, output_dir):
    """Runs the component's executor on its (fixed) inputs; returns its outputs by key."""
    outputs = {
        key: [_artifact(channel.type, str(output_dir / key))]
        for key, channel in component.outputs.items()
    }
    inputs = {key: list(channel.get()) for key, channel in component.inputs.items()}
    component.executor_spec.executor_class().Do(inputs, outputs, component.exec_properties)
    return {key: artifact for key, (artifact,) in outputs.items()}


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
    evaluated = _do(
        Evaluator(
            examples=channel_utils.as_channel([examples]),
            model=model,
            baseline_model=baseline,
            eval_config=text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        ),
        root,
    )
    validated = _do(
        Validator(
            evaluation=channel_utils.as_channel([evaluated["evaluation"]]),
            model=model,
            baseline_model=baseline,
        ),
        root,
    )
    return {**evaluated, **validated}


def test_native_evaluation_has_the_tfx_evaluators_metrics_on_every_slice(native, tfx):
    def by_slice(uri):
        return {
            slice_key: metrics for slice_key, metrics in tfma.load_eval_result(uri).slicing_metrics
        }

    assert by_slice(native["evaluation"].uri) == by_slice(tfx["evaluation"].uri)


def test_native_metrics_are_the_overall_metrics_the_tfx_evaluator_records(native, tfx):
    prefix = "overall_"
    recorded = {
        name[len(prefix) :]: value.double_value
        for name, value in tfx["evaluation"].mlmd_artifact.custom_properties.items()
        if name.startswith(prefix)
    }
    assert {"auc", "diff_auc", "example_count", "binary_accuracy"} <= set(recorded)
    assert native["metrics"].metadata == recorded
    assert native["evaluation"].metadata == {
        prefix + name: value for name, value in recorded.items()
    }


def _checks(validation_uri):
    with open(os.path.join(validation_uri, "decision.json")) as f:
        decision = json.load(f)
    checks = [
        {
            key: check[key]
            for key in ("kind", "slice", "metric", "passed", "skipped", "value", "baseline_value")
        }
        for check in decision["checks"]
        if check["kind"] not in TFX_ONLY_CHECKS
    ]
    return decision["blessed"], checks


def test_native_decision_is_the_tfx_validators(native, tfx):
    blessed, checks = _checks(native["validation"].uri)
    assert (blessed, checks) == _checks(tfx["validation"].uri)
    assert any(not check["passed"] for check in checks) and any(check["passed"] for check in checks)
    assert native["blessed"] is blessed is False

    tfx_blessing = tfx["blessing"]
    for key in ("blessed", "validation_ok", "rubber_stamp", "failures"):
        assert native["blessing"].metadata[key] == tfx_blessing.get_int_custom_property(key)
    # The native blessing names the SavedModel the evaluation read; the TFX one the Model artifact.
    assert native["blessing"].metadata["current_model"] == resolve_model_dir(
        tfx_blessing.get_string_custom_property("current_model")
    )
    assert os.listdir(native["blessing"].uri) == os.listdir(tfx_blessing.uri) == ["NOT_BLESSED"]


def test_native_components_write_html_reports_for_the_kfp_ui(native):
    for name in ("evaluation_report", "validation_report"):
        with open(native[name].path) as f:
            assert f.read().startswith("<!DOCTYPE html>")
