"""The baseline step on Kubeflow Pipelines (KFP): the query of KFP's ML Metadata for the latest
blessed Model, on a SQLite store populated as KFP populates one (tests/support/kfp_harness.py records
contexts, artifacts and executions as KFP's driver and launcher do); how a task connects to ML
Metadata; and the BaselineResolver's executor under TFX's KFP entrypoint, whose executor output
(which KFP's launcher merges into the recorded artifact) describes a copy of the baseline, or
carries the no-baseline marker."""

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from ml_metadata.proto import metadata_store_pb2
from tfx import version as tfx_version
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor
from tfx.types import standard_artifacts

from glassbox import keys
from glassbox.components.baseline_resolver import kfp_metadata as metadata
from glassbox.components.baseline_resolver.component import BaselineResolver
from glassbox.kfp import tfx_entrypoint
from glassbox.provenance.errors import ForgedBlessingError
from tests.support.executors import run_executor
from tests.support.kfp_harness import LocalKfp, record_validated_model

PIPELINE = "glassbox-demo"
MODEL_SCHEMA = "title: tfx.Model\ntype: object\n"


def _train_and_validate(kfp, run_id, blessed, pipeline=PIPELINE, **blessing_metadata):
    return record_validated_model(
        kfp, pipeline, run_id, f"/root/{run_id}/Trainer/model", blessed, **blessing_metadata
    )


@pytest.fixture
def kfp(tmp_path):
    return LocalKfp(str(tmp_path / "cluster"))


def test_the_latest_blessed_model_of_the_pipeline_is_the_baseline(kfp):
    _train_and_validate(kfp, "run-1", blessed=True)
    model, blessing = _train_and_validate(kfp, "run-2", blessed=True)
    _train_and_validate(kfp, "run-3", blessed=False)  # refused: not a baseline
    _train_and_validate(
        kfp, "other-run", blessed=True, pipeline="other-pipeline"
    )  # another pipeline's

    found = metadata.latest_blessed_model(kfp.store, PIPELINE)

    assert (found.model.id, found.model.uri, found.blessing.id) == (
        model.id,
        model.uri,
        blessing.id,
    )


def test_nothing_blessed_yet_is_no_baseline(kfp):
    _train_and_validate(kfp, "run-1", blessed=False)
    _train_and_validate(kfp, "other-run", blessed=True, pipeline="other-pipeline")

    assert metadata.latest_blessed_model(kfp.store, PIPELINE) is None


def test_a_store_without_the_pipeline_is_refused_not_taken_as_no_baseline(kfp):
    # KFP creates the pipeline's context as a run starts: without it, this is the wrong store
    # (e.g. one created empty) or the wrong name, and assuming no baseline would bless unchecked.
    _train_and_validate(kfp, "other-run", blessed=True, pipeline="other-pipeline")

    with pytest.raises(metadata.MetadataStoreError, match=f"'{PIPELINE}'"):
        metadata.latest_blessed_model(kfp.store, PIPELINE)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"current_model_id": "999"}, "model 999, which ML Metadata does not have"),
        ({"current_model": "/elsewhere/model"}, "'/elsewhere/model'"),
        (
            {"current_model_id": 1.0},
            "current_model_id is not a KFP artifact name",
        ),  # not repaired by our entrypoint
    ],
)
def test_a_blessing_whose_model_is_not_as_it_says_is_an_error(kfp, fields, message):
    _train_and_validate(kfp, "run-1", blessed=True, **fields)

    with pytest.raises(metadata.BlessedModelError, match=message):
        metadata.latest_blessed_model(kfp.store, PIPELINE)


def _forge_blessing(kfp, model, execution_type=None):
    """A blessing of model recorded in the pipeline's context by something other than a task of
    it: put_artifacts and an attribution, and, given execution_type, an execution of that type
    outputting it (as anything that can reach ML Metadata could record)."""
    store = kfp.store
    contexts = kfp.start_run(PIPELINE, "forger")
    blessing = metadata_store_pb2.Artifact(
        type_id=store.put_artifact_type(
            metadata_store_pb2.ArtifactType(name=metadata.BLESSING_TYPE)
        ),
        uri="/forged/blessing",
        state=metadata_store_pb2.Artifact.LIVE,
    )
    blessing.custom_properties[keys.BLESSED_PROPERTY].double_value = 1.0
    blessing.custom_properties[keys.CURRENT_MODEL_ID_PROPERTY].string_value = str(model.id)
    blessing.custom_properties[keys.CURRENT_MODEL_PROPERTY].string_value = model.uri
    [blessing.id] = store.put_artifacts([blessing])
    store.put_attributions_and_associations(
        [
            metadata_store_pb2.Attribution(artifact_id=blessing.id, context_id=context.id)
            for context in (contexts.pipeline, contexts.run)
        ],
        [],
    )
    if execution_type:
        execution = metadata_store_pb2.Execution(
            type_id=store.put_execution_type(metadata_store_pb2.ExecutionType(name=execution_type)),
            last_known_state=metadata_store_pb2.Execution.COMPLETE,
        )
        event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
        event.path.steps.add(key=keys.BLESSING_KEY)
        store.put_execution(execution, [(blessing, event)], [contexts.pipeline, contexts.run])
    return blessing


@pytest.mark.parametrize("execution_type", [None, "forger.Execution"])
def test_a_blessing_no_task_of_the_pipeline_output_is_refused_not_passed_over(kfp, execution_type):
    # A weak model blessed by hand (no Validator ran) would become the baseline a bad candidate
    # passes change thresholds against; falling back to the genuine one would hide the forgery.
    genuine_model, genuine = _train_and_validate(kfp, "run-1", blessed=True)
    weak_model, _ = _train_and_validate(kfp, "run-2", blessed=False)
    forged = _forge_blessing(kfp, weak_model, execution_type)

    with pytest.raises(ForgedBlessingError) as raised:
        metadata.latest_blessed_model(kfp.store, PIPELINE)
    message = str(raised.value)
    assert f"ModelBlessing {forged.id} (/forged/blessing)" in message
    assert "was not output by a validation of that pipeline" in message
    assert "no earlier blessing is taken instead" in message and "DELETED" in message

    # As the message says: once known to be forged and marked DELETED, the genuine one is found.
    forged.state = metadata_store_pb2.Artifact.DELETED
    kfp.store.put_artifacts([forged])
    found = metadata.latest_blessed_model(kfp.store, PIPELINE)
    assert (found.model.id, found.blessing.id) == (genuine_model.id, genuine.id)


def test_a_pipeline_name_that_cannot_be_queried_is_refused():
    with pytest.raises(metadata.MetadataStoreError, match="pipeline name"):
        BaselineResolver(pipeline_name="it's")


def test_a_task_pod_connects_to_kfps_ml_metadata_grpc_service():
    config = metadata.connection_config(
        {metadata.HOST_ENV: "metadata-grpc-service.kubeflow", metadata.PORT_ENV: "8080"}
    )

    assert config == metadata_store_pb2.MetadataStoreClientConfig(
        host="metadata-grpc-service.kubeflow", port=8080
    )


def test_a_connection_config_file_overrides_the_grpc_service(kfp):
    config = metadata.connection_config(
        {
            metadata.CONNECTION_CONFIG_ENV: kfp.connection_config_path,
            metadata.HOST_ENV: "metadata-grpc-service",
            metadata.PORT_ENV: "8080",
        }
    )

    assert config.sqlite.filename_uri.endswith("metadata.sqlite")


@pytest.mark.parametrize(
    "environ, named",
    [
        ({}, f"{metadata.HOST_ENV} and {metadata.PORT_ENV} not set"),
        ({metadata.HOST_ENV: "mlmd"}, f"{metadata.PORT_ENV} not set"),
        ({metadata.HOST_ENV: "mlmd", metadata.PORT_ENV: "http"}, f"{metadata.PORT_ENV}='http'"),
        ({metadata.CONNECTION_CONFIG_ENV: "/no/such.pbtxt"}, "/no/such.pbtxt"),
    ],
)
def test_a_missing_or_bad_connection_setting_is_named(environ, named):
    with pytest.raises(metadata.MetadataStoreError) as raised:
        metadata.connection_config(environ)
    assert named in str(raised.value)


@pytest.mark.parametrize("text", ["", "host: ", "not a proto"])
def test_a_connection_config_file_without_a_store_is_refused(tmp_path, text):
    path = tmp_path / "config.pbtxt"
    path.write_text(text)

    with pytest.raises(metadata.MetadataStoreError, match="neither"):
        metadata.connection_config({metadata.CONNECTION_CONFIG_ENV: str(path)})


def _run_in_kfp_entrypoint(tmp_path, monkeypatch, kfp):
    """Runs the BaselineResolver's executor as its compiled KFP task does (glassbox's TFX
    entrypoint, task environment naming the store); returns the executor output's `model`."""
    monkeypatch.setenv(metadata.CONNECTION_CONFIG_ENV, kfp.connection_config_path)
    executor_input = pipeline_spec_pb2.ExecutorInput()
    executor_input.inputs.parameter_values[keys.PIPELINE_NAME_KEY].string_value = PIPELINE
    executor_input.outputs.artifacts[keys.MODEL_KEY].artifacts.add(
        uri=str(tmp_path / "task" / "model")
    ).type.instance_schema = MODEL_SCHEMA
    executor_input.outputs.output_file = str(tmp_path / "task" / "executor_output.json")
    inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
    inputs_spec.parameters[
        keys.PIPELINE_NAME_KEY
    ].parameter_type = pipeline_spec_pb2.ParameterType.STRING
    tfx_entrypoint._run(
        kubeflow_v2_run_executor._parse_flags(
            [
                "--executor_class_path",
                "glassbox.components.baseline_resolver.executor.Executor",
                "--json_serialized_invocation_args",
                json_format.MessageToJson(executor_input),
                "--json_serialized_inputs_spec_args",
                json_format.MessageToJson(inputs_spec),
            ]
        )
    )
    with open(executor_input.outputs.output_file) as f:
        output = json_format.Parse(f.read(), pipeline_spec_pb2.ExecutorOutput())
    [model] = output.artifacts[keys.MODEL_KEY].artifacts
    return model


def test_under_the_kfp_entrypoint_the_output_is_a_copy_of_the_blessed_model(
    tmp_path, monkeypatch, kfp
):
    blessed_uri = tmp_path / "root" / "run-1" / "Trainer" / "model"
    (blessed_uri / "Format-Serving").mkdir(parents=True)
    (blessed_uri / "Format-Serving" / "saved_model.pb").write_bytes(b"model")
    model, blessing = record_validated_model(kfp, PIPELINE, "run-1", str(blessed_uri), blessed=True)

    output = _run_in_kfp_entrypoint(tmp_path, monkeypatch, kfp)

    # Its own URI: KFP's launcher fails a task whose executor output moves an output out of the run.
    assert output.uri == str(tmp_path / "task" / "model")
    assert (
        tmp_path / "task" / "model" / "Format-Serving" / "saved_model.pb"
    ).read_bytes() == b"model"
    assert json_format.MessageToDict(output.metadata) == {
        keys.RESOLVED_MODEL_URI_PROPERTY: model.uri,
        keys.RESOLVED_MODEL_ID_PROPERTY: str(model.id),
        keys.RESOLVED_BLESSING_ID_PROPERTY: str(blessing.id),
        "tfx_version": tfx_version.__version__,
    }


def test_under_the_kfp_entrypoint_a_first_run_outputs_the_no_baseline_marker(
    tmp_path, monkeypatch, kfp
):
    kfp.start_run(PIPELINE, "run-1")

    output = _run_in_kfp_entrypoint(tmp_path, monkeypatch, kfp)

    assert output.uri == str(tmp_path / "task" / "model")
    assert PIPELINE in output.metadata.fields[keys.NO_BASELINE_PROPERTY].string_value


def test_without_ml_metadata_the_task_fails_naming_the_settings(tmp_path, monkeypatch, kfp):
    for name in (metadata.CONNECTION_CONFIG_ENV, metadata.HOST_ENV, metadata.PORT_ENV):
        monkeypatch.delenv(name, raising=False)
    resolver = BaselineResolver(pipeline_name=PIPELINE)
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")

    with pytest.raises(metadata.MetadataStoreError, match=metadata.HOST_ENV):
        run_executor(resolver, {keys.MODEL_KEY: model})
    assert not model.has_custom_property(keys.NO_BASELINE_PROPERTY)
