"""Container entrypoint of the TFX components on Kubeflow Pipelines: TFX's own
(`tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor`, same flags), with repairs.

1. Input artifact types. The open-source KFP backend hands a task its input artifacts with an
   empty type schema (tensorflow/tfx#7768), from which TFX's entrypoint cannot tell the artifact
   class. An empty type is filled from the component's input definitions, which
   KubeflowV2DagRunner passes with pipeline spec 2.1 (`--json_serialized_inputs_spec_args`).
2. Model ids (`current_model_id`, `baseline_model_id` of a ModelBlessing or ModelEvaluation).
   In a container, TFX's id of an artifact is a 63-bit hash of its KFP name, and int metadata
   crosses task boundaries as a JSON double, which cannot hold it. So ids leave a task as the
   artifact's name, which the KFP resolver of LatestBlessedModelStrategy matches against artifact
   names (TFX's entrypoint does this for its own Evaluator's blessing only), and enter the next
   task as TFX's exact id of that name, equal to the id TFX gives the artifact itself there.
3. KFP's own types. TFX's entrypoint imports the class of a type it does not know by the type's
   name (`glassbox.ValidationResult` is `glassbox.ValidationResult`), which cannot be done for a
   type of KFP's (`system.HTML`, the type of the Evaluator's and Validator's `report`, which the
   KFP UI shows); such a type is renamed, for TFX's entrypoint only, to its glassbox class's path.
   KFP records the outputs with the types of its own copy of the ExecutorInput.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from glassbox import garbage_collection

# The process's libraries (TensorFlow and TFX: 6 full collections while they load) load without
# collections, and are left out of later ones (glassbox.garbage_collection); this package's root
# has already deferred their needless imports and spared the collections at exit.
with garbage_collection.imports_uncollected():
    import yaml
    from absl import app
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.dsl.io import fileio
    from tfx.orchestration.kubeflow.v2.container import (
        kubeflow_v2_entrypoint_utils,
        kubeflow_v2_run_executor,
    )
    from tfx.utils import import_utils

    from glassbox import keys
    from glassbox.artifacts import HTMLReport

MODEL_ID_PROPERTIES = (keys.CURRENT_MODEL_ID_PROPERTY, keys.BASELINE_MODEL_ID_PROPERTY)
# KFP's types of glassbox's artifact classes, and the classes' paths.
CLASS_OF_KFP_TYPE = {HTMLReport.TYPE_NAME: f"{HTMLReport.__module__}.{HTMLReport.__qualname__}"}


def tfx_id(name: str) -> int:
    """TFX's id, in a container, of the artifact KFP names `name`."""
    return kubeflow_v2_entrypoint_utils._get_hashed_id(name, {})  # pylint: disable=protected-access


def fill_input_types(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    inputs_spec: pipeline_spec_pb2.ComponentInputsSpec,
) -> None:
    """Gives every input artifact without a type schema the type its component declares."""
    for key, artifact_list in executor_input.inputs.artifacts.items():
        for artifact in artifact_list.artifacts:
            if not (artifact.type.instance_schema or artifact.type.schema_title):
                artifact.type.CopyFrom(inputs_spec.artifacts[key].artifact_type)


def type_title(artifact_type: pipeline_spec_pb2.ArtifactTypeSchema) -> Optional[str]:
    """The type's name, as KFP's metadata client takes it from the schema (None: no schema)."""
    if artifact_type.schema_title:
        return artifact_type.schema_title
    if artifact_type.instance_schema:
        return yaml.safe_load(artifact_type.instance_schema).get("title")
    return None


def kfp_types_to_classes(executor_input: pipeline_spec_pb2.ExecutorInput) -> None:
    """Gives every artifact of a KFP type that a glassbox class has (CLASS_OF_KFP_TYPE) that
    class's path as its type, which TFX's entrypoint imports."""
    for artifacts in (executor_input.inputs.artifacts, executor_input.outputs.artifacts):
        for artifact_list in artifacts.values():
            for artifact in artifact_list.artifacts:
                class_path = CLASS_OF_KFP_TYPE.get(type_title(artifact.type))
                if class_path:
                    artifact.type.schema_title = class_path


def model_ids_to_tfx(executor_input: pipeline_spec_pb2.ExecutorInput) -> None:
    """Turns input metadata model ids given as artifact names into TFX's exact int ids (moved to
    the artifacts' custom_properties, which, unlike metadata, hold ints)."""
    for artifact_list in executor_input.inputs.artifacts.values():
        for artifact in artifact_list.artifacts:
            for key in MODEL_ID_PROPERTIES:
                value = artifact.metadata.fields.get(key)
                if value is not None and value.WhichOneof("kind") == "string_value":
                    artifact.custom_properties[key].int_value = tfx_id(value.string_value)
                    del artifact.metadata.fields[key]


def model_ids_to_names(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    executor_output: pipeline_spec_pb2.ExecutorOutput,
) -> None:
    """Turns output metadata model ids that are TFX's ids of input artifacts (written as JSON
    doubles, so compared as doubles) into those artifacts' names."""
    names = {
        float(tfx_id(artifact.name)): artifact.name
        for artifact_list in executor_input.inputs.artifacts.values()
        for artifact in artifact_list.artifacts
        if artifact.name
    }
    for artifact_list in executor_output.artifacts.values():
        for artifact in artifact_list.artifacts:
            for key in MODEL_ID_PROPERTIES:
                value = artifact.metadata.fields.get(key)
                if (
                    value is not None
                    and value.WhichOneof("kind") == "number_value"
                    and value.number_value in names
                ):
                    value.string_value = names[value.number_value]


def _run(parsed_args: Tuple[object, List[str]]) -> None:
    args, beam_args = parsed_args
    executor_input = json_format.Parse(
        args.json_serialized_invocation_args,
        pipeline_spec_pb2.ExecutorInput(),
        ignore_unknown_fields=True,
    )
    if args.json_serialized_inputs_spec_args:
        fill_input_types(
            executor_input,
            json_format.Parse(
                args.json_serialized_inputs_spec_args,
                pipeline_spec_pb2.ComponentInputsSpec(),
                ignore_unknown_fields=True,
            ),
        )
    kfp_types_to_classes(executor_input)
    model_ids_to_tfx(executor_input)
    args.json_serialized_invocation_args = json_format.MessageToJson(executor_input)
    kubeflow_v2_run_executor.main((args, beam_args))

    output_file = executor_input.outputs.output_file
    with fileio.open(output_file, "r") as f:
        executor_output = json_format.Parse(f.read(), pipeline_spec_pb2.ExecutorOutput())
    model_ids_to_names(executor_input, executor_output)
    with fileio.open(output_file, "w") as f:
        f.write(json_format.MessageToJson(executor_output))


def _main(parsed_args: Tuple[object, List[str]]) -> None:
    """The task's process: the executor's module, which TFX's entrypoint would import by its path
    (the Evaluator's loads TFMA's evaluators and metrics, tf_keras, nltk and SciPy: one more full
    collection), is imported first, without collections, as the libraries above are; then `_run`."""
    with garbage_collection.imports_uncollected():
        import_utils.import_class_by_path(parsed_args[0].executor_class_path)
    _run(parsed_args)


if __name__ == "__main__":
    app.run(_main, flags_parser=kubeflow_v2_run_executor._parse_flags)  # pylint: disable=protected-access
