"""Validating an evaluation: `validate` decides, `write_validation` writes the decision.

evaluation dir --read_evaluation--> Evaluation
  thresholds (its eval_config.json, or a given EvalConfig's) --threshold_checks--+
  gates (ValidatorConfig) --gate_checks------------------------------------------+--> checks
  checks --> TFMA ValidationResult + Decision --write_validation--> validations.tfrecord,
                                                                   decision.md, decision.json
"""

from __future__ import annotations

import os
from typing import List, Optional

from tensorflow_model_analysis.proto import config_pb2

from glassbox import filesystem, keys, tfrecords
from glassbox.errors import ConfigError
from glassbox.evaluation.thresholds import check_threshold_fields
from glassbox.protos import validator_config_pb2
from glassbox.staging import new_staging_dir, output_error
from glassbox.validation import gates, thresholds
from glassbox.validation.checks import NO_APPLICABLE_CHECK, Check
from glassbox.validation.decision import Decision, ModelRef, decide
from glassbox.validation.errors import (
    BaselineMismatchError,
    NoThresholdsError,
    ValidationError,
    ValidatorConfigError,
)
from glassbox.validation.reader import Evaluation, read_evaluation, slice_label
from glassbox.validation.result import validation_result


def validate(
    evaluation_dir: str,
    config: Optional[validator_config_pb2.ValidatorConfig] = None,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    *,
    has_baseline: Optional[bool] = None,
) -> Decision:
    """Checks an evaluation (ours or stock TFMA's) against thresholds and gates.

    Args:
      evaluation_dir: a directory in TFMA's format (a ModelEvaluation artifact's URI).
      config: the gates beyond TFMA's thresholds; None: none.
      eval_config: a tfma.EvalConfig whose thresholds replace those of the evaluation's own
        eval_config.json; None: the evaluation's.
      has_baseline: whether the Validator was given a baseline model; None: whether the
        evaluation compares with one. It must agree with the evaluation.

    Raises:
      ValidationError: unreadable evaluation, malformed thresholds or gates, nothing to check
        (unless config.allow_no_thresholds), or a baseline the evaluation does not agree on.
    """
    config = config if config is not None else validator_config_pb2.ValidatorConfig()
    gates.check_config(config)
    if eval_config is not None:
        try:
            check_threshold_fields(eval_config)
        except ConfigError as e:
            raise ValidatorConfigError(f"the given EvalConfig: {e}") from e
    evaluation = read_evaluation(evaluation_dir)
    has_baseline = _check_baseline(evaluation, has_baseline)
    source = (
        "the given EvalConfig"
        if eval_config is not None
        else os.path.join(evaluation_dir, keys.EVAL_CONFIG_FILE)
    )
    applied = thresholds.read_thresholds(
        thresholds.with_thresholds_of(evaluation.eval_config, eval_config), source
    )
    nothing_to_check = not applied and not gates.has_gates(config)
    if nothing_to_check and not config.allow_no_thresholds:
        raise NoThresholdsError(
            f"nothing to validate: {source} sets no threshold and the ValidatorConfig no gate; add "
            "thresholds (MetricConfig.threshold, per_slice_thresholds) or gates, or set "
            "allow_no_thresholds to bless without checks"
        )
    checks = thresholds.threshold_checks(evaluation, applied, has_baseline) + gates.gate_checks(
        evaluation, config, has_baseline
    )
    checks += _when_none_applies(checks, config, has_baseline)
    result = validation_result(
        checks, rubber_stamp=not has_baseline, missing_thresholds=nothing_to_check
    )
    return decide(
        checks,
        evaluation_dir,
        _model_ref(evaluation, evaluation.candidate_name),
        _model_ref(evaluation, evaluation.baseline_name) if has_baseline else None,
        result,
    )


def has_thresholds(
    eval_config: config_pb2.EvalConfig, config: Optional[validator_config_pb2.ValidatorConfig]
) -> bool:
    """Whether the EvalConfig sets a threshold or the ValidatorConfig a gate."""
    if config is not None and gates.has_gates(config):
        return True
    return bool(thresholds.read_thresholds(eval_config, "the EvalConfig"))


def _check_baseline(evaluation: Evaluation, has_baseline: Optional[bool]) -> bool:
    evaluated = evaluation.baseline_name is not None
    if has_baseline is not None and has_baseline != evaluated:
        raise BaselineMismatchError(
            f"the Validator was {'given' if has_baseline else 'not given'} a baseline model, but the evaluation "
            f"{evaluation.path} was computed {'without' if has_baseline else 'with'} one; give the Evaluator and the "
            "Validator the same baseline"
        )
    return evaluated


def _when_none_applies(
    checks: List[Check], config: validator_config_pb2.ValidatorConfig, has_baseline: bool
) -> List[Check]:
    """Nothing when a configured check applied; else the verdict of the ValidatorConfig's policy
    (no_applicable_checks) as a check: failed (the default) or passed for RUBBER_STAMP."""
    if not checks or not all(check.skipped for check in checks):
        return []
    policy = config.no_applicable_checks
    rubber_stamp = policy == validator_config_pb2.RUBBER_STAMP
    setting = (
        f"no_applicable_checks: {validator_config_pb2.NoApplicableChecks.Name(policy)}"
        if policy
        else "no_applicable_checks unset"
    )
    verdict = (
        f"blessed, as the policy says ({setting})"
        if rubber_stamp
        else f"refused, as nothing is blessed unchecked ({setting}; RUBBER_STAMP would bless it, "
        "as TFX does a first model)"
    )
    skipped = (
        "the 1 configured check was"
        if len(checks) == 1
        else f"all {len(checks)} configured checks were"
    )
    why = "first model: no baseline to compare with" if not has_baseline else "see each"
    return [
        Check(
            kind=NO_APPLICABLE_CHECK,
            passed=rubber_stamp,
            slice=slice_label(()),
            metric="",
            value=None,
            baseline_value=None,
            threshold={
                "no_applicable_checks": validator_config_pb2.NoApplicableChecks.Name(policy)
            },
            sentence=f"No configured check applies: {skipped} skipped ({why}); {verdict}.",
            slice_key=(),
        )
    ]


def _model_ref(evaluation: Evaluation, name: str) -> ModelRef:
    return ModelRef(name=name, uri=evaluation.model_locations.get(name) or None)


def write_validation(decision: Decision, output_dir: str) -> None:
    """Writes TFMA's ValidationResult, decision.md and decision.json (last) into output_dir.

    Files are written to a staging directory and renamed into place, so a reader that finds
    decision.json finds the whole validation. An output_dir holding a validation is refused.

    Raises:
      OutputError: output_dir cannot be written (a file, read-only, not permitted, full).
    """
    if filesystem.exists(os.path.join(output_dir, keys.DECISION_JSON_FILE)):
        raise ValidationError(
            f"output directory {output_dir!r} already holds a validation ({keys.DECISION_JSON_FILE}); "
            "choose a new directory so that nothing is overwritten"
        )
    try:
        _write_staged(decision, output_dir)
    except OSError as e:
        raise output_error(output_dir, e) from e


def _write_staged(decision: Decision, output_dir: str) -> None:
    staging = new_staging_dir(output_dir)  # after removing those of killed runs
    try:
        tfrecords.write_records(
            os.path.join(staging, keys.VALIDATIONS_FILE),
            [decision.validation_result.SerializeToString()],
        )
        for name, text in (
            (keys.DECISION_MARKDOWN_FILE, decision.to_markdown()),
            (keys.DECISION_JSON_FILE, decision.to_json_text()),
        ):
            filesystem.write_text(os.path.join(staging, name), text)
        # decision.json last: a reader that finds it finds the whole validation.
        for name in (keys.VALIDATIONS_FILE, keys.DECISION_MARKDOWN_FILE, keys.DECISION_JSON_FILE):
            filesystem.rename(os.path.join(staging, name), os.path.join(output_dir, name))
    finally:
        filesystem.rmtree(staging)
