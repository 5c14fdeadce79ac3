"""`validate`: a validation from an evaluation to a complete validation directory, its report and
the one blessing every front-end writes last (`write_blessing`)."""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Optional, Sequence

from tensorflow_model_analysis.proto import config_pb2

from glassbox import filesystem, keys
from glassbox.engine.evaluated_models import evaluated_models_check
from glassbox.engine.outcome import (
    BlessingRecord,
    ModelArtifact,
    Models,
    PropertyValue,
    ValidationOutcome,
)
from glassbox.protos import validator_config_pb2
from glassbox.provenance.override import Override, applicable
from glassbox.report import write_report
from glassbox.staging import copy_into_place
from glassbox.validation import validate as validation
from glassbox.validation.decision import Decision, ModelRef, decide, overridden, reason
from glassbox.validation.result import validation_result


def validate(
    evaluation_dir: str,
    output_dir: str,
    config: Optional[validator_config_pb2.ValidatorConfig] = None,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    *,
    models: Optional[Models] = None,
    evaluation_properties: Optional[Mapping[str, PropertyValue]] = None,
    overrides: Sequence[Override] = (),
) -> ValidationOutcome:
    """Decides on an evaluation, writes the validation and its report into output_dir, and
    returns them with the blessing to write (after them: a blessing means a complete validation).

    Args:
      evaluation_dir: an evaluation in TFMA's format (glassbox's or stock TFMA's).
      output_dir: where the validation goes; it must not hold one.
      config: gates beyond TFMA's thresholds; None: none.
      eval_config: a tfma.EvalConfig whose thresholds replace the evaluation's own.
      models: the candidate and baseline the validation is given. The evaluation must be of them
        (a first check; refused otherwise), and the blessing names them. None: those the
        evaluation records, if any, with no such check.
      evaluation_properties: the evaluation artifact's custom properties (their record of the
        models evaluated, see `Models.properties`); None: none.
      overrides: people's approvals and vetoes (e.g. every one of the pipeline); the latest of
        the candidate's (by its ML Metadata id) decides whether it is blessed, whatever the
        checks found; those of other models are ignored.

    Raises:
      ValidationError: unreadable evaluation, malformed thresholds or gates, nothing to check
        (unless config.allow_no_thresholds), or a baseline the evaluation does not agree on.
    """
    recorded = Models.recorded(evaluation_properties or {})
    if models is None:
        decision = _named(validation.validate(evaluation_dir, config, eval_config), recorded)
    else:
        decision = _validate_given(evaluation_dir, config, eval_config, models, recorded)
    named = models or recorded
    decision = overridden(decision, applicable(overrides, named.candidate.id if named else None))
    validation.write_validation(decision, output_dir)
    report = write_report(os.path.join(output_dir, keys.REPORT_FILE), evaluation_dir, output_dir)
    return ValidationOutcome(
        decision=decision,
        output_dir=output_dir,
        report=report,
        blessing=_blessing(decision, models or recorded),
    )


def evaluator_blessing(
    evaluation_dir: str,
    output_dir: str,
    eval_config: config_pb2.EvalConfig,
    models: Models,
    evaluation_properties: Optional[Mapping[str, PropertyValue]] = None,
    defers_to_validator: bool = False,
) -> BlessingRecord:
    """The blessing an Evaluator writes beside its evaluation, as the stock Evaluator does.

    With a threshold in eval_config: ``validate``'s on the evaluation (its thresholds, no gate;
    blessed as a rubber stamp when none applies, as TFMA does), the validation written into
    output_dir. Without: NOT_BLESSED, saying nothing was checked (the
    stock Evaluator then writes no verdict, which its Pusher takes as not blessed). When a
    Validator decides on the evaluation (defers_to_validator): NOT_BLESSED, saying so, so that
    only the Validator's blessing can bless the model (and make it a later run's baseline).

    A validation also leaves its TFMA ValidationResult in the evaluation directory, where the
    stock Evaluator's TFMA writes it (``tfma.load_validation_result(evaluation)`` reads it there,
    as TFX's tutorials do), copied in under a staging name and renamed.

    Raises:
      ValidationError: as ``validate`` raises it.
    """
    if defers_to_validator:
        return _not_checked(models, _DEFERRED)
    if not validation.has_thresholds(eval_config, None):
        return _not_checked(models, _NOTHING_CHECKED)
    outcome = validate(
        evaluation_dir,
        output_dir,
        _TFMA_POLICY,
        models=models,
        evaluation_properties=evaluation_properties,
    )
    copy_into_place(
        os.path.join(output_dir, keys.VALIDATIONS_FILE),
        os.path.join(evaluation_dir, keys.VALIDATIONS_FILE),
    )
    return outcome.blessing


# The Evaluator's blessing follows TFMA's semantics: a model no threshold applies to (a first model
# with change thresholds only) is blessed, a rubber stamp; the Validator refuses it unless told.
_TFMA_POLICY = validator_config_pb2.ValidatorConfig(
    no_applicable_checks=validator_config_pb2.RUBBER_STAMP
)
_NOTHING_CHECKED = (
    "not blessed: the EvalConfig sets no threshold, so the Evaluator checked nothing (like the "
    "stock Evaluator, it blesses only on thresholds); add thresholds to its metrics_specs, or "
    "use the Validator (gates, allow_no_thresholds)"
)
_DEFERRED = (
    "not blessed by the Evaluator: a Validator decides on this evaluation; its blessing is the "
    "verdict"
)


def _not_checked(models: Models, why: str) -> BlessingRecord:
    properties = models.properties()
    properties.update(
        {
            keys.VALIDATION_OK_PROPERTY: 0,
            keys.RUBBER_STAMP_PROPERTY: 0,
            keys.FAILURES_PROPERTY: 0,
            keys.REASON_PROPERTY: why,
            keys.BLESSED_PROPERTY: 0,
        }
    )
    return BlessingRecord(file_name=keys.NOT_BLESSED_FILE, properties=properties)


def write_blessing(blessing: BlessingRecord, directory: str) -> str:
    """Writes the blessing's empty BLESSED or NOT_BLESSED file into directory; returns its path."""
    path = os.path.join(directory, blessing.file_name)
    filesystem.makedirs(directory)
    filesystem.write_text(path, "")
    return path


def _validate_given(
    evaluation_dir: str,
    config: Optional[validator_config_pb2.ValidatorConfig],
    eval_config: Optional[config_pb2.EvalConfig],
    models: Models,
    recorded: Optional[Models],
) -> Decision:
    """The decision on the given candidate: refused if the evaluation is of other models, else
    `validation.validate`'s with the evaluated-models check first."""
    check = evaluated_models_check(recorded, models)
    if not check.passed:
        checks = [check]
        result = validation_result(
            checks, rubber_stamp=models.baseline is None, missing_thresholds=False
        )
        return decide(
            checks,
            evaluation_dir,
            _ref("", models.candidate),
            _ref("", models.baseline) if models.baseline else None,
            result,
        )
    decision = validation.validate(
        evaluation_dir, config, eval_config, has_baseline=models.baseline is not None
    )
    checks = [check] + decision.checks
    return _named(
        dataclasses.replace(
            decision,
            checks=checks,
            # Nothing configured to check (and allowed): the engine's reason says so; keep it.
            reason=decision.reason
            if decision.validation_result.missing_thresholds
            else reason(checks, decision.rubber_stamp),
        ),
        models,
    )


def _named(decision: Decision, models: Optional[Models]) -> Decision:
    """The decision naming the models' artifacts (URI, id), when known, beside their names in
    the evaluation."""
    if models is None:
        return decision
    return dataclasses.replace(
        decision,
        candidate=_ref(decision.candidate.name, models.candidate),
        baseline=_ref(decision.baseline.name, models.baseline)
        if decision.baseline and models.baseline
        else decision.baseline,
    )


def _ref(name: str, model: ModelArtifact) -> ModelRef:
    return ModelRef(name=name, uri=model.uri, id=model.id)


def _blessing(decision: Decision, models: Optional[Models]) -> BlessingRecord:
    """The ModelBlessing as the stock Evaluator writes it (the models, `blessed`) plus the
    decision in brief (decision.json has it all)."""
    properties = models.properties() if models is not None else {}
    properties.update(
        {
            keys.VALIDATION_OK_PROPERTY: int(decision.validation_ok),
            keys.RUBBER_STAMP_PROPERTY: int(decision.rubber_stamp),
            keys.FAILURES_PROPERTY: decision.failures,
            keys.REASON_PROPERTY: decision.reason,
            keys.BLESSED_PROPERTY: int(decision.blessed),
            keys.OVERRIDDEN_PROPERTY: int(decision.override is not None),
        }
    )
    if decision.override is not None:
        properties[keys.OVERRIDE_BY_PROPERTY] = decision.override.by
        properties[keys.OVERRIDE_REASON_PROPERTY] = decision.override.reason
        if decision.override.id is not None:
            properties[keys.OVERRIDE_ID_PROPERTY] = decision.override.id
    return BlessingRecord(
        file_name=keys.BLESSED_FILE if decision.blessed else keys.NOT_BLESSED_FILE,
        properties=properties,
    )
