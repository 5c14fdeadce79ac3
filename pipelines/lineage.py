"""Reading runs back from ML Metadata: the latest artifact of a type, its producer's inputs, its consumer's outputs."""

from __future__ import annotations

import collections
from typing import Dict, List

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

Artifact = metadata_store_pb2.Artifact
Event = metadata_store_pb2.Event


def latest_artifact(store: metadata_store.MetadataStore, type_name: str) -> Artifact:
    """The most recently registered artifact of type_name (e.g. 'ModelEvaluation')."""
    artifacts = store.get_artifacts_by_type(type_name)
    if not artifacts:
        raise LookupError(f"ML Metadata holds no {type_name} artifact")
    return max(artifacts, key=lambda artifact: artifact.id)


def producer_inputs(store: metadata_store.MetadataStore, artifact: Artifact) -> Dict[str, List[Artifact]]:
    """The inputs of the execution that output artifact, by the key it consumed them under."""
    return _artifacts_by_key(store, _only_execution(store, artifact, Event.OUTPUT, "producing"), Event.INPUT)


def consumer_outputs(store: metadata_store.MetadataStore, artifact: Artifact) -> Dict[str, List[Artifact]]:
    """The outputs of the execution that consumed artifact, by the key it output them under."""
    return _artifacts_by_key(store, _only_execution(store, artifact, Event.INPUT, "consuming"), Event.OUTPUT)


def _only_execution(store: metadata_store.MetadataStore, artifact: Artifact, event_type: int, role: str) -> int:
    executions = {event.execution_id for event in store.get_events_by_artifact_ids([artifact.id])
                  if event.type == event_type}
    if len(executions) != 1:
        raise LookupError(f"artifact {artifact.id} ({artifact.uri}) has {len(executions)} {role} executions, not 1")
    return executions.pop()


def _artifacts_by_key(store: metadata_store.MetadataStore, execution_id: int,
                      event_type: int) -> Dict[str, List[Artifact]]:
    events = [event for event in store.get_events_by_execution_ids([execution_id]) if event.type == event_type]
    by_id = {a.id: a for a in store.get_artifacts_by_id([event.artifact_id for event in events])}
    artifacts = collections.defaultdict(list)
    for event in events:
        artifacts[event.path.steps[0].key].append(by_id[event.artifact_id])
    return dict(artifacts)
