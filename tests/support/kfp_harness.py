"""Runs a compiled KFP pipeline spec without a cluster, task by task, as the KFP v2 backend would.

What it mimics of KFP's driver and launcher (kubeflow/pipelines backend/src/v2: driver/,
component/launcher_v2.go, metadata/client.go), for each task in dependency order:

- A run is recorded in ML Metadata (MLMD) as KFP records it: a `system.Pipeline` context named
  after the pipeline (pipelineInfo.name) and the run's `system.PipelineRun` context, its child.
- Container tasks: the ExecutorInput gets the task's parameters (constants, run arguments or the
  pipeline's defaults) and its input artifacts as the driver reads them back from ML Metadata:
  name = the MLMD id, metadata = the artifact's custom properties, and an empty type schema, as the
  open-source backend sends it. Output artifacts get URIs {pipeline_root}/{pipeline}/{run}/{task}/
  {key} (the pipeline root must be a local directory). `{{$}}` is replaced by the ExecutorInput's
  JSON and the task's command runs with this venv's python, its environment holding
  `CONNECTION_CONFIG_ENV` (this store's connection, where a pod has KFP's MLMD gRPC address). Then
  the executor output's URIs and metadata are merged into the outputs (a URI outside the run's
  root fails the task, as the launcher's upload to the run's pipeline root does), which are
  recorded in ML Metadata converted as the launcher converts them: numbers become doubles (ints
  come back as floats), bools ints, lists and structs wrapped in {"list": ...}/{"struct": ...}. The task's
  execution is recorded with input and output events, associated with both contexts, which its
  artifacts are attributed to (KFP's PutExecution calls, in one call here).
- ExampleGen's `lifecycle.preCacheCheck` driver runs first in the same task, as on Vertex AI
  Pipelines (the open-source backend does not run lifecycle hooks).

Not mimicked: caching, retries, conditions, loops, importers, resolver tasks (which the open-source
backend refuses), output parameters, pod settings, object-store transfers (URIs are local paths,
but checked as the upload checks them).
"""

from __future__ import annotations

import dataclasses
import graphlib
import os
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional

import yaml
from google.protobuf import json_format, struct_pb2, text_format
from kfp.pipeline_spec import pipeline_spec_pb2
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.components.baseline_resolver.kfp_metadata import CONNECTION_CONFIG_ENV
from glassbox.kfp.tfx_entrypoint import type_title

MlmdArtifact = metadata_store_pb2.Artifact
# A task's artifacts: input or output key -> MLMD artifacts.
TaskOutputs = Dict[str, List[MlmdArtifact]]

_EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
RUN_CONTEXT_TYPE = "system.PipelineRun"
CONTAINER_EXECUTION_TYPE = keys.KFP_CONTAINER_EXECUTION_TYPE


class TaskFailed(RuntimeError):
    """A task's command exited non-zero; the message ends with its log."""


def load_spec(path: str) -> pipeline_spec_pb2.PipelineSpec:
    with open(path) as f:
        return json_format.ParseDict(yaml.safe_load(f), pipeline_spec_pb2.PipelineSpec())


def to_mlmd_value(value: struct_pb2.Value) -> metadata_store_pb2.Value:
    """KFP's StructValueToMLMDValue: how the launcher stores a metadata field."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return metadata_store_pb2.Value(string_value=value.string_value)
    if kind == "number_value":
        return metadata_store_pb2.Value(double_value=value.number_value)
    if kind == "bool_value":
        return metadata_store_pb2.Value(int_value=int(value.bool_value))
    if kind in ("list_value", "struct_value"):
        wrapped = struct_pb2.Struct()
        wrapped.fields[kind.split("_")[0]].CopyFrom(value)
        return metadata_store_pb2.Value(struct_value=wrapped)
    raise ValueError(f"KFP does not store metadata values of kind {kind}")


def to_struct_value(value: metadata_store_pb2.Value) -> struct_pb2.Value:
    """KFP's toRuntimeArtifact, per property: how the driver reads a stored one back."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return struct_pb2.Value(string_value=value.string_value)
    if kind in ("double_value", "int_value"):
        return struct_pb2.Value(number_value=float(getattr(value, kind)))
    if kind == "struct_value":
        return struct_pb2.Value(struct_value=value.struct_value)
    raise ValueError(f"KFP does not read MLMD values of kind {kind}")


def runtime_artifact(artifact: MlmdArtifact) -> pipeline_spec_pb2.RuntimeArtifact:
    """An MLMD artifact as the open-source driver passes it to a task (type schema left empty)."""
    result = pipeline_spec_pb2.RuntimeArtifact(name=str(artifact.id), uri=artifact.uri)
    for key, value in artifact.custom_properties.items():
        result.metadata.fields[key].CopyFrom(to_struct_value(value))
    result.type.instance_schema = ""
    return result


@dataclasses.dataclass(frozen=True)
class RunContexts:
    """A run's ML Metadata contexts, as KFP's driver creates them (metadata.Client.GetPipeline)."""

    pipeline: metadata_store_pb2.Context
    run: metadata_store_pb2.Context


class LocalKfp:
    """A KFP "cluster" in a directory: an ML Metadata store shared by its runs, and their artifacts.

    Tasks reach the store through the text-format ConnectionConfig at `connection_config_path`,
    named by `CONNECTION_CONFIG_ENV` in their environment. It opens the existing file only: a task
    must never query a store created empty.
    """

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = os.path.join(self.root, "metadata.sqlite")
        config.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        )
        self.store = metadata_store.MetadataStore(config)
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE
        self.connection_config_path = os.path.join(self.root, "metadata_connection.pbtxt")
        with open(self.connection_config_path, "w") as f:
            f.write(text_format.MessageToString(config))

    def start_run(self, pipeline_name: str, run_id: str, run_root: str = "") -> RunContexts:
        """The pipeline's context (created by its first run) and the run's, its child."""
        pipeline = self._context(keys.KFP_PIPELINE_CONTEXT_TYPE, pipeline_name)
        run = self._context(RUN_CONTEXT_TYPE, run_id, pipeline_root=run_root)
        self.store.put_parent_contexts(
            [metadata_store_pb2.ParentContext(child_id=run.id, parent_id=pipeline.id)]
        )
        return RunContexts(pipeline=pipeline, run=run)

    def _context(self, type_name: str, name: str, **properties: str) -> metadata_store_pb2.Context:
        existing = self.store.get_context_by_type_and_name(type_name, name)
        if existing is not None:
            return existing
        context = metadata_store_pb2.Context(
            type_id=self.store.put_context_type(metadata_store_pb2.ContextType(name=type_name)),
            name=name,
        )
        for key, value in properties.items():
            context.custom_properties[key].string_value = value
        [context.id] = self.store.put_contexts([context])
        return context

    def publish(
        self,
        contexts: RunContexts,
        task: str,
        inputs: TaskOutputs,
        outputs: Mapping[str, pipeline_spec_pb2.RuntimeArtifact],
    ) -> TaskOutputs:
        """Records a completed task: its outputs as the launcher converts them (RecordArtifact) and
        its execution with input and output events, in the run's contexts (PutExecution)."""
        recorded = {key: [self._record(key, artifact)] for key, artifact in outputs.items()}
        execution = metadata_store_pb2.Execution(
            type_id=self.store.put_execution_type(
                metadata_store_pb2.ExecutionType(name=CONTAINER_EXECUTION_TYPE)
            ),
            last_known_state=metadata_store_pb2.Execution.COMPLETE,
        )
        execution.custom_properties["task_name"].string_value = task
        execution.custom_properties["display_name"].string_value = task
        events = [
            (
                artifact,
                metadata_store_pb2.Event(
                    type=event_type,
                    path=metadata_store_pb2.Event.Path(
                        steps=[metadata_store_pb2.Event.Path.Step(key=key)]
                    ),
                ),
            )
            for event_type, artifacts in (
                (metadata_store_pb2.Event.INPUT, inputs),
                (metadata_store_pb2.Event.OUTPUT, recorded),
            )
            for key, artifact_list in artifacts.items()
            for artifact in artifact_list
        ]
        self.store.put_execution(execution, events, [contexts.pipeline, contexts.run])
        return recorded

    def run(
        self,
        spec: pipeline_spec_pb2.PipelineSpec,
        run_id: str,
        arguments: Optional[Mapping[str, Any]] = None,
        pipeline_root: Optional[str] = None,
    ) -> Dict[str, TaskOutputs]:
        """Runs every task of the spec; returns each task's outputs. Raises TaskFailed.

        pipeline_root: the run's (default: the spec's defaultPipelineRoot), a local directory.
        """
        run_root = os.path.join(
            pipeline_root or spec.default_pipeline_root, spec.pipeline_info.name, run_id
        )
        contexts = self.start_run(spec.pipeline_info.name, run_id, run_root)
        parameters = self._run_parameters(spec, arguments or {})
        tasks = spec.root.dag.tasks
        executors = json_format.ParseDict(
            json_format.MessageToDict(spec.deployment_spec),
            pipeline_spec_pb2.PipelineDeploymentConfig(),
        ).executors
        order = graphlib.TopologicalSorter(
            {
                name: set(task.dependent_tasks)
                | {a.task_output_artifact.producer_task for a in task.inputs.artifacts.values()}
                for name, task in tasks.items()
            }
        )
        outputs: Dict[str, TaskOutputs] = {}
        for name in order.static_order():
            task = tasks[name]
            inputs = {
                key: outputs[a.task_output_artifact.producer_task][
                    a.task_output_artifact.output_artifact_key
                ]
                for key, a in task.inputs.artifacts.items()
            }
            component = spec.components[task.component_ref.name]
            executor = executors[component.executor_label]
            if not executor.HasField("container"):
                raise NotImplementedError(f"task {name}: {executor.WhichOneof('spec')} executors")
            outputs[name] = self.publish(
                contexts,
                name,
                inputs,
                self._execute(
                    executor.container,
                    component,
                    task,
                    parameters,
                    inputs,
                    os.path.join(run_root, name),
                ),
            )
        return outputs

    @staticmethod
    def _run_parameters(
        spec: pipeline_spec_pb2.PipelineSpec, arguments: Mapping[str, Any]
    ) -> Dict[str, struct_pb2.Value]:
        values = {}
        for name, definition in spec.root.input_definitions.parameters.items():
            if name in arguments:
                values[name] = json_format.ParseDict(arguments[name], struct_pb2.Value())
            elif definition.HasField("default_value"):
                values[name] = definition.default_value
            else:
                raise ValueError(
                    f"the pipeline's parameter {name!r} has no default: pass it as a run argument"
                )
        return values

    def _execute(
        self, container, component, task, parameters, inputs: TaskOutputs, task_root: str
    ) -> Dict[str, pipeline_spec_pb2.RuntimeArtifact]:
        """Runs the task's command; its outputs merged with the executor output (the launcher's
        mergeRuntimeArtifacts: the executor's URI, if any, replaces the output's), which fails
        for a URI outside the run's root, as the launcher's upload of the output does."""
        executor_input = pipeline_spec_pb2.ExecutorInput()
        for key, spec in task.inputs.parameters.items():
            value = (
                spec.runtime_value.constant
                if spec.HasField("runtime_value")
                else parameters[spec.component_input_parameter]
            )
            executor_input.inputs.parameter_values[key].CopyFrom(value)
        for key, artifacts in inputs.items():
            executor_input.inputs.artifacts[key].artifacts.extend(
                runtime_artifact(a) for a in artifacts
            )
        for key, definition in component.output_definitions.artifacts.items():
            executor_input.outputs.artifacts[key].artifacts.add(
                uri=os.path.join(task_root, key),
                type=definition.artifact_type,
                metadata=definition.metadata,
            )
        executor_input.outputs.output_file = os.path.join(task_root, "executor_output.json")
        os.makedirs(task_root, exist_ok=True)

        if container.lifecycle.HasField("pre_cache_check"):
            hook = container.lifecycle.pre_cache_check
            self._run_command([*hook.command, *hook.args], executor_input, task_root, "driver")
        self._run_command(
            [*container.command, *container.args], executor_input, task_root, "executor"
        )

        executor_output = pipeline_spec_pb2.ExecutorOutput()
        if os.path.exists(executor_input.outputs.output_file):
            with open(executor_input.outputs.output_file) as f:
                json_format.Parse(f.read(), executor_output, ignore_unknown_fields=True)
        outputs = {}
        run_root = os.path.dirname(task_root)
        for key, artifact_list in executor_input.outputs.artifacts.items():
            [artifact] = artifact_list.artifacts
            output = executor_output.artifacts.get(key)
            if output is not None and output.artifacts:
                if output.artifacts[0].uri:
                    artifact.uri = output.artifacts[0].uri
                for field, value in output.artifacts[0].metadata.fields.items():
                    artifact.metadata.fields[field].CopyFrom(value)
            # The launcher then uploads the output to its URI's key under the run's root (KeyFromURI).
            if not artifact.uri.startswith(run_root + os.sep):
                raise TaskFailed(
                    f"failed to upload output artifact {key!r}: URI {artifact.uri!r} does not have "
                    f"expected bucket prefix {run_root!r}"
                )
            outputs[key] = artifact
        return outputs

    def _run_command(
        self, command: List[str], executor_input, task_root: str, log_name: str
    ) -> None:
        executor_input_json = json_format.MessageToJson(executor_input)
        argv = [
            sys.executable
            if i == 0 and part == "python"
            else part.replace(_EXECUTOR_INPUT_PLACEHOLDER, executor_input_json)
            for i, part in enumerate(command)
        ]
        leftover = [part for part in argv if "{{$" in part]
        if leftover:
            raise NotImplementedError(
                f"placeholders other than {_EXECUTOR_INPUT_PLACEHOLDER}: {leftover}"
            )
        log_path = os.path.join(task_root, f"{log_name}.log")
        env = {**os.environ, CONNECTION_CONFIG_ENV: self.connection_config_path}
        with open(log_path, "w") as log:
            code = subprocess.run(
                argv, cwd=task_root, env=env, stdout=log, stderr=subprocess.STDOUT
            ).returncode
        if code:
            with open(log_path) as log:
                raise TaskFailed(
                    f"{' '.join(argv[:3])} ... exited {code} in {task_root}:\n{log.read()[-5000:]}"
                )

    def _record(self, key: str, artifact: pipeline_spec_pb2.RuntimeArtifact) -> MlmdArtifact:
        """The launcher's RecordArtifact: the artifact typed by its schema title, its metadata
        converted to custom properties."""
        type_id = self.store.put_artifact_type(
            metadata_store_pb2.ArtifactType(name=type_title(artifact.type))
        )
        mlmd_artifact = MlmdArtifact(type_id=type_id, uri=artifact.uri, state=MlmdArtifact.LIVE)
        for field, value in artifact.metadata.fields.items():
            mlmd_artifact.custom_properties[field].CopyFrom(to_mlmd_value(value))
        if "display_name" not in mlmd_artifact.custom_properties:
            mlmd_artifact.custom_properties["display_name"].string_value = key
        [mlmd_artifact.id] = self.store.put_artifacts([mlmd_artifact])
        return self.store.get_artifacts_by_id([mlmd_artifact.id])[0]


def record_validated_model(
    kfp: LocalKfp,
    pipeline_name: str,
    run_id: str,
    model_uri: str,
    blessed: bool,
    **blessing_metadata: Any,
) -> List[MlmdArtifact]:
    """A run of a pipeline whose Trainer output a Model at model_uri and whose Validator blessed it
    or not, recorded as KFP records them (the blessing's metadata as our entrypoint writes it,
    updated by blessing_metadata); returns [model, blessing]."""
    run = kfp.start_run(pipeline_name, run_id)
    [model] = kfp.publish(run, "Trainer", {}, {"model": output_artifact("tfx.Model", model_uri)})[
        "model"
    ]
    metadata = {
        "blessed": float(blessed),
        "current_model_id": str(model.id),
        "current_model": model.uri,
        **blessing_metadata,
    }
    [blessing] = kfp.publish(
        run,
        "Validator",
        {"model": [model]},
        {
            "blessing": output_artifact(
                "tfx.ModelBlessing", os.path.join(kfp.root, run_id, "blessing"), **metadata
            )
        },
    )["blessing"]
    return [model, blessing]


def output_artifact(title: str, uri: str, **metadata: Any) -> pipeline_spec_pb2.RuntimeArtifact:
    """A task's output artifact as its executor output gives it (metadata numbers JSON doubles)."""
    artifact = pipeline_spec_pb2.RuntimeArtifact(uri=uri)
    artifact.type.instance_schema = f"title: {title}\ntype: object\n"
    json_format.ParseDict(metadata, artifact.metadata)
    return artifact


def kfp_ui_html_pages(store: metadata_store.MetadataStore, execution_id: int) -> Dict[str, str]:
    """The pages the KFP v2 UI shows in a task's Visualization tab, by display name: the task's
    OUTPUT artifacts of MLMD type system.HTML with a non-empty display_name, each the file read
    at its URI (frontend/src/components/viewers/MetricsVisualizations.tsx, getVertifiedHtmlArtifacts
    and getHtmlViewerConfig; the server reads the object named exactly by the URI)."""
    outputs = [
        event.artifact_id
        for event in store.get_events_by_execution_ids([execution_id])
        if event.type == metadata_store_pb2.Event.OUTPUT
    ]
    html_types = {t.id for t in store.get_artifact_types() if t.name == keys.HTML_TYPE}
    pages = {}
    for artifact in store.get_artifacts_by_id(outputs):
        name = artifact.custom_properties.get(keys.DISPLAY_NAME_PROPERTY)
        if artifact.type_id in html_types and name is not None and name.string_value:
            with open(artifact.uri, encoding="utf-8") as f:
                pages[name.string_value] = f.read()
    return pages
