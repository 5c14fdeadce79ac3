"""Reading runs back from ML Metadata: stores, pipelines, artifacts by type or id, and the events
linking artifacts to the executions that produced and consumed them (by input/output key)."""

from __future__ import annotations

import collections
import os
from typing import Dict, Iterable, List, Optional, Set

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.provenance.errors import LineageError, ProvenanceError

Artifact = metadata_store_pb2.Artifact
Context = metadata_store_pb2.Context
Event = metadata_store_pb2.Event
Execution = metadata_store_pb2.Execution


def open_store(path: str, writable: bool = False) -> metadata_store.MetadataStore:
    """A connection to the SQLite ML Metadata store at path, read-only unless writable (never
    creates one)."""
    if not os.path.isfile(path):
        raise LineageError(f"ML Metadata store {path!r} does not exist")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE
        if writable
        else metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    )
    try:
        return metadata_store.MetadataStore(config)
    except RuntimeError as e:
        raise LineageError(f"{path!r} is not an ML Metadata store: {e}") from e


def pipeline_context(
    store: metadata_store.MetadataStore, store_path: str, name: Optional[str] = None
) -> Context:
    """The context of the pipeline called name; with no name, of the store's only pipeline."""
    pipelines = sorted(
        store.get_contexts_by_type(keys.PIPELINE_CONTEXT_TYPE),
        key=lambda context: context.name,
    )
    found = [context for context in pipelines if name is None or context.name == name]
    if len(found) == 1:
        return found[0]
    names = ", ".join(context.name for context in pipelines)
    if not pipelines:
        problem = "no pipeline runs" + (
            f" (asked for pipeline {name!r})" if name is not None else ""
        )
    elif name is None:
        problem = f"several pipelines, choose one: {names}"
    else:
        problem = f"no pipeline {name!r} (its pipelines: {names})"
    raise LineageError(f"ML Metadata store {store_path!r} holds {problem}")


def pipeline_artifacts(
    store: metadata_store.MetadataStore, pipeline: Context, type_name: str
) -> List[Artifact]:
    """The pipeline's published (live) artifacts of type_name, oldest first."""
    type_ids = _type_ids(store, type_name)
    artifacts = [
        a
        for a in store.get_artifacts_by_context(pipeline.id)
        if a.type_id in type_ids and a.state == Artifact.LIVE
    ]
    return sorted(artifacts, key=lambda a: (a.create_time_since_epoch, a.id))


def artifact_by_id(
    store: metadata_store.MetadataStore, store_path: str, artifact_id: int, type_name: str
) -> Artifact:
    """The artifact with this id, which must be of type_name."""
    found = store.get_artifacts_by_id([artifact_id])
    if not found:
        raise LineageError(
            f"ML Metadata store {store_path!r} holds no artifact with id {artifact_id}"
        )
    actual = type_of(store, found[0])
    if actual != type_name:
        raise LineageError(
            f"artifact {artifact_id} in {store_path!r} is a {actual} ({found[0].uri}), not a {type_name}"
        )
    return found[0]


def type_of(store: metadata_store.MetadataStore, artifact: Artifact) -> str:
    """The name of an artifact's type, e.g. 'Model'."""
    return store.get_artifact_types_by_id([artifact.type_id])[0].name


def outputs_of_type(
    store: metadata_store.MetadataStore, execution_ids: Iterable[int], type_name: str
) -> List[Artifact]:
    """The artifacts of type_name that the executions output, oldest first."""
    type_ids = _type_ids(store, type_name)
    events = [
        event
        for event in store.get_events_by_execution_ids(list(execution_ids))
        if event.type == Event.OUTPUT
    ]
    return sorted(
        (
            a
            for a in store.get_artifacts_by_id(list({event.artifact_id for event in events}))
            if a.type_id in type_ids
        ),
        key=lambda a: a.id,
    )


def latest_artifact(store: metadata_store.MetadataStore, type_name: str) -> Artifact:
    """The most recently registered artifact of type_name (e.g. 'ModelEvaluation')."""
    artifacts = store.get_artifacts_by_type(type_name)
    if not artifacts:
        raise LineageError(f"ML Metadata holds no {type_name} artifact")
    return max(artifacts, key=lambda artifact: artifact.id)


def latest_blessing(store: metadata_store.MetadataStore, model: Artifact) -> Artifact:
    """The latest ModelBlessing made with model as the candidate (`candidate_input`)."""
    blessings = [
        blessing
        for blessing in outputs_of_type(store, consumers(store, model), keys.MODEL_BLESSING_TYPE)
        if model.id
        in {
            a.id
            for a in candidate_input(
                execution_artifacts(store, producer_execution(store, blessing).id, Event.INPUT),
                blessing,
            )
        }
    ]
    if not blessings:
        raise ProvenanceError(
            f"model {model.id} ({model.uri}) was never validated: no ModelBlessing judges it"
        )
    return blessings[-1]


def candidate_input(inputs: Dict[str, List[Artifact]], blessing: Artifact) -> List[Artifact]:
    """The candidate among the inputs (by key) of the execution that made blessing: its `model`
    input; when the candidate was also the baseline, ML Metadata may keep only the baseline's
    event of it, so the `baseline_model` input the blessing names as its current model."""
    if keys.MODEL_KEY in inputs:
        return inputs[keys.MODEL_KEY]
    current = blessing.custom_properties.get(keys.CURRENT_MODEL_ID_PROPERTY)
    return [
        a
        for a in inputs.get(keys.BASELINE_MODEL_KEY, [])
        if current is not None and a.id == current.int_value
    ]


def producer_execution(store: metadata_store.MetadataStore, artifact: Artifact) -> Execution:
    """The execution that output artifact."""
    return store.get_executions_by_id(
        [_only_execution(store, artifact, Event.OUTPUT, "producing")]
    )[0]


def producer_inputs(
    store: metadata_store.MetadataStore, artifact: Artifact
) -> Dict[str, List[Artifact]]:
    """The inputs of the execution that output artifact, by the key it consumed them under."""
    return execution_artifacts(
        store, _only_execution(store, artifact, Event.OUTPUT, "producing"), Event.INPUT
    )


def consumer_outputs(
    store: metadata_store.MetadataStore, artifact: Artifact
) -> Dict[str, List[Artifact]]:
    """The outputs of the execution that consumed artifact, by the key it output them under."""
    return execution_artifacts(
        store, _only_execution(store, artifact, Event.INPUT, "consuming"), Event.OUTPUT
    )


def consumers(
    store: metadata_store.MetadataStore, artifact: Artifact, key: Optional[str] = None
) -> List[int]:
    """The ids of the executions that took artifact as an input (under key, if given), oldest first."""
    return sorted(
        {
            event.execution_id
            for event in store.get_events_by_artifact_ids([artifact.id])
            if event.type == Event.INPUT and (key is None or event.path.steps[0].key == key)
        }
    )


def execution_artifacts(
    store: metadata_store.MetadataStore, execution_id: int, event_type: int
) -> Dict[str, List[Artifact]]:
    """An execution's inputs (event_type Event.INPUT) or outputs (Event.OUTPUT), by key."""
    events = [
        event
        for event in store.get_events_by_execution_ids([execution_id])
        if event.type == event_type
    ]
    by_id = {a.id: a for a in store.get_artifacts_by_id([event.artifact_id for event in events])}
    artifacts = collections.defaultdict(list)
    for event in events:
        artifacts[event.path.steps[0].key].append(by_id[event.artifact_id])
    return dict(artifacts)


def run_name(store: metadata_store.MetadataStore, execution: Execution) -> Optional[str]:
    """The name (run id) of the pipeline run an execution belongs to, if any."""
    return _context_name(store, execution, keys.PIPELINE_RUN_CONTEXT_TYPE)


def pipeline_name(store: metadata_store.MetadataStore, execution: Execution) -> Optional[str]:
    """The name of the pipeline an execution belongs to, if any."""
    return _context_name(store, execution, keys.PIPELINE_CONTEXT_TYPE)


def _context_name(
    store: metadata_store.MetadataStore, execution: Execution, context_type: str
) -> Optional[str]:
    return next(
        (
            context.name
            for context in store.get_contexts_by_execution(execution.id)
            if context.type == context_type
        ),
        None,
    )


def _type_ids(store: metadata_store.MetadataStore, type_name: str) -> Set[int]:
    return {t.id for t in store.get_artifact_types() if t.name == type_name}


def _only_execution(
    store: metadata_store.MetadataStore, artifact: Artifact, event_type: int, role: str
) -> int:
    executions = {
        event.execution_id
        for event in store.get_events_by_artifact_ids([artifact.id])
        if event.type == event_type
    }
    if len(executions) > 1:
        # A run with caching on records its cached executions as outputting the same artifacts.
        executions = {
            e.id
            for e in store.get_executions_by_id(list(executions))
            if e.last_known_state != Execution.CACHED
        }
    if len(executions) != 1:
        raise LineageError(
            f"artifact {artifact.id} ({artifact.uri}) has {len(executions)} {role} executions, not 1"
        )
    return executions.pop()
