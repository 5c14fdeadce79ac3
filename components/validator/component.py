"""The glassbox Validator: blesses a model or refuses it, every decision explained, as a TFX component."""

from __future__ import annotations

from typing import Optional

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import proto_utils

from glassbox import keys
from glassbox.artifacts import HTMLReport, Override, ValidationResult
from glassbox.components.evaluator.component import Evaluator
from glassbox.components.validator import executor
from glassbox.evaluation.thresholds import check_threshold_fields, check_thresholds
from glassbox.protos import validator_config_pb2
from glassbox.validation.errors import NoThresholdsError
from glassbox.validation.validate import has_thresholds


class ValidatorSpec(ComponentSpec):
    """Channels and parameters of the glassbox Validator."""

    PARAMETERS = {
        keys.EVAL_CONFIG_KEY: ExecutionParameter(type=config_pb2.EvalConfig, optional=True),
        keys.VALIDATOR_CONFIG_KEY: ExecutionParameter(type=validator_config_pb2.ValidatorConfig),
    }
    INPUTS = {
        keys.EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation),
        keys.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        keys.BASELINE_MODEL_KEY: ChannelParameter(type=standard_artifacts.Model, optional=True),
        keys.OVERRIDES_KEY: ChannelParameter(type=Override, optional=True),
    }
    OUTPUTS = {
        keys.BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
        keys.VALIDATION_KEY: ChannelParameter(type=ValidationResult),
        keys.REPORT_KEY: ChannelParameter(type=HTMLReport),
    }


def _producer_eval_config(evaluation: types.BaseChannel) -> Optional[config_pb2.EvalConfig]:
    """The EvalConfig of the Evaluator (ours or the stock one) producing evaluation, if known now."""
    if not isinstance(evaluation, channel.OutputChannel):
        return None
    value = evaluation.producer_component.exec_properties.get(keys.EVAL_CONFIG_KEY)
    # Components keep proto parameters as JSON; anything else (e.g. a RuntimeParameter) is unknown now.
    return (
        proto_utils.json_to_proto(value, config_pb2.EvalConfig())
        if isinstance(value, str)
        else None
    )


def _with_opt_in(
    config: Optional[validator_config_pb2.ValidatorConfig], allow_no_thresholds: bool
) -> validator_config_pb2.ValidatorConfig:
    """A copy of config (default: no gate), allowing no thresholds if it or the argument does."""
    result = validator_config_pb2.ValidatorConfig()
    if config is not None:
        result.CopyFrom(config)
    result.allow_no_thresholds |= allow_no_thresholds
    return result


class Validator(base_component.BaseComponent):
    """Checks a ModelEvaluation against thresholds and gates; blesses the model or refuses it.

    The thresholds are those of the `tfma.EvalConfig` (the evaluation's own, or `eval_config`),
    plus the gates of a `ValidatorConfig`. Outputs `blessing`, a ModelBlessing as the stock TFX
    Evaluator writes it (the Pusher and `LatestBlessedModelStrategy` read it), and `validation`,
    the decision: TFMA's ValidationResult, `decision.json` and `decision.md`, a sentence per check,
    and `report`, the HTML report of the evaluation with the decision, one file, typed so that the
    Kubeflow Pipelines UI shows it (docs/kubeflow.md).
    Given a glassbox Evaluator's evaluation, it makes that Evaluator's blessing defer to its own.
    With honour_overrides, a person's approval or veto of the candidate recorded by `glassbox
    override` decides its blessing (docs/override.md).
    """

    SPEC_CLASS = ValidatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        evaluation: types.BaseChannel,
        model: types.BaseChannel,
        baseline_model: Optional[types.BaseChannel] = None,
        eval_config: Optional[config_pb2.EvalConfig] = None,
        config: Optional[validator_config_pb2.ValidatorConfig] = None,
        allow_no_thresholds: bool = False,
        honour_overrides: bool = False,
    ):
        """Builds the component.

        Args:
          evaluation: the ModelEvaluation of model (and baseline_model), from our Evaluator or TFMA's.
          model: the candidate Model, the one the evaluation evaluated.
          baseline_model: the baseline Model the evaluation compared against, e.g. the latest
            blessed one; without it (or given the BaselineResolver's Model marked as no
            baseline), change thresholds are skipped (the model is rubber-stamped); when no
            check is left, the model is refused unless config.no_applicable_checks is
            RUBBER_STAMP.
          eval_config: a `tfma.EvalConfig` whose thresholds replace the evaluation's own.
          config: gates beyond the thresholds (`glassbox.protos.validator_config_pb2`).
          allow_no_thresholds: bless even with nothing to check (as `config.allow_no_thresholds`).
          honour_overrides: take every Override recorded in the pipeline's ML Metadata context
            (input `overrides`) and apply the latest of the candidate's: an approval blesses it
            and a veto refuses it, whatever the checks found. The model must come through again
            (e.g. the pipeline run with caching on) for its override to apply.

        Raises:
          ConfigError: a malformed threshold in eval_config or in the producing Evaluator's, or
            (with the glassbox Evaluator) one on a metric or slice it does not compute.
          NoThresholdsError: nothing to check (no threshold in eval_config, or in the producing
            Evaluator's, and no gate in config) and no opt-in.
        """
        config = _with_opt_in(config, allow_no_thresholds)
        producer = _producer_eval_config(evaluation)
        known = eval_config if eval_config is not None else producer
        if known is not None:
            check_threshold_fields(known)
        if producer is not None and isinstance(evaluation.producer_component, Evaluator):
            # Unlike TFMA's, our Evaluator computes only the metrics its config lists.
            check_thresholds(known, evaluated=producer)
        # Evaluations from elsewhere (e.g. imported) reveal their thresholds only when the
        # executor reads them; validate() refuses them then.
        if (
            known is not None
            and not config.allow_no_thresholds
            and not has_thresholds(known, config)
        ):
            raise NoThresholdsError(
                "Validator: nothing to check: the EvalConfig of "
                f"{'eval_config' if eval_config is not None else evaluation.producer_component_id} "
                "has no value or change threshold and the ValidatorConfig no gate; add thresholds to "
                "its metrics_specs, or pass allow_no_thresholds=True to bless with nothing checked"
            )
        if isinstance(evaluation, channel.OutputChannel) and isinstance(
            evaluation.producer_component, Evaluator
        ):
            evaluation.producer_component.defer_to_validator()
        super().__init__(
            spec=ValidatorSpec(
                evaluation=evaluation,
                model=model,
                baseline_model=baseline_model,
                # A channel no component produces: every Override in the pipeline's context.
                overrides=types.Channel(type=Override) if honour_overrides else None,
                eval_config=eval_config,
                config=config,
                blessing=types.Channel(type=standard_artifacts.ModelBlessing),
                validation=types.Channel(type=ValidationResult),
                report=types.Channel(type=HTMLReport),
            )
        )
