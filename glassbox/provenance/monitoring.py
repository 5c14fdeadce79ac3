"""Monitoring in ML Metadata: which model a pipeline serves, which data spans have arrived since it
was blessed, which it was already monitored on, and the record of one monitoring.

One monitoring is one execution of type glassbox.Monitor, in the pipeline's context:

    Model -----(input "model")----+
    Examples --(input "examples")-+--> glassbox.Monitor --(output "evaluation")--> ModelEvaluation
                                                        --(output "validation")--> glassbox.ValidationResult

The execution holds the span, whether every check passed and the result in a sentence (`span`,
`passed`, `reason`).
The ModelEvaluation holds the span as its `span` property beside the evaluation's own (overall
metrics, the model's URI and id), so that `glassbox history` finds it with the pipeline's other
evaluations and orders them by span.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Dict, List, Mapping, Optional, Set

from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.provenance import lineage
from glassbox.provenance.errors import ProvenanceError
from glassbox.provenance.records import property_value

Artifact = metadata_store_pb2.Artifact
Event = metadata_store_pb2.Event


@dataclasses.dataclass(frozen=True)
class Served:
    """The pipeline's latest pushed model, and the evaluation data it was blessed on."""

    model: Artifact
    examples: Artifact  # the Examples its blessing's evaluation read
    example_splits: List[str]  # the splits that evaluation read
    span: Optional[int]  # their span


def served_model(
    store: metadata_store.MetadataStore, store_path: str, pipeline: metadata_store_pb2.Context
) -> Served:
    """The model the pipeline pushed last (a PushedModel recording a push), with the evaluation
    data of the validation that blessed it.

    Raises:
      ProvenanceError: the pipeline never pushed a model.
    """
    pushes = [
        a
        for a in lineage.pipeline_artifacts(store, pipeline, keys.PUSHED_MODEL_TYPE)
        if property_value(a, keys.PUSHED_PROPERTY) == 1
    ]
    if not pushes:
        raise ProvenanceError(
            f"pipeline {pipeline.name!r} in {store_path!r} has no pushed model to monitor"
        )
    inputs = lineage.producer_inputs(store, pushes[-1])
    (model,) = inputs[keys.MODEL_KEY]
    (blessing,) = inputs[keys.MODEL_BLESSING_KEY]
    validator_inputs = lineage.producer_inputs(store, blessing)
    evaluations = validator_inputs.get(keys.EVALUATION_KEY, [])
    # TFX's Evaluator blesses beside its evaluation: its own inputs are the evaluation's.
    evaluated = lineage.producer_inputs(store, evaluations[0]) if evaluations else validator_inputs
    (examples,) = evaluated[keys.EXAMPLES_KEY]
    splits = property_value(evaluations[0], keys.EXAMPLE_SPLITS_PROPERTY) if evaluations else None
    return Served(
        model=model,
        examples=examples,
        example_splits=_json_list(splits) or list(keys.DEFAULT_EXAMPLE_SPLITS),
        span=_span(examples),
    )


def spans(
    store: metadata_store.MetadataStore, pipeline: metadata_store_pb2.Context
) -> Dict[int, Artifact]:
    """The pipeline's Examples by span (the latest artifact of each span), in span order."""
    by_span: Dict[int, Artifact] = {}
    for examples in lineage.pipeline_artifacts(store, pipeline, keys.EXAMPLES_TYPE):
        span = _span(examples)
        if span is not None:
            by_span[span] = examples  # oldest first: the latest wins
    return dict(sorted(by_span.items()))


def monitored_spans(store: metadata_store.MetadataStore, model: Artifact) -> Set[int]:
    """The spans model was monitored on."""
    executions = store.get_executions_by_id(lineage.consumers(store, model, keys.MODEL_KEY))
    type_ids = {t.id for t in store.get_execution_types() if t.name == keys.MONITOR_EXECUTION_TYPE}
    return {
        property_value(e, keys.SPAN_PROPERTY)
        for e in executions
        if e.type_id in type_ids and e.last_known_state == metadata_store_pb2.Execution.COMPLETE
    }


def data_path_examples(uri: str, span: int) -> Artifact:
    """An Examples artifact for data outside the pipeline's ExampleGen (recorded by
    `record_monitoring` as the monitoring's input)."""
    examples = Artifact(uri=uri, state=Artifact.LIVE)
    examples.custom_properties[keys.SPAN_PROPERTY].int_value = span
    return examples


def record_monitoring(
    store: metadata_store.MetadataStore,
    pipeline: metadata_store_pb2.Context,
    model: Artifact,
    examples: Artifact,
    span: int,
    evaluation_dir: str,
    evaluation_properties: Mapping[str, object],
    validation_dir: str,
    passed: bool,
    reason: str,
) -> int:
    """Records one monitoring (the module's docstring) in one transaction; returns the
    ModelEvaluation's id. An Examples artifact without an id (`data_path_examples`) is recorded
    with it."""
    if not examples.type_id:
        examples.type_id = _artifact_type_id(store, keys.EXAMPLES_TYPE)
    evaluation = Artifact(
        uri=evaluation_dir,
        state=Artifact.LIVE,
        type_id=_artifact_type_id(store, keys.MODEL_EVALUATION_TYPE),
    )
    for name, value in {**evaluation_properties, keys.SPAN_PROPERTY: span}.items():
        _set(evaluation.custom_properties[name], value)
    validation = Artifact(
        uri=validation_dir,
        state=Artifact.LIVE,
        type_id=_artifact_type_id(store, keys.VALIDATION_RESULT_TYPE),
    )
    execution = metadata_store_pb2.Execution(
        type_id=store.put_execution_type(
            metadata_store_pb2.ExecutionType(name=keys.MONITOR_EXECUTION_TYPE)
        ),
        last_known_state=metadata_store_pb2.Execution.COMPLETE,
    )
    execution.custom_properties[keys.SPAN_PROPERTY].int_value = span
    execution.custom_properties[keys.PASSED_PROPERTY].int_value = int(passed)
    execution.custom_properties[keys.REASON_PROPERTY].string_value = reason
    _, artifact_ids, _ = store.put_execution(
        execution,
        [
            (model, _event(Event.INPUT, keys.MODEL_KEY)),
            (examples, _event(Event.INPUT, keys.EXAMPLES_KEY)),
            (evaluation, _event(Event.OUTPUT, keys.EVALUATION_KEY)),
            (validation, _event(Event.OUTPUT, keys.VALIDATION_KEY)),
        ],
        [pipeline],
    )
    return artifact_ids[2]


def is_monitoring(
    store: metadata_store.MetadataStore, execution: metadata_store_pb2.Execution
) -> bool:
    """Whether execution is a monitoring (`record_monitoring`'s)."""
    (execution_type,) = store.get_execution_types_by_id([execution.type_id])
    return execution_type.name == keys.MONITOR_EXECUTION_TYPE


def _artifact_type_id(store: metadata_store.MetadataStore, name: str) -> int:
    """The id of the artifact type called name (TFX's, with its properties, when registered)."""
    try:
        return store.get_artifact_type(name).id
    except errors.NotFoundError:
        return store.put_artifact_type(metadata_store_pb2.ArtifactType(name=name))


def _span(examples: Artifact) -> Optional[int]:
    span = property_value(examples, keys.SPAN_PROPERTY)
    return span if isinstance(span, int) else None


def _json_list(value: object) -> List[str]:
    return list(json.loads(value)) if isinstance(value, str) and value.startswith("[") else []


def _set(value: metadata_store_pb2.Value, python_value: object) -> None:
    if isinstance(python_value, bool) or isinstance(python_value, int):
        value.int_value = int(python_value)
    elif isinstance(python_value, float):
        value.double_value = python_value
    else:
        value.string_value = str(python_value)


def _event(event_type: int, key: str) -> Event:
    event = Event(type=event_type)
    event.path.steps.add().key = key
    event.path.steps.add().index = 0
    return event
