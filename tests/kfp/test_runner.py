"""The KFP runner: the pipeline YAML `glassbox kfp compile` writes (tasks, images, commands, Beam
args, the data_root parameter, the baseline step open-source KFP runs, no resolver tasks; the
Vertex AI variant's resolver queries), `glassbox kfp submit` against a stand-in KFP API server,
and the repairs of the container entrypoint."""

import hashlib
import http.server
import json
import threading

import pytest
import yaml
from google.protobuf import json_format
from kfp import components as kfp_components
from kfp import dsl
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.types import artifact
from tfx.utils import import_utils

from glassbox import keys
from glassbox.artifacts import HTMLReport
from glassbox.cli import main
from glassbox.kfp import tfx_entrypoint
from glassbox.pipelines import baseline, kubeflow_runner

IMAGE = "registry.example/glassbox:test"
PIPELINE_ROOT = "gs://bucket/root"
DATA_ROOT = "gs://bucket/data"
SERVING_DIR = "gs://bucket/serving"
BEAM_ARGS = ["--runner=DirectRunner", "--direct_num_workers=2"]
# Each task, a container, and the executor it runs.
EXECUTORS = {
    baseline.RESOLVER_ID: "glassbox.components.baseline_resolver.executor.Executor",
    "CsvExampleGen": "tfx.components.example_gen.csv_example_gen.executor.Executor",
    "Trainer": "glassbox.components.trainer.executor.Executor",
    "Evaluator": "glassbox.components.evaluator.executor.Executor",
    "Validator": "glassbox.components.validator.executor.Executor",
    "Pusher": "tfx.components.pusher.executor.Executor",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    assert (
        main(
            [
                "kfp",
                "compile",
                "--output",
                str(path),
                "--pipeline-root",
                PIPELINE_ROOT,
                "--data-root",
                DATA_ROOT,
                "--serving-dir",
                SERVING_DIR,
                "--image",
                IMAGE,
                "--beam-pipeline-args",
                " ".join(BEAM_ARGS),
            ]
        )
        == 0
    )
    return path


@pytest.fixture(scope="module")
def spec(compiled):
    return yaml.safe_load(compiled.read_text())


def _container(spec, task):
    label = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]][
        "executorLabel"
    ]
    return spec["deploymentSpec"]["executors"][label]["container"]


def test_compiled_yaml_is_a_kfp_2_1_pipeline_the_kfp_sdk_loads(compiled, spec):
    assert spec["schemaVersion"] == "2.1.0"
    assert spec["pipelineInfo"]["name"] == "glassbox-demo"
    assert spec["defaultPipelineRoot"] == PIPELINE_ROOT
    assert kfp_components.load_component_from_file(str(compiled)).name == "glassbox-demo"


def test_every_component_is_a_task_each_tfx_one_in_the_image_under_the_glassbox_entrypoint(spec):
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == set(EXECUTORS)
    for task, executor_class in EXECUTORS.items():
        container = _container(spec, task)
        assert container["image"] == IMAGE
        assert container["command"] == list(kubeflow_runner.CONTAINER_COMMAND)
        args = container["args"]
        assert args[args.index("--executor_class_path") + 1] == executor_class
        assert args[args.index("--json_serialized_invocation_args") + 1] == "{{$}}"
        # Spec 2.1 passes the input definitions (types of parameters and artifacts) to the entrypoint.
        assert "--json_serialized_inputs_spec_args" in args
        assert args[-len(BEAM_ARGS) :] == BEAM_ARGS


def test_every_artifact_type_is_one_the_tfx_entrypoint_can_import(spec):
    definitions = [
        definition
        for component in spec["components"].values()
        for io in ("inputDefinitions", "outputDefinitions")
        for definition in component.get(io, {}).get("artifacts", {}).values()
    ]
    titles = set()
    for definition in definitions:
        # As the entrypoint gets an artifact of the type, and passes it to TFX's.
        executor_input = pipeline_spec_pb2.ExecutorInput()
        typed = executor_input.outputs.artifacts["x"].artifacts.add()
        typed.type.instance_schema = definition["artifactType"]["instanceSchema"]
        titles.add(tfx_entrypoint.type_title(typed.type))
        tfx_entrypoint.kfp_types_to_classes(executor_input)
        artifact_class = import_utils.import_class_by_path(
            kubeflow_v2_entrypoint_utils._retrieve_class_path(typed.type)
        )
        assert issubclass(artifact_class, artifact.Artifact)
    assert "glassbox.ValidationResult" in titles  # a custom type, imported by its type name
    assert keys.HTML_TYPE in titles  # KFP's type, imported as the entrypoint renames it


def test_the_evaluator_and_validator_output_their_reports_as_html_the_kfp_ui_shows(spec):
    """The KFP UI's rule (frontend/src/components/viewers/MetricsVisualizations.tsx): an output
    artifact of MLMD type `system.HTML` with a display_name is shown, the file at its URI read.
    The MLMD type is the schema's title (backend/src/v2/metadata/client.go, RecordArtifact)."""
    for task in ("Evaluator", "Validator"):
        component = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]]
        report = component["outputDefinitions"]["artifacts"][keys.REPORT_KEY]
        schema = yaml.safe_load(report["artifactType"]["instanceSchema"])
        assert schema["title"] == keys.HTML_TYPE == dsl.HTML.schema_title
    # Nothing reads the reports: the Pusher still takes the Validator's blessing (above).
    assert not [
        name
        for task in spec["root"]["dag"]["tasks"].values()
        for name, source in task.get("inputs", {}).get("artifacts", {}).items()
        if source.get("taskOutputArtifact", {}).get("outputArtifactKey") == keys.REPORT_KEY
    ]


def test_data_root_is_a_pipeline_parameter_with_the_compiled_default(spec):
    assert spec["root"]["inputDefinitions"]["parameters"][kubeflow_runner.DATA_ROOT_PARAMETER] == {
        "parameterType": "STRING",
        "defaultValue": DATA_ROOT,
        "isOptional": True,
    }
    example_gen = spec["root"]["dag"]["tasks"]["CsvExampleGen"]["inputs"]["parameters"]
    assert example_gen["input_base"] == {
        "componentInputParameter": kubeflow_runner.DATA_ROOT_PARAMETER
    }


def test_pusher_pushes_to_the_serving_dir_what_the_validator_blessed(spec):
    pusher = spec["root"]["dag"]["tasks"]["Pusher"]["inputs"]
    assert json.loads(pusher["parameters"]["push_destination"]["runtimeValue"]["constant"]) == {
        "filesystem": {"base_directory": SERVING_DIR}
    }
    assert pusher["artifacts"]["model_blessing"]["taskOutputArtifact"] == {
        "producerTask": "Validator",
        "outputArtifactKey": "blessing",
    }


def test_the_baseline_is_a_container_task_open_source_kfp_runs_not_a_resolver(spec):
    # Open-source KFP refuses resolver executors ("resolver executors not implemented").
    assert [
        label
        for label, executor in spec["deploymentSpec"]["executors"].items()
        if "container" not in executor
    ] == []
    tasks = spec["root"]["dag"]["tasks"]
    # It looks up the blessings of this pipeline: KFP's system.Pipeline context is named pipelineInfo.name.
    assert tasks[baseline.RESOLVER_ID]["inputs"]["parameters"]["pipeline_name"] == {
        "runtimeValue": {"constant": spec["pipelineInfo"]["name"]}
    }
    for consumer in ("Evaluator", "Validator"):
        assert tasks[consumer]["inputs"]["artifacts"]["baseline_model"]["taskOutputArtifact"] == {
            "producerTask": baseline.RESOLVER_ID,
            "outputArtifactKey": keys.MODEL_KEY,
        }
    # A cached baseline step would hand every run the first run's answer.
    assert not any(task.get("cachingOptions", {}).get("enableCache") for task in tasks.values())


def test_the_vertex_variant_finds_the_baseline_by_two_resolver_queries(tmp_path):
    path = tmp_path / "vertex.yaml"
    assert (
        main(
            [
                "kfp",
                "compile",
                "--output",
                str(path),
                "--pipeline-root",
                PIPELINE_ROOT,
                "--baseline",
                baseline.LATEST_BLESSED_MODEL_STRATEGY,
            ]
        )
        == 0
    )
    spec = yaml.safe_load(path.read_text())
    blessing_resolver = f"{baseline.RESOLVER_ID}-model-blessing-resolver"
    model_resolver = f"{baseline.RESOLVER_ID}-model-resolver"
    executors = spec["deploymentSpec"]["executors"]
    blessing_query = executors[f"{blessing_resolver}_executor"]["resolver"]["outputArtifactQueries"]
    assert blessing_query[keys.MODEL_BLESSING_KEY]["filter"] == (
        'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
    )
    model_query = executors[f"{model_resolver}_executor"]["resolver"]["outputArtifactQueries"]
    assert model_query[keys.MODEL_KEY]["filter"] == (
        'schema_title="tfx.Model" AND state=LIVE AND '
        "name=\"{{$.inputs.artifacts['input'].metadata['current_model_id']}}\""
    )
    tasks = spec["root"]["dag"]["tasks"]
    for consumer in ("Evaluator", "Validator"):
        assert tasks[consumer]["inputs"]["artifacts"]["baseline_model"]["taskOutputArtifact"] == {
            "producerTask": model_resolver,
            "outputArtifactKey": keys.MODEL_KEY,
        }


def test_compile_refuses_a_baseline_resolver_kfp_cannot_compile(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    assert (
        main(
            [
                "kfp",
                "compile",
                "--output",
                str(path),
                "--pipeline-root",
                PIPELINE_ROOT,
                "--baseline",
                baseline.LATEST_POLICY_MODEL,
            ]
        )
        == 2
    )
    assert baseline.LATEST_POLICY_MODEL in capsys.readouterr().err
    assert not path.exists()


def test_compile_refuses_an_output_that_is_not_yaml(tmp_path, capsys):
    assert (
        main(
            [
                "kfp",
                "compile",
                "--output",
                str(tmp_path / "pipeline.json"),
                "--pipeline-root",
                "gs://b",
            ]
        )
        == 2
    )
    assert "pipeline.json" in capsys.readouterr().err


def test_compile_refuses_a_minio_pipeline_root_tfx_cannot_write(tmp_path, capsys):
    root = "minio://mlpipeline/v2/artifacts"
    assert (
        main(["kfp", "compile", "--output", str(tmp_path / "p.yaml"), "--pipeline-root", root]) == 2
    )
    assert root in capsys.readouterr().err
    assert not (tmp_path / "p.yaml").exists()


class _KfpApi(http.server.BaseHTTPRequestHandler):
    """The KFP API server endpoints `kfp.Client` calls to start a run; records the runs it gets."""

    runs = []

    def do_GET(self):
        if self.path.startswith("/apis/v2beta1/healthz"):
            self._reply({"multi_user": False})
        elif self.path.startswith("/apis/v2beta1/experiments"):
            self._reply(
                {
                    "experiments": [{"experiment_id": "exp-1", "display_name": "glassbox"}],
                    "total_size": 1,
                }
            )
        else:
            self._reply({"error": self.path}, status=404)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/apis/v2beta1/runs":
            self.runs.append(body)
            self._reply({**body, "run_id": "run-1"})
        else:
            self._reply({"error": self.path}, status=404)

    def _reply(self, payload, status=200):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def kfp_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KfpApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _KfpApi.runs.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_submit_starts_a_run_of_the_compiled_spec_with_the_run_arguments(
    compiled, spec, kfp_api, capsys
):
    assert (
        main(
            [
                "kfp",
                "submit",
                "--host",
                kfp_api,
                "--package",
                str(compiled),
                "--data-root",
                "gs://other/data",
                "--pipeline-root",
                "gs://other/root",
                "--run-name",
                "nightly",
                "--experiment",
                "glassbox",
                "--service-account",
                "glassbox-pipeline-runner",
            ]
        )
        == 0
    )

    assert "Started run run-1" in capsys.readouterr().out
    (run,) = _KfpApi.runs
    assert run["display_name"] == "nightly"
    assert run["experiment_id"] == "exp-1"
    assert run["pipeline_spec"] == spec
    assert run["runtime_config"] == {
        "parameters": {"data_root": "gs://other/data"},
        "pipeline_root": "gs://other/root",
    }
    assert run["service_account"] == "glassbox-pipeline-runner"


def test_submit_refuses_a_missing_pipeline_file(tmp_path, capsys):
    assert (
        main(
            [
                "kfp",
                "submit",
                "--host",
                "http://127.0.0.1:9",
                "--package",
                str(tmp_path / "none.yaml"),
            ]
        )
        == 2
    )
    assert "none.yaml" in capsys.readouterr().err


def _hashed_id(name):
    """TFX's id for an input artifact named `name` in a container (kubeflow_v2_entrypoint_utils)."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % (1 << 63)


def test_entrypoint_gives_untyped_inputs_their_declared_type():
    executor_input = pipeline_spec_pb2.ExecutorInput()
    untyped = executor_input.inputs.artifacts["examples"].artifacts.add(
        name="7", uri="gs://b/examples"
    )
    untyped.type.instance_schema = ""  # as the open-source KFP backend sends inputs
    typed = executor_input.inputs.artifacts["model"].artifacts.add(name="8", uri="gs://b/model")
    typed.type.schema_title = "tfx.Model"
    inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
    inputs_spec.artifacts["examples"].artifact_type.instance_schema = "title: tfx.Examples\n"
    inputs_spec.artifacts["model"].artifact_type.instance_schema = "title: tfx.Model\n"

    tfx_entrypoint.fill_input_types(executor_input, inputs_spec)

    assert untyped.type.instance_schema == "title: tfx.Examples\n"
    assert typed.type.schema_title == "tfx.Model"


def test_entrypoint_passes_model_ids_between_tasks_as_names_and_gives_tfx_its_exact_ids():
    # Task 1 (e.g. the Validator) had inputs KFP named "12" and "5"; TFX wrote their ids, as
    # doubles, into the blessing's metadata.
    executor_input = pipeline_spec_pb2.ExecutorInput()
    executor_input.inputs.artifacts["model"].artifacts.add(name="12")
    executor_input.inputs.artifacts["baseline_model"].artifacts.add(name="5")
    executor_output = pipeline_spec_pb2.ExecutorOutput()
    blessing = executor_output.artifacts["blessing"].artifacts.add()
    json_format.ParseDict(
        {
            "blessed": 1.0,
            "current_model_id": float(_hashed_id("12")),
            "baseline_model_id": float(_hashed_id("5")),
            "current_model": "gs://b/model",
        },
        blessing.metadata,
    )

    tfx_entrypoint.model_ids_to_names(executor_input, executor_output)

    assert json_format.MessageToDict(blessing.metadata) == {
        "blessed": 1.0,
        "current_model_id": "12",
        "baseline_model_id": "5",
        "current_model": "gs://b/model",
    }

    # Task 2 gets the blessing as an input: TFX sees the exact ids it gives artifacts "12" and "5".
    next_input = pipeline_spec_pb2.ExecutorInput()
    next_input.inputs.artifacts["model_blessing"].artifacts.add().CopyFrom(blessing)

    tfx_entrypoint.model_ids_to_tfx(next_input)

    (received,) = next_input.inputs.artifacts["model_blessing"].artifacts
    assert received.custom_properties["current_model_id"].int_value == _hashed_id("12")
    assert received.custom_properties["baseline_model_id"].int_value == _hashed_id("5")
    assert set(received.metadata.fields) == {"blessed", "current_model"}


def test_entrypoint_gives_kfps_html_type_the_glassbox_class_tfx_imports():
    executor_input = pipeline_spec_pb2.ExecutorInput()
    report = executor_input.outputs.artifacts["report"].artifacts.add(uri="gs://b/report")
    report.type.instance_schema = "title: system.HTML\ntype: object\n"  # as TFX compiles it
    model = executor_input.inputs.artifacts["model"].artifacts.add(uri="gs://b/model")
    model.type.instance_schema = "title: tfx.Model\ntype: object\n"

    tfx_entrypoint.kfp_types_to_classes(executor_input)

    [parsed] = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(
        executor_input.outputs.artifacts, {}
    )["report"]
    assert isinstance(parsed, HTMLReport) and parsed.type_name == "system.HTML"
    assert parsed.uri == "gs://b/report"
    assert model.type.instance_schema == "title: tfx.Model\ntype: object\n"  # left as it was
