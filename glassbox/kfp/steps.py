"""What the native KFP components do, on their artifacts: the engines of the TFX components.

Artifacts are read and written at their local `.path` (on a cluster the KFP launcher downloads
inputs there and uploads outputs from there); their metadata holds what the TFX components set
as custom properties.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

from kfp import dsl

from glassbox import config_files
from glassbox.components.evaluator import constants as evaluator_constants
from glassbox.components.validator import constants as validator_constants
from glassbox.evaluation.config import parse_eval_config
from glassbox.evaluation.evaluate import run_evaluation
from glassbox.evaluation.examples import resolve_example_files
from glassbox.evaluation.models import resolve_model_dir
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
    """`run_evaluation` into evaluation.path; the overall metrics as its metadata and as `metrics`;
    the HTML report as `report`."""
    _, overall = run_evaluation(
        parse_eval_config(eval_config, source="the eval_config parameter"),
        model_dir=resolve_model_dir(model.path),
        example_files=resolve_example_files(examples.path, list(example_splits) or None),
        output_dir=evaluation.path,
        baseline_model_dir=resolve_model_dir(baseline_model.path) if baseline_model else None,
        beam_pipeline_args=beam_pipeline_args,
    )
    for name, value in sorted(overall.items()):
        evaluation.metadata[evaluator_constants.OVERALL_METRIC_PROPERTY_PREFIX + name] = value
        metrics.log_metric(name, value)
    write_report(report.path, evaluation.path)


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
