"""The Validator fails closed in a real pipeline (LocalDagRunner, SQLite MLMD, the stock Pusher):
an evaluation that is missing, truncated or of another model, or a Validator killed while writing,
leaves no BLESSED file, no ModelBlessing with blessed = 1 and nothing pushed."""

import glob
import os
import re
import shutil
import time

import ml_metadata as mlmd
import pytest
from google.protobuf import json_format, text_format
from tensorflow_model_analysis.proto import config_pb2
from tfx.components.pusher.component import Pusher
from tfx.dsl.components.common.importer import Importer
from tfx.orchestration import metadata, pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts

from glassbox import filesystem, keys
from glassbox.components import Evaluator, Validator
from glassbox.errors import ConfigError
from tests.components.test_validator import THRESHOLDS
from tests.support import saved_models
from tests.support.killed_child import BLOCKED, kill_when_blocked
from tests.support.validation_fixtures import OVERALL, metrics, write_evaluation


def _pipeline(root, evaluation_uri=None, record=None, components=None, model=None):
    """Imported evaluation and model -> Validator -> Pusher (record: the evaluation's model
    record); or the given components, ending in a Validator of model, -> Pusher."""
    if components is None:
        evaluation = Importer(
            source_uri=evaluation_uri,
            artifact_type=standard_artifacts.ModelEvaluation,
            custom_properties=record or {},
        ).with_id("evaluation")
        model = Importer(
            source_uri=os.path.join(root, "model"), artifact_type=standard_artifacts.Model
        ).with_id("model")
        validator = Validator(
            evaluation=evaluation.outputs["result"], model=model.outputs["result"]
        )
        components = [evaluation, model, validator]
    validator = components[-1]
    pusher = Pusher(
        model=model.outputs["result"],
        model_blessing=validator.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(
                base_directory=os.path.join(root, "serving")
            )
        ),
    )
    return pipeline.Pipeline(
        pipeline_name="faults",
        pipeline_root=os.path.join(root, "pipeline"),
        components=[*components, pusher],
        metadata_connection_config=metadata.sqlite_metadata_connection_config(
            os.path.join(root, "metadata.sqlite")
        ),
    )


def _assert_nothing_blessed_or_pushed(root):
    store = mlmd.MetadataStore(
        metadata.sqlite_metadata_connection_config(os.path.join(root, "metadata.sqlite"))
    )
    for blessing in store.get_artifacts_by_type("ModelBlessing"):
        assert blessing.custom_properties["blessed"].int_value == 0
    for pushed in store.get_artifacts_by_type("PushedModel"):
        assert pushed.custom_properties["pushed"].int_value == 0
    written = [name for _, _, names in os.walk(os.path.join(root, "pipeline")) for name in names]
    assert "BLESSED" not in written
    assert not os.path.exists(os.path.join(root, "serving"))
    return store, written


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    """A complete evaluation whose candidate meets its thresholds: blessed, were nothing wrong."""
    return write_evaluation(
        str(tmp_path_factory.mktemp("evaluation")), THRESHOLDS, {OVERALL: metrics({"auc": 0.8})}
    )


def _damaged(evaluation, root, damage):
    uri = os.path.join(root, "evaluation")
    if damage == "missing":
        return uri
    shutil.copytree(evaluation, uri)
    (metrics_file,) = [os.path.join(uri, f) for f in os.listdir(uri) if f.startswith("metrics")]
    with open(metrics_file, "r+b") as f:
        f.truncate(os.path.getsize(metrics_file) // 2)
    return uri


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_missing_or_truncated_evaluation_fails_the_run_blessing_nothing(
    tmp_path, evaluation, damage
):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "model"))
    with pytest.raises(Exception, match="evaluation"):
        LocalDagRunner().run(_pipeline(root, _damaged(evaluation, root, damage)))
    store, _ = _assert_nothing_blessed_or_pushed(root)
    assert store.get_artifacts_by_type("PushedModel") == []


def test_an_evaluation_of_another_model_is_refused_and_not_pushed(tmp_path, evaluation):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "model"))
    LocalDagRunner().run(
        _pipeline(
            root,
            evaluation,
            record={
                keys.CURRENT_MODEL_PROPERTY: "/models/another",
                keys.CURRENT_MODEL_ID_PROPERTY: 999,
            },
        )
    )
    store, written = _assert_nothing_blessed_or_pushed(root)
    (blessing,) = store.get_artifacts_by_type("ModelBlessing")
    assert "not of the candidate" in blessing.custom_properties["reason"].string_value
    assert "NOT_BLESSED" in written
    (pushed,) = store.get_artifacts_by_type("PushedModel")


def _run_blocking_mid_write(root, evaluation_uri):
    """In a child process: runs the pipeline, the Validator blocking once TFMA's ValidationResult
    is in place and before decision.md and decision.json are, then says so on stdout."""
    rename = filesystem.rename

    def rename_then_block(source, target):
        rename(source, target)
        if os.path.basename(target) == keys.VALIDATIONS_FILE:
            print(BLOCKED, flush=True)
            time.sleep(3600)

    filesystem.rename = rename_then_block
    LocalDagRunner().run(_pipeline(root, evaluation_uri))


@pytest.mark.slow
def test_a_validator_killed_while_writing_leaves_nothing_blessed(tmp_path, evaluation):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "model"))
    kill_when_blocked(
        "tests.components.test_validator_faults", "_run_blocking_mid_write", root, evaluation
    )

    store, written = _assert_nothing_blessed_or_pushed(root)
    assert "NOT_BLESSED" not in written
    (validation,) = glob.glob(os.path.join(root, "pipeline", "Validator", "validation", "*"))
    in_place = os.listdir(validation)
    assert "validations.tfrecord" in in_place and "decision.json" not in in_place
    assert all(
        "blessed" not in blessing.custom_properties
        for blessing in store.get_artifacts_by_type("ModelBlessing")
    )
    assert store.get_artifacts_by_type("PushedModel") == []
    (execution,) = [
        e
        for e in store.get_executions()
        if store.get_execution_types_by_id([e.type_id])[0].name.endswith("Validator")
    ]
    assert execution.last_known_state == execution.RUNNING


DIRECTION_UNSET = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" threshold {
  value_threshold { lower_bound { value: 0.0 } }
  change_threshold { absolute { value: -0.01 } } } } }
"""
DIRECTION_FIELD = "metrics_specs[0].metrics[0].threshold.change_threshold.direction"


def test_a_change_threshold_without_direction_is_refused_and_nothing_is_pushed(tmp_path):
    """The first model (no baseline, so TFMA would drop the change threshold and bless): refused
    when the pipeline is built, and by the Evaluator's executor if it got past that (here set on
    the built component, as a pipeline compiled elsewhere could carry it)."""
    root = str(tmp_path)
    examples = Importer(
        source_uri=saved_models.write_examples_artifact(
            os.path.join(root, "examples"), {"eval": saved_models.make_examples(100, seed=1)}
        ),
        artifact_type=standard_artifacts.Examples,
    ).with_id("examples")
    model = Importer(
        source_uri=os.path.dirname(
            saved_models.export_model(os.path.join(root, "model", "Format-Serving"))
        ),
        artifact_type=standard_artifacts.Model,
    ).with_id("model")
    bad = text_format.Parse(DIRECTION_UNSET, config_pb2.EvalConfig())
    with pytest.raises(ConfigError, match=re.escape(f"'{DIRECTION_FIELD}' (on AUC) is unset")):
        Evaluator(
            examples=examples.outputs["result"], model=model.outputs["result"], eval_config=bad
        )

    good = text_format.Parse(THRESHOLDS, config_pb2.EvalConfig())
    evaluator = Evaluator(
        examples=examples.outputs["result"], model=model.outputs["result"], eval_config=good
    )
    validator = Validator(evaluation=evaluator.outputs["evaluation"], model=model.outputs["result"])
    with pytest.raises(ConfigError, match=re.escape(DIRECTION_FIELD)):
        Validator(
            evaluation=evaluator.outputs["evaluation"],
            model=model.outputs["result"],
            eval_config=bad,
        )
    evaluator.exec_properties[keys.EVAL_CONFIG_KEY] = json_format.MessageToJson(bad)
    with pytest.raises(ConfigError, match=re.escape(DIRECTION_FIELD)):
        LocalDagRunner().run(
            _pipeline(root, components=[examples, model, evaluator, validator], model=model)
        )
    store, _ = _assert_nothing_blessed_or_pushed(root)
    assert store.get_artifacts_by_type("ModelEvaluation") == []
    assert store.get_artifacts_by_type("PushedModel") == []
