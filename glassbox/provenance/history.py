"""A metric's history over a pipeline's runs, read from ML Metadata: each ModelEvaluation, oldest
first (in span order when the evaluations are of several data spans), with the model and examples
it evaluated (and their data span), its baseline, the metric's value on a slice (and every other
metric's) and whether the model was blessed, by which checks; for a monitoring's evaluation
(`glassbox monitor`), whether its checks passed.

The overall slice's values are the evaluation's custom properties (`overall_auc`, ...); other
slices' (and evaluations without those properties) are read from the evaluation directory, as are
the drift distances (its drift.json: 'jensen_shannon of age', ...).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.drift.reading import read_drift, slice_distances
from glassbox.provenance import lineage, monitoring, records
from glassbox.provenance.errors import ProvenanceError
from glassbox.provenance.records import ArtifactRef, artifact_ref

OVERALL = "Overall"  # TFMA's name of the overall slice


@dataclasses.dataclass(frozen=True)
class HistoryPoint:
    """One evaluation: its run, what it evaluated, the metric's value (None: not computed on the
    slice) and the verdict (None: no ModelBlessing records one; a monitoring's: its checks passed)."""

    run: Optional[str]
    evaluation: ArtifactRef
    model: ArtifactRef
    examples: ArtifactRef
    baseline_model: Optional[ArtifactRef]
    value: Optional[float]
    blessing: Optional[ArtifactRef]
    blessed: Optional[bool]
    reason: str
    span: Optional[int] = None  # the examples' data span, when their artifact records one
    # Every candidate metric on the slice, by name (the history page's metric chooser).
    metrics: Dict[str, float] = dataclasses.field(default_factory=dict)
    # The checks of the validation that made the blessing, on the slice (decision.json's).
    checks: List[Dict] = dataclasses.field(default_factory=list)
    monitored: bool = False  # a monitoring's evaluation (`glassbox monitor`), not a pipeline run's


@dataclasses.dataclass(frozen=True)
class History:
    """A metric on a slice over a pipeline's evaluations, oldest first; with by_span (every
    evaluation's data has a span, and they have several), in span order (then oldest first)."""

    store: str
    pipeline: str
    metric: str
    slice: str
    points: List[HistoryPoint]
    by_span: bool = False

    def to_json(self) -> Dict:
        return dataclasses.asdict(self)


def read_history(
    store_path: str, metric: str, slice_name: str = OVERALL, pipeline: Optional[str] = None
) -> History:
    """The history of metric (a name as in the evaluation's properties, e.g. 'auc', 'diff_auc',
    'example_count') on slice_name (TFMA's slice string) over the pipeline's evaluations.

    Raises:
      LineageError: no such store or pipeline (or several pipelines and none chosen).
      ProvenanceError: the pipeline has no evaluation, or none has the metric on the slice.
    """
    store = lineage.open_store(store_path)
    context = lineage.pipeline_context(store, store_path, pipeline)
    evaluations = lineage.pipeline_artifacts(store, context, keys.MODEL_EVALUATION_TYPE)
    if not evaluations:
        raise ProvenanceError(
            f"pipeline {context.name!r} in {store_path!r} has no {keys.MODEL_EVALUATION_TYPE} yet"
        )
    found = [(evaluation, _metrics(evaluation, slice_name)) for evaluation in evaluations]
    if all(metric not in metrics for _, metrics in found if metrics is not None):
        raise ProvenanceError(_missing(context.name, metric, slice_name, found))
    points = [
        _point(store, evaluation, metric, metrics or {}, slice_name)
        for evaluation, metrics in found
    ]
    spans = [point.span for point in points]
    by_span = None not in spans and len(set(spans)) > 1
    if by_span:
        points.sort(key=lambda point: point.span)  # stable: oldest first within a span
    return History(
        store=store_path,
        pipeline=context.name,
        metric=metric,
        slice=slice_name,
        points=points,
        by_span=by_span,
    )


def _metrics(
    evaluation: metadata_store_pb2.Artifact, slice_name: str
) -> Optional[Dict[str, float]]:
    """The evaluation's candidate metrics on the slice by name, and its drift distances there
    (named as the drift gates name them: 'jensen_shannon of age'); None when it has no such slice."""
    recorded = records.overall_metrics(evaluation)
    drift = read_drift(evaluation.uri)
    drifted = slice_distances(drift, slice_name) if drift else {}
    if slice_name == OVERALL and recorded:
        return {**recorded, **drifted}
    from glassbox.tfma_keys import headline_metrics
    from glassbox.validation.reader import read_evaluation, slice_label

    read = read_evaluation(evaluation.uri)
    for slice_key, slice_metrics in read.slices.items():
        if slice_label(slice_key) == slice_name:
            metrics = headline_metrics(
                ((key, m.value) for key, m in slice_metrics.metrics.items()), read.candidate_name
            )
            return {**metrics, **drifted}
    return None


def _missing(
    pipeline: str,
    metric: str,
    slice_name: str,
    found: List[Tuple[metadata_store_pb2.Artifact, Optional[Dict[str, float]]]],
) -> str:
    evaluation, metrics = found[-1]
    if all(metrics is None for _, metrics in found):
        return (
            f"no evaluation of pipeline {pipeline!r} has the slice {slice_name!r} (slices are named as TFMA "
            f"names them: 'Overall', 'feature:value', 'a_X_b:x_X_y'; see {evaluation.uri})"
        )
    has = next(metrics for _, metrics in reversed(found) if metrics is not None)
    return (
        f"no evaluation of pipeline {pipeline!r} has the metric {metric!r} on {slice_name}; "
        f"the latest with that slice has: {', '.join(sorted(has))}"
    )


def _point(
    store: metadata_store.MetadataStore,
    evaluation: metadata_store_pb2.Artifact,
    metric: str,
    metrics: Dict[str, float],
    slice_name: str,
) -> HistoryPoint:
    execution = lineage.producer_execution(store, evaluation)
    inputs = lineage.execution_artifacts(store, execution.id, lineage.Event.INPUT)
    (model,) = inputs[keys.MODEL_KEY]
    (examples,) = inputs[keys.EXAMPLES_KEY]
    baselines = inputs.get(keys.BASELINE_MODEL_KEY, [])
    span = records.property_value(examples, keys.SPAN_PROPERTY)
    if monitoring.is_monitoring(store, execution):
        (validation,) = lineage.execution_artifacts(store, execution.id, lineage.Event.OUTPUT)[
            keys.VALIDATION_KEY
        ]
        return HistoryPoint(
            run=None,
            evaluation=artifact_ref(store, evaluation),
            model=artifact_ref(store, model),
            examples=artifact_ref(store, examples),
            baseline_model=None,
            value=metrics.get(metric),
            blessing=None,
            blessed=records.property_value(execution, keys.PASSED_PROPERTY) == 1,
            reason=records.property_value(execution, keys.REASON_PROPERTY) or "",
            span=span,
            metrics=metrics,
            checks=_decision_checks(validation.uri, slice_name),
            monitored=True,
        )
    blessing = blessing_of(store, evaluation)
    return HistoryPoint(
        run=lineage.run_name(store, execution),
        evaluation=artifact_ref(store, evaluation),
        model=artifact_ref(store, model),
        examples=artifact_ref(store, examples),
        baseline_model=artifact_ref(store, baselines[0]) if baselines else None,
        value=metrics.get(metric),
        blessing=artifact_ref(store, blessing) if blessing else None,
        blessed=None
        if blessing is None
        else records.property_value(blessing, keys.BLESSED_PROPERTY) == 1,
        reason=(blessing and records.property_value(blessing, keys.REASON_PROPERTY)) or "",
        span=span if isinstance(span, int) else None,
        metrics=metrics,
        checks=_checks_on(store, blessing, slice_name) if blessing else [],
    )


def _checks_on(
    store: metadata_store.MetadataStore, blessing: metadata_store_pb2.Artifact, slice_name: str
) -> List[Dict]:
    """The checks on slice_name of the glassbox validation that made the blessing (none for TFX's
    Evaluator, which writes no decision.json)."""
    producer = lineage.producer_execution(store, blessing)
    results = lineage.outputs_of_type(store, [producer.id], keys.VALIDATION_RESULT_TYPE)
    return _decision_checks(results[-1].uri, slice_name) if results else []


def _decision_checks(validation_dir: str, slice_name: str) -> List[Dict]:
    from glassbox.validation.decision_file import load_decision

    return [c for c in load_decision(validation_dir)["checks"] if c["slice"] == slice_name]


def blessing_of(
    store: metadata_store.MetadataStore, evaluation: metadata_store_pb2.Artifact
) -> Optional[metadata_store_pb2.Artifact]:
    """The latest ModelBlessing made on an evaluation: output by an execution that consumed it
    (glassbox's Validator) or by the one that produced it (TFX's Evaluator); None if none."""
    executions = lineage.consumers(store, evaluation) + [
        lineage.producer_execution(store, evaluation).id
    ]
    blessings = lineage.outputs_of_type(store, executions, keys.MODEL_BLESSING_TYPE)
    return blessings[-1] if blessings else None
