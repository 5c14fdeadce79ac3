"""`evaluate`: an evaluation from inputs to a complete evaluation directory and its outcome."""

from __future__ import annotations

import json
import logging
import os
from typing import Dict, Optional, Sequence

from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.data.examples import artifact_splits, resolve_example_files
from glassbox.data.models import resolve_model_dir
from glassbox.drift.config import check_drift_config
from glassbox.drift.files import check_summaries
from glassbox.engine.branches import DriftReference
from glassbox.engine.outcome import EvaluationOutcome, ModelArtifact, Models, PropertyValue
from glassbox.engine.pipeline import model_dirs_by_name, run_evaluation
from glassbox.errors import ConfigError
from glassbox.evaluation.config import check_written_eval_config, prepare_eval_config
from glassbox.evaluation.default_metrics import default_metrics_notes
from glassbox.evaluation.exact_path import fast_path_refusal
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.report import write_report


def evaluate(
    eval_config: config_pb2.EvalConfig,
    model: ModelArtifact,
    examples: str,
    output_dir: str,
    baseline: Optional[ModelArtifact] = None,
    *,
    example_splits: Optional[Sequence[str]] = None,
    beam_pipeline_args: Sequence[str] = (),
    schema: Optional[bytes] = None,
    explain_config: Optional[ExplainConfig] = None,
    tensorboard_dir: Optional[str] = None,
    drift_config: Optional[DriftConfig] = None,
    drift_reference: Optional[DriftReference] = None,
    simple_model_config: Optional[SimpleModelConfig] = None,
) -> EvaluationOutcome:
    """Evaluates model (and baseline) on examples into output_dir, then writes its report (and
    its TensorBoard summaries).

    Args:
      eval_config: the tfma.EvalConfig, as written for TFMA.
      model: the candidate.
      examples: a TFRecord file, glob or dir, or a TFX Examples artifact's URI.
      output_dir: where the evaluation goes (TFMA's format and report.html); it must not hold one.
      baseline: optional baseline to diff metrics against.
      example_splits: splits of a TFX Examples artifact (default keys.DEFAULT_EXAMPLE_SPLITS);
        the splits evaluated are recorded as a property (none for other examples).
      beam_pipeline_args: Beam options (glassbox.beam_runner picks the default runner).
      schema: optional serialized TFMD Schema to decode the examples with.
      explain_config: optional explanations to compute beside the metrics.
      tensorboard_dir: optional TensorBoard log dir receiving the evaluation's metrics and PR
        curves (glassbox.report.tensorboard).
      drift_config: optional drift sketches of the features and predictions (drift_sketches.json),
        and with drift_reference (``resolve_drift_reference``) their distances from it (drift.json);
        a reference without a config sketches every feature (DriftConfig's defaults).
      simple_model_config: optional simpler-model check (simple_model.json: simple interpretable
        models fitted on a seeded sample, scored beside the candidate on held-out examples).

    Raises:
      GlassboxError: bad input; the message names the field, file or value at fault.
    """
    check_written_eval_config(eval_config)  # before any file is read
    if drift_reference is not None and drift_config is None:
        drift_config = DriftConfig()
    if drift_config is not None:
        check_drift_config(drift_config)
    splits = list(example_splits or ())
    if not splits and artifact_splits(examples):
        splits = list(keys.DEFAULT_EXAMPLE_SPLITS)
    files = resolve_example_files(examples, splits)
    model_dirs = {"candidate": resolve_model_dir(model.location)}
    if baseline:
        model_dirs["baseline"] = resolve_model_dir(baseline.location)
    prepared = prepare_eval_config(eval_config, baseline is not None)
    exact_reason = fast_path_refusal(
        prepared, model_dirs_by_name(prepared, model_dirs["candidate"], model_dirs.get("baseline"))
    )
    notes = (
        [f"metrics computed by TFMA itself (its exact, slower path): {exact_reason}"]
        if exact_reason
        else default_metrics_notes(eval_config, model_dirs)
    )
    for note in notes:
        logging.warning("glassbox evaluate: %s", note)
    applied, overall = run_evaluation(
        eval_config,
        model_dir=model_dirs["candidate"],
        example_files=files,
        output_dir=output_dir,
        baseline_model_dir=model_dirs.get("baseline"),
        beam_pipeline_args=beam_pipeline_args,
        schema=schema,
        explain_config=explain_config,
        drift_config=drift_config,
        drift_reference=drift_reference,
        simple_model_config=simple_model_config,
    )
    report = write_report(os.path.join(output_dir, keys.REPORT_FILE), output_dir)
    if tensorboard_dir:
        from glassbox.report.tensorboard import write_evaluation_summaries

        write_evaluation_summaries(output_dir, tensorboard_dir)
    return EvaluationOutcome(
        eval_config=applied,
        output_dir=output_dir,
        overall_metrics=overall,
        properties=_properties(overall, splits, Models(model, baseline)),
        report=report,
        explained=explain_config is not None,
        notes=tuple(notes),
    )


def resolve_drift_reference(
    evaluation_dir: Optional[str] = None,
    examples: Optional[str] = None,
    splits: Sequence[str] = (),
) -> DriftReference:
    """What drift is measured from: a previous evaluation (its drift_sketches.json: the
    baseline's, a previous span's), or examples (files, a glob, or splits of a TFX Examples
    artifact, e.g. train), sketched in the evaluation's pipeline.

    Raises:
      ConfigError: both or neither given, or the evaluation holds no sketches.
      ExamplesError: the examples or a split are missing or empty.
    """
    if (evaluation_dir is None) == (examples is None):
        raise ConfigError(
            "a drift reference is either a previous evaluation's directory or examples, not "
            f"{'both' if examples else 'neither'}"
        )
    if evaluation_dir is not None:
        check_summaries(evaluation_dir)
        return DriftReference(f"evaluation {evaluation_dir}", evaluation_dir=evaluation_dir)
    files = resolve_example_files(examples, list(splits) or None)
    named = f"split {', '.join(splits)} of {examples}" if splits else examples
    return DriftReference(named, example_files=files)


def _properties(
    overall: Dict[str, float], splits: Sequence[str], models: Models
) -> Dict[str, PropertyValue]:
    properties = models.properties()
    if splits:
        properties[keys.EXAMPLE_SPLITS_PROPERTY] = json.dumps(list(splits))
    for name, value in overall.items():
        properties[keys.OVERALL_METRIC_PREFIX + name] = float(value)
    return properties
