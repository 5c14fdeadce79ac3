"""Overrides in ML Metadata: recording a person's approval or veto of a Model, reading a model's.

One override is one execution of type glassbox.RecordOverride, in the Model's pipeline context:

    Model ----------(input "model")----+
    ModelBlessing --(input "blessing")-+--> glassbox.RecordOverride --(output "override")--> glassbox.Override
    (the model's latest, if any)

The Override artifact holds who, when, why, approved or vetoed, the Model's id and URI and the
overridden blessing's id (`Override.properties`). Being an output of an execution in the
pipeline's context, it is what a Validator's `overrides` channel (every Override of the
pipeline) resolves to; the Validator applies the latest one of its candidate.
"""

from __future__ import annotations

import datetime
from typing import List, Optional

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.provenance import lineage
from glassbox.provenance.errors import OverrideError, ProvenanceError
from glassbox.provenance.override import Override
from glassbox.provenance.records import property_value

Event = metadata_store_pb2.Event


def record_override(
    store_path: str,
    model_id: int,
    approved: bool,
    reason: str,
    by: str,
    pipeline: Optional[str] = None,
) -> Override:
    """Records that `by` approved (or vetoed) the Model with model_id, for reason; returns it.

    Everything is checked before anything is written, and the execution, its events and the
    Override are written in one transaction: an error records nothing.

    Raises:
      OverrideError: an empty reason or author, or a model in no pipeline's context.
      LineageError: no such store, artifact, Model or pipeline, or a model of another pipeline.
    """
    if not reason.strip():
        raise OverrideError(
            f"the reason {reason!r} is empty: say why the gate's verdict is overridden"
        )
    if not by.strip():
        raise OverrideError(f"the author {by!r} is empty: say who overrides the gate's verdict")
    reason, by = reason.strip(), by.strip()
    store = lineage.open_store(store_path, writable=True)
    model = lineage.artifact_by_id(store, store_path, model_id, keys.MODEL_TYPE)
    context = _pipeline_of(store, store_path, model, pipeline)
    try:
        blessing: Optional[metadata_store_pb2.Artifact] = lineage.latest_blessing(store, model)
    except ProvenanceError:
        blessing = None
    override = Override(
        model_id=model.id,
        model_uri=model.uri,
        approved=approved,
        reason=reason,
        by=by,
        time=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        blessing_id=blessing.id if blessing is not None else None,
    )
    artifact = metadata_store_pb2.Artifact(
        type_id=_type_id(store, keys.OVERRIDE_TYPE, metadata_store_pb2.ArtifactType),
        state=metadata_store_pb2.Artifact.LIVE,
    )
    for name, value in override.properties().items():
        field = "int_value" if isinstance(value, int) else "string_value"
        setattr(artifact.custom_properties[name], field, value)
    execution = metadata_store_pb2.Execution(
        type_id=_type_id(store, keys.OVERRIDE_EXECUTION_TYPE, metadata_store_pb2.ExecutionType),
        last_known_state=metadata_store_pb2.Execution.COMPLETE,
    )
    inputs = [(model, keys.MODEL_KEY)] + ([(blessing, keys.BLESSING_KEY)] if blessing else [])
    _, artifact_ids, _ = store.put_execution(
        execution,
        [(a, _event(Event.INPUT, key)) for a, key in inputs]
        + [(artifact, _event(Event.OUTPUT, keys.OVERRIDE_KEY))],
        [context],
    )
    return Override.from_properties(override.properties(), artifact_ids[-1])


def overrides_of(
    store: metadata_store.MetadataStore, model: metadata_store_pb2.Artifact
) -> List[Override]:
    """Every override recorded for model, oldest first."""
    recorded = lineage.outputs_of_type(
        store, lineage.consumers(store, model, keys.MODEL_KEY), keys.OVERRIDE_TYPE
    )
    return [
        Override.from_properties(
            {name: property_value(a, name) for name in a.custom_properties}, a.id
        )
        for a in recorded
    ]


def _pipeline_of(
    store: metadata_store.MetadataStore,
    store_path: str,
    model: metadata_store_pb2.Artifact,
    pipeline: Optional[str],
) -> metadata_store_pb2.Context:
    """The context of the model's pipeline (checked against pipeline, when given)."""
    contexts = [
        c
        for c in store.get_contexts_by_artifact(model.id)
        if c.type == keys.PIPELINE_CONTEXT_TYPE and pipeline in (None, c.name)
    ]
    if len(contexts) == 1:
        return contexts[0]
    if pipeline is not None:
        lineage.pipeline_context(store, store_path, pipeline)  # raises if there is no such pipeline
        raise OverrideError(
            f"Model {model.id} ({model.uri}) in {store_path!r} is not of pipeline {pipeline!r}"
        )
    raise OverrideError(
        f"Model {model.id} ({model.uri}) in {store_path!r} is in {len(contexts)} pipelines' "
        "contexts; choose one with --pipeline"
        if contexts
        else f"Model {model.id} ({model.uri}) in {store_path!r} is of no pipeline: no Validator "
        "run would see an override of it"
    )


def _type_id(store: metadata_store.MetadataStore, name: str, proto_type) -> int:
    put = (
        store.put_artifact_type
        if proto_type is metadata_store_pb2.ArtifactType
        else store.put_execution_type
    )
    return put(proto_type(name=name))


def _event(event_type: int, key: str) -> Event:
    event = Event(type=event_type)
    event.path.steps.add().key = key
    event.path.steps.add().index = 0
    return event
