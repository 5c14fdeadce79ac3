"""The no-baseline marker, as a first run's baseline step on Kubeflow Pipelines outputs it (a task
cannot pass "no artifact"): the Evaluator and the Validator take the marked Model as no baseline
(the candidate evaluated alone and rubber-stamped, as without a baseline input), while a baseline
Model without the marker is a baseline: an empty one fails the evaluation, and one the evaluation
did not compare against is refused."""

import os

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import json_format, text_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tensorflow_model_analysis.proto import config_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.types import channel_utils, standard_artifacts

from glassbox import keys
from glassbox.components import Evaluator, Validator
from glassbox.data.errors import ModelLoadError
from tests.support import saved_models
from tests.support.executors import run_executor
from tests.support.validation_fixtures import OVERALL, metrics, write_evaluation

EVAL_CONFIG = text_format.Parse(
    """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" threshold {
  value_threshold { lower_bound { value: 0.5 } }
  change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } } } } }
""",
    config_pb2.EvalConfig(),
)


def _baseline(uri, marked):
    """A baseline Model input as TFX's KFP entrypoint hands it to an executor: read back from a
    KFP task output (name = MLMD id, metadata = custom properties, an empty dir when marked)."""
    os.makedirs(uri, exist_ok=True)
    runtime = pipeline_spec_pb2.RuntimeArtifact(name="41", uri=uri)
    runtime.type.instance_schema = "title: tfx.Model\ntype: object\n"
    if marked:
        json_format.ParseDict(
            {keys.NO_BASELINE_PROPERTY: "no Model of pipeline 'p' is blessed"},
            runtime.metadata,
        )
    artifacts = pipeline_spec_pb2.ArtifactList(artifacts=[runtime])
    return kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict({"baseline_model": artifacts}, {})[
        "baseline_model"
    ]


def _model(uri, model_id):
    model = standard_artifacts.Model()
    model.uri, model.mlmd_artifact.id = uri, model_id
    return model


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("marker")
    examples = saved_models.write_examples_artifact(
        str(root / "examples"), {"eval": saved_models.make_examples(200, seed=2)}
    )
    model = os.path.dirname(saved_models.export_model(str(root / "model" / "Format-Serving")))
    return examples, model


def _evaluate(tmp_path, fixtures, baseline):
    examples_uri, model_uri = fixtures
    examples = standard_artifacts.Examples()
    examples.uri, examples.split_names = examples_uri, '["eval"]'
    evaluator = Evaluator(
        examples=channel_utils.as_channel([examples]),
        model=channel_utils.as_channel([_model(model_uri, 7)]),
        baseline_model=channel_utils.as_channel(baseline),
        eval_config=EVAL_CONFIG,
    )
    return run_executor(evaluator, tmp_path)[keys.EVALUATION_KEY]


def test_evaluator_evaluates_the_candidate_alone_given_the_marked_model(tmp_path, fixtures):
    evaluation = _evaluate(
        tmp_path, fixtures, _baseline(str(tmp_path / "no-baseline"), marked=True)
    )

    assert not evaluation.has_custom_property(keys.BASELINE_MODEL_ID_PROPERTY)
    assert not evaluation.has_custom_property(keys.BASELINE_MODEL_PROPERTY)
    assert tfma.load_eval_result(evaluation.uri).get_metrics_for_slice()["auc"]["doubleValue"] > 0


def test_evaluator_fails_on_an_empty_baseline_without_the_marker(tmp_path, fixtures):
    with pytest.raises(ModelLoadError, match="no SavedModel"):
        _evaluate(tmp_path, fixtures, _baseline(str(tmp_path / "empty"), marked=False))


def _validate(tmp_path, baseline):
    """The Validator's executor on an evaluation of the candidate alone; returns the blessing."""
    evaluation = standard_artifacts.ModelEvaluation()
    evaluation.uri = write_evaluation(
        str(tmp_path / "evaluation"), EVAL_CONFIG, {OVERALL: metrics({"auc": 0.8})}
    )
    evaluation.set_string_custom_property(keys.CURRENT_MODEL_PROPERTY, "/models/candidate")
    evaluation.set_int_custom_property(keys.CURRENT_MODEL_ID_PROPERTY, 7)
    validator = Validator(
        evaluation=channel_utils.as_channel([evaluation]),
        model=channel_utils.as_channel([_model("/models/candidate", 7)]),
        baseline_model=channel_utils.as_channel(baseline),
    )
    return run_executor(validator, tmp_path)[keys.BLESSING_KEY]


def test_validator_rubber_stamps_the_candidate_given_the_marked_model(tmp_path):
    blessing = _validate(tmp_path, _baseline(str(tmp_path / "no-baseline"), marked=True))

    assert blessing.get_int_custom_property(keys.BLESSED_PROPERTY) == 1
    assert blessing.get_int_custom_property(keys.RUBBER_STAMP_PROPERTY) == 1
    assert not blessing.has_custom_property(keys.BASELINE_MODEL_ID_PROPERTY)


def test_validator_refuses_when_given_an_unmarked_baseline_the_evaluation_did_not_compare_against(
    tmp_path,
):
    blessing = _validate(tmp_path, _baseline(str(tmp_path / "empty"), marked=False))

    assert blessing.get_int_custom_property(keys.BLESSED_PROPERTY) == 0
    assert os.listdir(blessing.uri) == [keys.NOT_BLESSED_FILE]
