"""Runs a compiled KFP pipeline spec without a cluster, task by task, as the KFP v2 backend would.

What it mimics of KFP's driver and launcher (kubeflow/pipelines backend/src/v2: driver/,
component/launcher_v2.go, metadata/), for each task in dependency order:

- Container tasks: the ExecutorInput gets the task's parameters (constants, run arguments or the
  pipeline's defaults) and its input artifacts as the driver reads them back from ML Metadata:
  name = the MLMD id, metadata = the artifact's custom properties, and an empty type schema, as the
  open-source backend sends it. Output artifacts get URIs {pipeline_root}/{pipeline}/{run}/{task}/
  {key} (the pipeline root must be a local directory). `{{$}}` is replaced by the ExecutorInput's JSON and the task's command runs with this
  venv's python. Then the executor output's URIs and metadata are merged into the outputs, which
  are recorded in ML Metadata converted as the launcher converts them: numbers become doubles
  (ints come back as floats), bools ints, lists and structs wrapped in {"list": ...}/{"struct": ...}.
- ExampleGen's `lifecycle.preCacheCheck` driver runs first in the same task, as on Vertex AI
  Pipelines (the open-source backend does not run lifecycle hooks).
- Resolver tasks, which the open-source backend refuses to compile ("resolver executors not
  implemented"), are resolved as Vertex AI Pipelines resolves them: each output query (clauses
  `schema_title=`, `state=`, `metadata.<key>.number_value=`, `name=` joined by AND, placeholders
  over the task's input artifacts) is evaluated over every artifact in ML Metadata, and the latest
  match is the output; no match, no artifact.

Not mimicked: caching, retries, conditions, loops, importers, output parameters, pod settings,
object-store transfers (URIs are local paths).
"""

from __future__ import annotations

import graphlib
import os
import re
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional

import yaml
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

MlmdArtifact = metadata_store_pb2.Artifact
# A task's outputs: output key -> MLMD artifacts (none when a resolver found nothing).
TaskOutputs = Dict[str, List[MlmdArtifact]]

_EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
_METADATA_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.artifacts\['([^']+)'\]\.metadata\['([^']+)'\]\}\}")


class TaskFailed(RuntimeError):
    """A task's command exited non-zero; the message ends with its log."""


def load_spec(path: str) -> pipeline_spec_pb2.PipelineSpec:
    with open(path) as f:
        return json_format.ParseDict(yaml.safe_load(f), pipeline_spec_pb2.PipelineSpec())


def schema_title(artifact_type: pipeline_spec_pb2.ArtifactTypeSchema) -> str:
    """The artifact type's name, as KFP's metadata client takes it from the schema."""
    if artifact_type.schema_title:
        return artifact_type.schema_title
    return yaml.safe_load(artifact_type.instance_schema)["title"]


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


def _text(value: struct_pb2.Value) -> str:
    """KFP's PbValueToText: a value in a string placeholder (numbers without a trailing .0)."""
    if value.WhichOneof("kind") == "number_value":
        number = value.number_value
        return str(int(number)) if number.is_integer() else repr(number)
    return value.string_value


class LocalKfp:
    """A KFP "cluster" in a directory: an ML Metadata store shared by its runs, and their artifacts."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = os.path.join(self.root, "metadata.sqlite")
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(config)

    def run(self, spec: pipeline_spec_pb2.PipelineSpec, run_id: str, arguments: Optional[Mapping[str, Any]] = None,
            pipeline_root: Optional[str] = None) -> Dict[str, TaskOutputs]:
        """Runs every task of the spec; returns each task's outputs. Raises TaskFailed.

        pipeline_root: the run's (default: the spec's defaultPipelineRoot), a local directory.
        """
        run_root = os.path.join(pipeline_root or spec.default_pipeline_root, spec.pipeline_info.name, run_id)
        parameters = self._run_parameters(spec, arguments or {})
        tasks = spec.root.dag.tasks
        executors = json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec),
                                          pipeline_spec_pb2.PipelineDeploymentConfig()).executors
        order = graphlib.TopologicalSorter({
            name: set(task.dependent_tasks) | {a.task_output_artifact.producer_task
                                               for a in task.inputs.artifacts.values()}
            for name, task in tasks.items()})
        outputs: Dict[str, TaskOutputs] = {}
        for name in order.static_order():
            task = tasks[name]
            inputs = {key: outputs[a.task_output_artifact.producer_task][a.task_output_artifact.output_artifact_key]
                      for key, a in task.inputs.artifacts.items()}
            component = spec.components[task.component_ref.name]
            executor = executors[component.executor_label]
            if executor.HasField("resolver"):
                outputs[name] = self._resolve(executor.resolver, inputs)
            elif executor.HasField("container"):
                outputs[name] = self._execute(executor.container, component, task, parameters, inputs,
                                              os.path.join(run_root, name))
            else:
                raise NotImplementedError(f"task {name}: {executor.WhichOneof('spec')} executors")
        return outputs

    @staticmethod
    def _run_parameters(spec: pipeline_spec_pb2.PipelineSpec, arguments: Mapping[str, Any]) -> Dict[str, struct_pb2.Value]:
        values = {}
        for name, definition in spec.root.input_definitions.parameters.items():
            if name in arguments:
                values[name] = json_format.ParseDict(arguments[name], struct_pb2.Value())
            elif definition.HasField("default_value"):
                values[name] = definition.default_value
            else:
                raise ValueError(f"the pipeline's parameter {name!r} has no default: pass it as a run argument")
        return values

    def _execute(self, container, component, task, parameters, inputs: TaskOutputs, task_root: str) -> TaskOutputs:
        executor_input = pipeline_spec_pb2.ExecutorInput()
        for key, spec in task.inputs.parameters.items():
            value = (spec.runtime_value.constant if spec.HasField("runtime_value")
                     else parameters[spec.component_input_parameter])
            executor_input.inputs.parameter_values[key].CopyFrom(value)
        for key, artifacts in inputs.items():
            if artifacts:
                executor_input.inputs.artifacts[key].artifacts.extend(runtime_artifact(a) for a in artifacts)
        for key, definition in component.output_definitions.artifacts.items():
            executor_input.outputs.artifacts[key].artifacts.add(
                uri=os.path.join(task_root, key), type=definition.artifact_type, metadata=definition.metadata)
        executor_input.outputs.output_file = os.path.join(task_root, "executor_output.json")
        os.makedirs(task_root, exist_ok=True)

        if container.lifecycle.HasField("pre_cache_check"):
            hook = container.lifecycle.pre_cache_check
            self._run_command([*hook.command, *hook.args], executor_input, task_root, "driver")
        self._run_command([*container.command, *container.args], executor_input, task_root, "executor")

        executor_output = pipeline_spec_pb2.ExecutorOutput()
        if os.path.exists(executor_input.outputs.output_file):
            with open(executor_input.outputs.output_file) as f:
                json_format.Parse(f.read(), executor_output, ignore_unknown_fields=True)
        return {key: [self._record(key, artifact, executor_output.artifacts.get(key))]
                for key, artifact_list in executor_input.outputs.artifacts.items()
                for artifact in artifact_list.artifacts}

    @staticmethod
    def _run_command(command: List[str], executor_input, task_root: str, log_name: str) -> None:
        executor_input_json = json_format.MessageToJson(executor_input)
        argv = [sys.executable if i == 0 and part == "python" else part.replace(_EXECUTOR_INPUT_PLACEHOLDER,
                                                                                executor_input_json)
                for i, part in enumerate(command)]
        leftover = [part for part in argv if "{{$" in part]
        if leftover:
            raise NotImplementedError(f"placeholders other than {_EXECUTOR_INPUT_PLACEHOLDER}: {leftover}")
        log_path = os.path.join(task_root, f"{log_name}.log")
        with open(log_path, "w") as log:
            code = subprocess.run(argv, cwd=task_root, stdout=log, stderr=subprocess.STDOUT).returncode
        if code:
            with open(log_path) as log:
                raise TaskFailed(f"{' '.join(argv[:3])} ... exited {code} in {task_root}:\n{log.read()[-5000:]}")

    def _record(self, key: str, artifact: pipeline_spec_pb2.RuntimeArtifact,
                output: Optional[pipeline_spec_pb2.ArtifactList]) -> MlmdArtifact:
        """The launcher's mergeRuntimeArtifacts + RecordArtifact."""
        if output is not None and output.artifacts:
            if output.artifacts[0].uri:
                artifact.uri = output.artifacts[0].uri
            for field, value in output.artifacts[0].metadata.fields.items():
                artifact.metadata.fields[field].CopyFrom(value)
        type_id = self.store.put_artifact_type(metadata_store_pb2.ArtifactType(name=schema_title(artifact.type)))
        mlmd_artifact = MlmdArtifact(type_id=type_id, uri=artifact.uri, state=MlmdArtifact.LIVE)
        for field, value in artifact.metadata.fields.items():
            mlmd_artifact.custom_properties[field].CopyFrom(to_mlmd_value(value))
        if "display_name" not in mlmd_artifact.custom_properties:
            mlmd_artifact.custom_properties["display_name"].string_value = key
        [mlmd_artifact.id] = self.store.put_artifacts([mlmd_artifact])
        return self.store.get_artifacts_by_id([mlmd_artifact.id])[0]

    def _resolve(self, resolver, inputs: TaskOutputs) -> TaskOutputs:
        return {key: self._latest_match(query.filter, inputs)
                for key, query in resolver.output_artifact_queries.items()}

    def _latest_match(self, query: str, inputs: TaskOutputs) -> List[MlmdArtifact]:
        """The latest artifact matching a Vertex AI artifact query (the clauses TFX compiles)."""
        def placeholder_value(match: re.Match) -> str:
            artifacts = inputs.get(match.group(1)) or []
            field = runtime_artifact(artifacts[0]).metadata.fields.get(match.group(2)) if artifacts else None
            return _text(field) if field is not None else "no such artifact"

        types = {t.id: t.name for t in self.store.get_artifact_types()}
        candidates = self.store.get_artifacts()
        for clause in _METADATA_PLACEHOLDER.sub(placeholder_value, query).split(" AND "):
            candidates = [a for a in candidates if _matches(clause, a, types[a.type_id])]
        return [max(candidates, key=lambda a: a.id)] if candidates else []


def _matches(clause: str, artifact: MlmdArtifact, type_name: str) -> bool:
    key, _, expected = clause.partition("=")
    expected = expected.strip('"')
    if key == "schema_title":
        return type_name == expected
    if key == "state":
        return MlmdArtifact.State.Name(artifact.state) == expected
    if key == "name":
        return str(artifact.id) == expected
    field = re.fullmatch(r"metadata\.(\w+)\.number_value", key)
    if field:
        value = artifact.custom_properties.get(field.group(1))
        return value is not None and to_struct_value(value).number_value == float(expected)
    raise NotImplementedError(f"resolver query clause {clause!r}")
