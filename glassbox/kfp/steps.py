"""What the native KFP components do, on their artifacts: the engine's `evaluate` and `validate`,
their outcomes mapped onto KFP's artifacts.

Artifacts are read and written at their local `.path` (on a cluster the KFP launcher downloads
inputs there and uploads outputs from there) and named by their `.uri`; their metadata holds what
the TFX components set as custom properties.
"""

from __future__ import annotations

import os
import shutil
from typing import Optional, Sequence

from kfp import dsl

from glassbox import garbage_collection, keys
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import validate as validate_evaluation
from glassbox.engine.validate import write_blessing
from glassbox.evaluation.config import parse_eval_config
from glassbox.validation.config_file import parse_validator_config


def evaluate(
    examples: dsl.Dataset,
    model: dsl.Model,
    eval_config: str,
    evaluation: dsl.Artifact,
    metrics: dsl.Metrics,
    report: dsl.HTML,
    baseline_model: Optional[dsl.Model] = None,
    schema: Optional[dsl.Artifact] = None,
    example_splits: Sequence[str] = (),
    explain_config: str = "",
    beam_pipeline_args: Sequence[str] = (),
    drift_config: str = "",
    drift_reference_split: str = "",
) -> None:
    """The engine's `evaluate` into evaluation.path; its properties as the evaluation's metadata,
    the overall metrics as `metrics`, the HTML report as `report`. With drift_config, drift
    sketches; with drift_reference_split too, the drift from that split of the examples."""
    with garbage_collection.imports_uncollected():  # TensorFlow, Beam and TFMA: not for validate
        from glassbox import config_files
        from glassbox.drift.config import parse_drift_config
        from glassbox.engine.evaluate import evaluate as evaluate_models
        from glassbox.engine.evaluate import resolve_drift_reference
        from glassbox.explain.config import parse_explain_config

    baseline = _given_baseline(baseline_model)
    outcome = evaluate_models(
        parse_eval_config(eval_config, source="the eval_config parameter"),
        _model(model),
        examples.path,
        evaluation.path,
        _model(baseline) if baseline else None,
        example_splits=example_splits,
        beam_pipeline_args=beam_pipeline_args,
        schema=config_files.load_schema(schema.path) if schema else None,
        explain_config=parse_explain_config(explain_config, "the explain_config parameter")
        if explain_config
        else None,
        drift_config=parse_drift_config(drift_config, "the drift_config parameter")
        if drift_config
        else None,
        drift_reference=resolve_drift_reference(
            examples=examples.path, splits=[drift_reference_split]
        )
        if drift_reference_split
        else None,
    )
    evaluation.metadata.update(outcome.properties)
    for name, value in sorted(outcome.overall_metrics.items()):
        metrics.log_metric(name, value)
    _copy(outcome.report, report.path)


def validate(
    evaluation: dsl.Artifact,
    blessing: dsl.Artifact,
    validation: dsl.Artifact,
    report: dsl.HTML,
    model: Optional[dsl.Model] = None,
    baseline_model: Optional[dsl.Model] = None,
    config: str = "",
    eval_config: str = "",
) -> bool:
    """The engine's `validate` into validation.path, the HTML report as `report`, then the
    blessing: its file in blessing.path, its properties as the blessing's metadata. Returns
    whether blessed."""
    baseline = _given_baseline(baseline_model)
    outcome = validate_evaluation(
        evaluation.path,
        validation.path,
        parse_validator_config(config, "the config parameter") if config else None,
        parse_eval_config(eval_config, source="the eval_config parameter") if eval_config else None,
        models=Models(_model(model), _model(baseline) if baseline else None) if model else None,
        evaluation_properties=evaluation.metadata,
    )
    _copy(outcome.report, report.path)
    blessing.metadata.update(outcome.blessing.properties)
    write_blessing(outcome.blessing, blessing.path)
    return outcome.blessing.blessed


def _model(artifact: dsl.Artifact) -> ModelArtifact:
    """A model named by its artifact's URI, read at its local path (KFP has no MLMD id to give)."""
    return ModelArtifact(artifact.uri, path=artifact.path)


def _given_baseline(artifact: Optional[dsl.Artifact]) -> Optional[dsl.Artifact]:
    """None for no artifact or the BaselineResolver's Model marked as no baseline."""
    if artifact is None or keys.NO_BASELINE_PROPERTY in artifact.metadata:
        return None
    return artifact


def _copy(source: str, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copyfile(source, path)
