"""Reading runs back from ML Metadata: the latest artifact of a type, and what it was made from."""

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
    producers = {event.execution_id for event in store.get_events_by_artifact_ids([artifact.id])
                 if event.type == Event.OUTPUT}
    if len(producers) != 1:
        raise LookupError(f"artifact {artifact.id} ({artifact.uri}) has {len(producers)} producing executions, not 1")
    events = [event for event in store.get_events_by_execution_ids(list(producers)) if event.type == Event.INPUT]
    by_id = {a.id: a for a in store.get_artifacts_by_id([event.artifact_id for event in events])}
    inputs = collections.defaultdict(list)
    for event in events:
        inputs[event.path.steps[0].key].append(by_id[event.artifact_id])
    return dict(inputs)
