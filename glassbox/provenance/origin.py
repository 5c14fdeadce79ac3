"""Where an artifact came from, as ML Metadata records it: whether a task of a pipeline output it.

Anything that can write to ML Metadata can record an artifact, e.g. a ModelBlessing with
`blessed` = 1 naming a weak model, for a resolver to take as the baseline. What such a writer does
not get by writing the artifact is the record of a pipeline's task having output it: an OUTPUT
event, keyed by the component's output name, from a completed execution of the component's type in
the pipeline's context. That is what is checked here.
"""

from __future__ import annotations

from typing import Collection

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.provenance.errors import ForgedBlessingError

_DONE = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)


def output_by_pipeline_task(
    store: metadata_store.MetadataStore,
    artifact: metadata_store_pb2.Artifact,
    output_key: str,
    pipeline: metadata_store_pb2.Context,
    execution_types: Collection[str],
) -> bool:
    """Whether a completed (or cached) execution of one of `execution_types`, in the `pipeline`
    context, output `artifact` as its `output_key`."""
    execution_ids = [
        event.execution_id
        for event in store.get_events_by_artifact_ids([artifact.id])
        if event.type == metadata_store_pb2.Event.OUTPUT
        and event.path.steps
        and event.path.steps[0].key == output_key
    ]
    executions = [
        execution
        for execution in (store.get_executions_by_id(execution_ids) if execution_ids else [])
        if execution.last_known_state in _DONE
    ]
    if not executions:
        return False
    type_names = {
        execution_type.id: execution_type.name
        for execution_type in store.get_execution_types_by_id(
            list({execution.type_id for execution in executions})
        )
    }
    return any(
        type_names.get(execution.type_id) in execution_types
        and pipeline.id in {context.id for context in store.get_contexts_by_execution(execution.id)}
        for execution in executions
    )


def check_output_by_a_validation(
    store: metadata_store.MetadataStore,
    blessing: metadata_store_pb2.Artifact,
    pipeline: metadata_store_pb2.Context,
    execution_types: Collection[str],
) -> None:
    """Refuses a blessing that no completed task of the pipeline output as its `blessing` (as the
    Validator and the Evaluators name it). It is refused, not passed over for an earlier blessing,
    so that a forgery cannot go unnoticed either.

    Raises:
      ForgedBlessingError: naming the blessing, the pipeline and what ML Metadata lacks.
    """
    if output_by_pipeline_task(store, blessing, keys.BLESSING_KEY, pipeline, execution_types):
        return
    [context_type] = store.get_context_types_by_id([pipeline.type_id])
    raise ForgedBlessingError(
        f"ModelBlessing {blessing.id} ({blessing.uri}), the latest blessing of pipeline "
        f"{pipeline.name!r}, was not output by a validation of that pipeline: ML Metadata records "
        f"no completed {' or '.join(execution_types)} in its {context_type.name} context with it as "
        f"its '{keys.BLESSING_KEY}' output, so anything that can write to ML Metadata may have "
        "forged it. Refused, and no earlier blessing is taken instead (that would hide a forgery): "
        "check who wrote it, and once it is known not to be genuine set its state to DELETED, so "
        "that the latest genuine blessing is the baseline again"
    )
