"""What the native KFP components do, on their artifacts: the engines of the TFX components.

Artifacts are read and written at their local `.path` (on a cluster the KFP launcher downloads
inputs there and uploads outputs from there); their metadata holds what the TFX components set
as custom properties.
"""

from __future__ import annotations

import os
import shutil
from typing import Optional, Sequence

from kfp import dsl

from glassbox import config_files
from glassbox.components.validator import constants as validator_constants
from glassbox.engine.evaluate import evaluate as evaluate_models
from glassbox.engine.outcome import ModelArtifact
from glassbox.evaluation.config import parse_eval_config
from glassbox.protos import validator_config_pb2
from glassbox.report import write_report
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.validate import validate as validate_evaluation
from glassbox.validation.validate import write_validation


def evaluate(
    examples: dsl.Dataset,
    model: dsl.Model,
    eval_config: str,
    evaluation: dsl.Artifact,
    metrics: dsl.Metrics,
    report: dsl.HTML,
    baseline_model: Optional[dsl.Model] = None,
    example_splits: Sequence[str] = (),
    beam_pipeline_args: Sequence[str] = (),
) -> None:
    """The engine's `evaluate` into evaluation.path; its properties as the evaluation's metadata,
    the overall metrics as `metrics`, the HTML report as `report`."""
    outcome = evaluate_models(
        parse_eval_config(eval_config, source="the eval_config parameter"),
        ModelArtifact(model.path),
        examples.path,
        evaluation.path,
        ModelArtifact(baseline_model.path) if baseline_model else None,
        example_splits=example_splits,
        beam_pipeline_args=beam_pipeline_args,
    )
    evaluation.metadata.update(outcome.properties)
    for name, value in sorted(outcome.overall_metrics.items()):
        metrics.log_metric(name, value)
    os.makedirs(os.path.dirname(report.path), exist_ok=True)
    shutil.copyfile(outcome.report, report.path)


def validate(
    evaluation: dsl.Artifact,
    blessing: dsl.Artifact,
    validation: dsl.Artifact,
    report: dsl.HTML,
    config: str = "",
    eval_config: str = "",
) -> bool:
    """`validate` and `write_validation` into validation.path, the HTML report as `report`, then a
    blessing as the Validator's (a BLESSED or NOT_BLESSED file, the decision in brief as metadata).
    Returns whether blessed."""
    decision = validate_evaluation(
        evaluation.path,
        config_files.parse_config(
            config,
            validator_config_pb2.ValidatorConfig,
            "validator config",
            ValidatorConfigError,
            source="the config parameter",
        )
        if config
        else None,
        parse_eval_config(eval_config, source="the eval_config parameter") if eval_config else None,
    )
    write_validation(decision, validation.path)
    write_report(report.path, evaluation.path, validation.path)
    blessing.metadata.update(
        {
            validator_constants.BLESSED_PROPERTY: int(decision.blessed),
            validator_constants.VALIDATION_OK_PROPERTY: int(decision.validation_ok),
            validator_constants.RUBBER_STAMP_PROPERTY: int(decision.rubber_stamp),
            validator_constants.FAILURES_PROPERTY: decision.failures,
            validator_constants.REASON_PROPERTY: decision.reason,
            validator_constants.CURRENT_MODEL_URI_PROPERTY: decision.candidate.uri,
            **(
                {validator_constants.BASELINE_MODEL_URI_PROPERTY: decision.baseline.uri}
                if decision.baseline
                else {}
            ),
        }
    )
    os.makedirs(blessing.path, exist_ok=True)
    file_name = (
        validator_constants.BLESSED_FILE_NAME
        if decision.blessed
        else validator_constants.NOT_BLESSED_FILE_NAME
    )
    with open(os.path.join(blessing.path, file_name), "w"):
        pass
    return decision.blessed
