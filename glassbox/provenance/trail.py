"""The decision trail of a model, read from ML Metadata: the examples it was trained on, the
evaluation (its examples and EvalConfig), the validation (its verdict and every check), the
baseline it was compared with, and the push, if any.

    PushedModel --Pusher--> ModelBlessing --Validator--> ModelEvaluation --Evaluator--> Examples
                                 |                              |            +--> Model --Trainer--> Examples
                                 +--> ValidationResult          +--> baseline Model
                                                                Model <--RecordOverride-- Override (each)

A trail starts from a model, a blessing, a pushed model or the pipeline's latest push.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Optional, Union

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.provenance import lineage, records
from glassbox.provenance.errors import LineageError, ProvenanceError
from glassbox.provenance.override import Override
from glassbox.provenance.override_store import overrides_of
from glassbox.provenance.records import ArtifactRef, artifact_ref, property_value

Artifact = metadata_store_pb2.Artifact


@dataclasses.dataclass(frozen=True)
class Training:
    """The execution that produced the model: its type, id, parameters and input examples."""

    component: str
    execution_id: int
    parameters: Dict[str, Any]
    examples: List[ArtifactRef]


@dataclasses.dataclass(frozen=True)
class EvaluationStep:
    """The evaluation the decision rests on: the examples, splits and EvalConfig it ran with, and
    the overall metrics it recorded."""

    evaluation: ArtifactRef
    examples: ArtifactRef
    example_splits: Optional[List[str]]
    eval_config: Dict[str, Any]
    overall_metrics: Dict[str, float]


@dataclasses.dataclass(frozen=True)
class ValidationStep:
    """The verdict, its one-line reason and every check (decision.json's, when the validation has one)."""

    blessing: ArtifactRef
    blessed: bool
    reason: str
    result: Optional[ArtifactRef]
    checks: List[Dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class PushStep:
    """What the Pusher did with the model: pushed to destination, or not (not blessed)."""

    pushed_model: ArtifactRef
    pushed: bool
    destination: Optional[str]


@dataclasses.dataclass(frozen=True)
class DecisionTrail:
    """A model, how it was made, evaluated, judged and shipped."""

    store: str
    pipeline: Optional[str]
    run: Optional[str]
    model: ArtifactRef
    training: Training
    evaluation: EvaluationStep
    validation: ValidationStep
    baseline_model: Optional[ArtifactRef]
    push: Optional[PushStep]
    overrides: List[Override]  # every approval or veto of the model, oldest first

    def to_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def decision_trail(
    store_path: str,
    *,
    model_id: Optional[int] = None,
    blessing_id: Optional[int] = None,
    pushed_model_id: Optional[int] = None,
    pipeline: Optional[str] = None,
) -> DecisionTrail:
    """The trail of the model with model_id (its latest validation), of the blessing with
    blessing_id, of the push with pushed_model_id, or, with none of them, of the pipeline's latest
    push.

    Raises:
      LineageError: no such store, pipeline or artifact, an artifact of another type or pipeline.
      ProvenanceError: the model was never validated, the push did not happen, the pipeline never pushed.
    """
    given = [i for i in (model_id, blessing_id, pushed_model_id) if i is not None]
    if len(given) > 1:
        raise ValueError("give at most one of model_id, blessing_id and pushed_model_id")
    store = lineage.open_store(store_path)
    if model_id is not None:
        blessing = lineage.latest_blessing(
            store,
            _in_pipeline(
                store,
                store_path,
                pipeline,
                lineage.artifact_by_id(store, store_path, model_id, keys.MODEL_TYPE),
            ),
        )
    elif blessing_id is not None:
        blessing = _in_pipeline(
            store,
            store_path,
            pipeline,
            lineage.artifact_by_id(store, store_path, blessing_id, keys.MODEL_BLESSING_TYPE),
        )
    else:
        blessing = _blessing_of_push(
            store, _pushed_model(store, store_path, pushed_model_id, pipeline)
        )
    return _trail(store, store_path, blessing)


def _in_pipeline(
    store: metadata_store.MetadataStore,
    store_path: str,
    pipeline: Optional[str],
    artifact: Artifact,
) -> Artifact:
    if pipeline is not None:
        context = lineage.pipeline_context(store, store_path, pipeline)
        if context.id not in {c.id for c in store.get_contexts_by_artifact(artifact.id)}:
            raise LineageError(
                f"artifact {artifact.id} ({artifact.uri}) in {store_path!r} is not of "
                f"pipeline {pipeline!r}"
            )
    return artifact


def _pushed_model(
    store: metadata_store.MetadataStore,
    store_path: str,
    pushed_model_id: Optional[int],
    pipeline: Optional[str],
) -> Artifact:
    """The PushedModel with this id, or the pipeline's latest that records a push."""
    if pushed_model_id is None:
        context = lineage.pipeline_context(store, store_path, pipeline)
        pushes = [
            a
            for a in lineage.pipeline_artifacts(store, context, keys.PUSHED_MODEL_TYPE)
            if property_value(a, keys.PUSHED_PROPERTY) == 1
        ]
        if not pushes:
            raise ProvenanceError(
                f"pipeline {context.name!r} in {store_path!r} has never pushed a model"
            )
        return pushes[-1]
    pushed = _in_pipeline(
        store,
        store_path,
        pipeline,
        lineage.artifact_by_id(store, store_path, pushed_model_id, keys.PUSHED_MODEL_TYPE),
    )
    if property_value(pushed, keys.PUSHED_PROPERTY) != 1:
        (model,) = lineage.producer_inputs(store, pushed)[keys.MODEL_KEY]
        blessing = _blessing_of_push(store, pushed)
        raise ProvenanceError(
            f"PushedModel {pushed.id} in {store_path!r} records no push: model {model.id} ({model.uri}) was not "
            f"pushed ({property_value(blessing, keys.REASON_PROPERTY) or 'not blessed'}); "
            f"its trail: --model-id {model.id}"
        )
    return pushed


def _blessing_of_push(store: metadata_store.MetadataStore, pushed: Artifact) -> Artifact:
    return _only(
        lineage.producer_inputs(store, pushed).get(keys.MODEL_BLESSING_KEY, []),
        f"ModelBlessing input of the Pusher of PushedModel {pushed.id}",
    )


def _trail(
    store: metadata_store.MetadataStore, store_path: str, blessing: Artifact
) -> DecisionTrail:
    validator = lineage.producer_execution(store, blessing)
    inputs = lineage.execution_artifacts(store, validator.id, lineage.Event.INPUT)
    what = f"of the execution {validator.id} that made ModelBlessing {blessing.id}"
    model = _only(lineage.candidate_input(inputs, blessing), f"model input {what}")
    # glassbox's Validator takes the evaluation as input; TFX's Evaluator outputs it beside the blessing.
    evaluation = _only(
        inputs.get(keys.EVALUATION_KEY)
        or lineage.outputs_of_type(store, [validator.id], keys.MODEL_EVALUATION_TYPE),
        f"evaluation {what}",
    )
    results = lineage.outputs_of_type(store, [validator.id], keys.VALIDATION_RESULT_TYPE)
    baselines = inputs.get(keys.BASELINE_MODEL_KEY, [])
    return DecisionTrail(
        store=store_path,
        pipeline=lineage.pipeline_name(store, validator),
        run=lineage.run_name(store, validator),
        model=artifact_ref(store, model),
        training=_training(store, model),
        evaluation=_evaluation_step(store, evaluation),
        validation=ValidationStep(
            blessing=artifact_ref(store, blessing),
            blessed=property_value(blessing, keys.BLESSED_PROPERTY) == 1,
            reason=property_value(blessing, keys.REASON_PROPERTY) or "",
            result=artifact_ref(store, results[0]) if results else None,
            checks=_checks(results[0].uri) if results else [],
        ),
        baseline_model=artifact_ref(store, baselines[0]) if baselines else None,
        push=_push_step(store, blessing),
        overrides=overrides_of(store, model),
    )


def _training(store: metadata_store.MetadataStore, model: Artifact) -> Training:
    trainer = lineage.producer_execution(store, model)
    return Training(
        component=store.get_execution_types_by_id([trainer.type_id])[0].name,
        execution_id=trainer.id,
        parameters={
            name: property_value(trainer, name) for name in sorted(trainer.custom_properties)
        },
        examples=[
            artifact_ref(store, a)
            for a in lineage.execution_artifacts(store, trainer.id, lineage.Event.INPUT).get(
                keys.EXAMPLES_KEY, []
            )
        ],
    )


def _evaluation_step(store: metadata_store.MetadataStore, evaluation: Artifact) -> EvaluationStep:
    evaluator = lineage.producer_execution(store, evaluation)
    examples = _only(
        lineage.execution_artifacts(store, evaluator.id, lineage.Event.INPUT).get(
            keys.EXAMPLES_KEY, []
        ),
        f"examples input of the execution {evaluator.id} that made ModelEvaluation {evaluation.id}",
    )
    return EvaluationStep(
        evaluation=artifact_ref(store, evaluation),
        examples=artifact_ref(store, examples),
        example_splits=_json_property(evaluation, keys.EXAMPLE_SPLITS_PROPERTY),
        eval_config=_json_property(evaluator, keys.EVAL_CONFIG_KEY) or {},
        overall_metrics=records.overall_metrics(evaluation),
    )


def _push_step(store: metadata_store.MetadataStore, blessing: Artifact) -> Optional[PushStep]:
    pushes = lineage.outputs_of_type(
        store, lineage.consumers(store, blessing, keys.MODEL_BLESSING_KEY), keys.PUSHED_MODEL_TYPE
    )
    if not pushes:
        return None
    pushed = pushes[-1]
    done = property_value(pushed, keys.PUSHED_PROPERTY) == 1
    return PushStep(
        pushed_model=artifact_ref(store, pushed),
        pushed=done,
        destination=property_value(pushed, keys.PUSHED_DESTINATION_PROPERTY) if done else None,
    )


def _checks(validation_uri: str) -> List[Dict[str, Any]]:
    from glassbox.validation.decision_file import load_decision

    return load_decision(validation_uri)["checks"]


def _json_property(node: Union[Artifact, metadata_store_pb2.Execution], name: str) -> Any:
    """A property of an execution or artifact stored as JSON text (a proto, a list), parsed; None when absent."""
    value = property_value(node, name)
    return json.loads(value) if isinstance(value, str) and value else None


def _only(artifacts: List[Artifact], what: str) -> Artifact:
    if len(artifacts) != 1:
        raise LineageError(f"expected one {what}, ML Metadata records {len(artifacts)}")
    return artifacts[0]
