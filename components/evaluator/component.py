"""The glassbox Evaluator: TFMA-compatible sliced metrics, fast, as a TFX Beam component."""

from __future__ import annotations

from typing import Any, List, Optional

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import json_utils

from glassbox import keys
from glassbox.artifacts import HTMLReport
from glassbox.components.evaluator import executor
from glassbox.drift.config import check_drift_config
from glassbox.errors import ConfigError
from glassbox.evaluation.config import check_written_eval_config
from glassbox.explain.config import check_explain_config
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.simple_model.config import check_simple_model_config


class EvaluatorSpec(ComponentSpec):
    """Channels and parameters of the glassbox Evaluator."""

    PARAMETERS = {
        keys.EVAL_CONFIG_KEY: ExecutionParameter(type=config_pb2.EvalConfig),
        keys.EXAMPLE_SPLITS_KEY: ExecutionParameter(type=str, optional=True),
        keys.EXPLAIN_CONFIG_KEY: ExecutionParameter(type=ExplainConfig, optional=True),
        keys.DEFERS_TO_VALIDATOR_KEY: ExecutionParameter(type=int, optional=True),
        keys.TENSORBOARD_DIR_KEY: ExecutionParameter(type=str, optional=True),
        keys.SIMPLE_MODEL_CONFIG_KEY: ExecutionParameter(type=SimpleModelConfig, optional=True),
        keys.DRIFT_CONFIG_KEY: ExecutionParameter(type=DriftConfig, optional=True),
        keys.DRIFT_REFERENCE_SPLIT_KEY: ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {
        keys.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        keys.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        keys.BASELINE_MODEL_KEY: ChannelParameter(type=standard_artifacts.Model, optional=True),
        keys.SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema, optional=True),
        keys.DRIFT_REFERENCE_KEY: ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True
        ),
    }
    OUTPUTS = {
        keys.EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation),
        keys.BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
        keys.REPORT_KEY: ChannelParameter(type=HTMLReport),
    }


# The stock Evaluator's arguments the glassbox Evaluator refuses, and why.
_REFUSED = {
    keys.FEATURE_SLICING_SPEC_KEY: "it is the stock Evaluator's deprecated, Estimator-only "
    "slicing; give eval_config (its slicing_specs) instead",
    keys.FAIRNESS_INDICATOR_THRESHOLDS_KEY: "the stock Evaluator (TFX 1.21) ignores it when "
    "eval_config is given; list FairnessIndicators with its thresholds in "
    "eval_config.metrics_specs instead",
    keys.MODULE_FILE_KEY: "its custom_eval_shared_model and custom_extractors hooks build TFMA's "
    "own extractors, which glassbox does not run (it calls the SavedModel's signatures, with "
    "ModelSpec.preprocessing_function_names for in-graph preprocessing)",
    keys.MODULE_PATH_KEY: "as module_file: TFMA's custom_eval_shared_model and custom_extractors "
    "hooks have no place in glassbox's pipeline",
}


class Evaluator(base_beam_component.BaseBeamComponent):
    """Evaluates a model (and optionally a baseline) on Examples under a `tfma.EvalConfig`.

    A drop-in for the stock TFX Evaluator: it takes the stock constructor's arguments and has its
    outputs, so changing the import is the only edit of a pipeline.

    `evaluation`: a ModelEvaluation in TFMA's format (`tfma.load_eval_result` reads it), the
    overall slice's scalar metrics as custom properties of the artifact. With an ExplainConfig,
    it also holds explanations (TFMA attributions and JSON files, see glassbox.explain.writer).
    With a DriftConfig, it holds drift sketches (drift_sketches.json) and, with a reference (a
    split of `examples`, or a previous ModelEvaluation holding sketches), drift.json.

    `blessing`: a ModelBlessing as the stock Evaluator writes it (the Pusher and
    `LatestBlessedModelStrategy` read it). With thresholds in the EvalConfig, the Validator's
    engine decides inline on the evaluation (its thresholds; every decision explained, failing
    closed) and the blessing holds that validation in `validation/`; without, the model is not
    blessed and the blessing says nothing was checked. The Validator component adds gates; a
    Validator given this Evaluator's evaluation makes the decision (``defer_to_validator``).

    `report`: the evaluation's HTML report (`evaluation`'s report.html), one file, typed so that
    the Kubeflow Pipelines UI shows it (docs/kubeflow.md).

    `beam_pipeline_args` choose the runner (by default Beam's in-process FnApiRunner, see
    glassbox.beam_runner; Dataflow, Flink or Spark at scale).
    """

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        model: Optional[types.BaseChannel] = None,
        baseline_model: Optional[types.BaseChannel] = None,
        feature_slicing_spec: Any = None,
        fairness_indicator_thresholds: Optional[List[float]] = None,
        example_splits: Optional[List[str]] = None,
        eval_config: Optional[config_pb2.EvalConfig] = None,
        schema: Optional[types.BaseChannel] = None,
        module_file: Optional[str] = None,
        module_path: Optional[str] = None,
        explain_config: Optional[ExplainConfig] = None,
        tensorboard_dir: Optional[str] = None,
        simple_model_config: Optional[SimpleModelConfig] = None,
        drift_config: Optional[DriftConfig] = None,
        drift_reference_split: Optional[str] = None,
        drift_reference: Optional[types.BaseChannel] = None,
    ):
        """Builds the component; the arguments are the stock Evaluator's, in its order, then
        explain_config, tensorboard_dir, simple_model_config and the drift's.

        Args:
          examples: Examples to evaluate on.
          model: the candidate Model (required).
          baseline_model: optional baseline Model (e.g. the latest blessed one) for diff metrics
            and change thresholds; the BaselineResolver's Model marked as no baseline counts as
            none.
          feature_slicing_spec, fairness_indicator_thresholds, module_file, module_path: refused
            when given (the ConfigError says why).
          example_splits: splits of `examples` to evaluate on; default ['eval'].
          eval_config: the `tfma.EvalConfig`, as written for TFMA (required).
          schema: optional Schema used to decode the examples.
          explain_config: optional explanations to compute (glassbox.ExplainConfig).
          tensorboard_dir: optional TensorBoard log dir (local or a remote URI): each run also
            writes its evaluation's metrics and PR curves as summaries into a subdir named after
            the pipeline run (`tensorboard --logdir` on it compares the runs).
          simple_model_config: optional simpler-model check (glassbox.SimpleModelConfig): simple
            interpretable models scored beside the candidate, simple_model.json in `evaluation`.
          drift_config: optional drift sketches of the features and predictions per slice
            (glassbox.DriftConfig); with a reference, their distances from it (drift.json).
          drift_reference_split: the reference is this split of `examples` (e.g. 'train').
          drift_reference: the reference is this ModelEvaluation's drift sketches (an earlier
            evaluation made with a DriftConfig: the baseline's, a previous span's).

        Raises:
          ConfigError: no model or eval_config, a refused argument given, or a malformed
            eval_config, e.g. a threshold that could never be checked.
          ExplanationError: a malformed explain_config (the message names the field).
          SimpleModelConfigError: a malformed simple_model_config (likewise).
          ConfigError: a malformed drift_config, or two drift references.
        """
        given = {
            keys.FEATURE_SLICING_SPEC_KEY: feature_slicing_spec,
            keys.FAIRNESS_INDICATOR_THRESHOLDS_KEY: fairness_indicator_thresholds,
            keys.MODULE_FILE_KEY: module_file,
            keys.MODULE_PATH_KEY: module_path,
        }
        for name, value in given.items():
            if value:
                raise ConfigError(f"Evaluator: {name} is not supported: {_REFUSED[name]}")
        if model is None:
            raise ConfigError(
                "Evaluator: model is required: glassbox evaluates a model's predictions (a "
                "SavedModel), not predictions stored in the examples"
            )
        if eval_config is None:
            raise ConfigError(
                "Evaluator: eval_config is required (a tfma.EvalConfig); without it the stock "
                "Evaluator falls back to the deprecated Estimator-only feature_slicing_spec"
            )
        check_written_eval_config(eval_config)
        if explain_config is not None:
            check_explain_config(explain_config)
        if simple_model_config is not None:
            check_simple_model_config(simple_model_config)
        if drift_config is not None:
            check_drift_config(drift_config)
        if drift_reference_split and drift_reference is not None:
            raise ConfigError(
                "Evaluator: drift_reference_split and drift_reference are exclusive: give one "
                "drift reference"
            )
        super().__init__(
            spec=EvaluatorSpec(
                examples=examples,
                model=model,
                baseline_model=baseline_model,
                schema=schema,
                eval_config=eval_config,
                example_splits=json_utils.dumps(example_splits),
                explain_config=explain_config,
                tensorboard_dir=tensorboard_dir,
                simple_model_config=simple_model_config,
                drift_config=drift_config,
                drift_reference_split=drift_reference_split,
                drift_reference=drift_reference,
                evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
                blessing=types.Channel(type=standard_artifacts.ModelBlessing),
                report=types.Channel(type=HTMLReport),
            )
        )

    def defer_to_validator(self) -> None:
        """Leaves the decision to a Validator of this evaluation (which calls this when built): the
        blessing is then not blessed and says so, so that only the Validator's can bless the model
        and make it a later run's baseline (LatestBlessedModelStrategy, the BaselineResolver)."""
        self.exec_properties[keys.DEFERS_TO_VALIDATOR_KEY] = 1
