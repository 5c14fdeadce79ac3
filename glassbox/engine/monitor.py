"""`monitor`: the model a pipeline serves (its latest push, from ML Metadata) evaluated on data spans
that arrived after it was blessed, with drift from the data it was blessed on in the same Beam
pass, checked against thresholds and drift gates, each span recorded in ML Metadata
(glassbox.provenance.monitoring)."""

from __future__ import annotations

import dataclasses
import os
from typing import List, Optional, Sequence, Tuple

from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.examples import artifact_splits, resolve_example_files
from glassbox.engine.branches import DriftReference
from glassbox.engine.evaluate import evaluate
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import validate
from glassbox.errors import GlassboxError
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.validator_config_pb2 import ValidatorConfig
from glassbox.provenance import lineage, monitoring
from glassbox.validation.decision import Decision


class MonitorInputError(GlassboxError, ValueError):
    """What to monitor is not there: a span the pipeline has no Examples of, data without a span."""


@dataclasses.dataclass(frozen=True)
class SpanOutcome:
    """One span's monitoring: where its data, evaluation and validation are, and the decision."""

    span: int
    examples_uri: str
    evaluation_dir: str
    evaluation_id: int  # the ModelEvaluation recorded in ML Metadata
    decision: Decision

    @property
    def failures(self) -> List[str]:
        """One sentence per failed check."""
        return [check.sentence for check in self.decision.checks if not check.passed]


@dataclasses.dataclass(frozen=True)
class MonitorOutcome:
    """The model monitored, the drift reference, and each span monitored, in span order."""

    pipeline: str
    model_id: int
    model_uri: str
    reference: str
    spans: Tuple[SpanOutcome, ...]


def summary(span: int, decision: Decision) -> str:
    """A span's result in a sentence: how many checks passed or failed, and the first failure."""
    failed = [check for check in decision.checks if not check.passed]
    if not failed:
        return f"Span {span} passed: all {len(decision.checks)} checks passed."
    return (
        f"Span {span} failed: {len(failed)} of {len(decision.checks)} checks failed, first: "
        f"{failed[0].sentence}"
    )


def monitor(
    store_path: str,
    output_dir: str,
    eval_config: config_pb2.EvalConfig,
    validator_config: Optional[ValidatorConfig] = None,
    drift_config: Optional[DriftConfig] = None,
    *,
    pipeline: Optional[str] = None,
    span: Optional[int] = None,
    examples: Optional[str] = None,
    example_splits: Optional[Sequence[str]] = None,
    beam_pipeline_args: Sequence[str] = (),
) -> MonitorOutcome:
    """Monitors the pipeline's latest pushed model: without span or examples, on every span of the
    pipeline's Examples later than the one it was blessed on and not monitored yet; with span, on
    the pipeline's Examples of that span; with examples (a path, and span), on that data.

    Each span is evaluated under eval_config (no baseline) with drift (drift_config; default
    every feature and the predictions) from the Examples the model's blessing evaluated, then
    validated (eval_config's thresholds, validator_config's gates) into
    output_dir/model-<id>/span-<span>/{evaluation,validation}, and recorded in ML Metadata.

    Raises:
      GlassboxError: an unknown store or pipeline, no pushed model, no such span, bad configs,
        unreadable data (the message names what is at fault).
    """
    if examples is not None and span is None:
        raise MonitorInputError(f"the data {examples!r} needs its span (--span N)")
    store = lineage.open_store(store_path, writable=True)
    context = lineage.pipeline_context(store, store_path, pipeline)
    served = monitoring.served_model(store, store_path, context)
    if examples is not None:
        targets = [(span, monitoring.data_path_examples(examples, span))]
    else:
        arrived = monitoring.spans(store, context)
        if span is not None and span not in arrived:
            raise MonitorInputError(
                f"pipeline {context.name!r} in {store_path!r} has no Examples of span {span} "
                f"(its spans: {', '.join(map(str, arrived)) or 'none'})"
            )
        done = monitoring.monitored_spans(store, served.model)
        targets = (
            [(span, arrived[span])]
            if span is not None
            else [
                (s, e)
                for s, e in arrived.items()
                if (served.span is None or s > served.span) and s not in done
            ]
        )
    reference = DriftReference(
        name=f"the data model {served.model.id} was blessed on: Examples {served.examples.id}, "
        f"span {served.span}, split {', '.join(served.example_splits)}",
        example_files=resolve_example_files(served.examples.uri, served.example_splits),
    )
    model = ModelArtifact(served.model.uri, served.model.id)
    outcomes = []
    for target_span, target in targets:
        directory = os.path.join(output_dir, f"model-{served.model.id}", f"span-{target_span}")
        evaluated = evaluate(
            eval_config,
            model,
            target.uri,
            os.path.join(directory, "evaluation"),
            example_splits=example_splits or sorted(artifact_splits(target.uri)) or None,
            beam_pipeline_args=beam_pipeline_args,
            drift_config=drift_config or DriftConfig(),
            drift_reference=reference,
        )
        validated = validate(
            evaluated.output_dir,
            os.path.join(directory, "validation"),
            validator_config,
            models=Models(model),
            evaluation_properties=evaluated.properties,
        )
        evaluation_id = monitoring.record_monitoring(
            store,
            context,
            served.model,
            target,
            target_span,
            evaluated.output_dir,
            evaluated.properties,
            validated.output_dir,
            passed=validated.decision.validation_ok,
            reason=summary(target_span, validated.decision),
        )
        outcomes.append(
            SpanOutcome(
                target_span, target.uri, evaluated.output_dir, evaluation_id, validated.decision
            )
        )
    return MonitorOutcome(
        pipeline=context.name,
        model_id=served.model.id,
        model_uri=served.model.uri,
        reference=reference.name,
        spans=tuple(outcomes),
    )
