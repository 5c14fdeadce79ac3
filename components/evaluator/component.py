"""The glassbox Evaluator: TFMA-compatible sliced metrics, fast, as a TFX Beam component."""

from __future__ import annotations

from typing import List, Optional

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import json_utils

from glassbox import keys
from glassbox.components.evaluator import executor
from glassbox.evaluation.config import check_written_eval_config
from glassbox.explain.config import check_explain_config
from glassbox.protos.explain_config_pb2 import ExplainConfig


class EvaluatorSpec(ComponentSpec):
    """Channels and parameters of the glassbox Evaluator."""

    PARAMETERS = {
        keys.EVAL_CONFIG_KEY: ExecutionParameter(type=config_pb2.EvalConfig),
        keys.EXAMPLE_SPLITS_KEY: ExecutionParameter(type=str, optional=True),
        keys.EXPLAIN_CONFIG_KEY: ExecutionParameter(type=ExplainConfig, optional=True),
    }
    INPUTS = {
        keys.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        keys.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        keys.BASELINE_MODEL_KEY: ChannelParameter(type=standard_artifacts.Model, optional=True),
        keys.SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema, optional=True),
    }
    OUTPUTS = {
        keys.EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation),
    }


class Evaluator(base_beam_component.BaseBeamComponent):
    """Evaluates a model (and optionally a baseline) on Examples under a `tfma.EvalConfig`.

    Writes a ModelEvaluation in TFMA's format (`tfma.load_eval_result` reads it) and sets the
    overall slice's scalar metrics as custom properties of the artifact. With an ExplainConfig,
    the artifact also holds explanations (TFMA attributions and JSON files, see
    glassbox.explain.writer). `beam_pipeline_args` choose the runner (by default Beam's
    in-process FnApiRunner, see glassbox.beam_runner; Dataflow, Flink or Spark at scale).
    """

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        model: types.BaseChannel,
        eval_config: config_pb2.EvalConfig,
        baseline_model: Optional[types.BaseChannel] = None,
        schema: Optional[types.BaseChannel] = None,
        example_splits: Optional[List[str]] = None,
        explain_config: Optional[ExplainConfig] = None,
    ):
        """Builds the component.

        Args:
          examples: Examples to evaluate on.
          model: the candidate Model.
          eval_config: the `tfma.EvalConfig`, as written for TFMA.
          baseline_model: optional baseline Model (e.g. the latest blessed one) for diff metrics;
            the BaselineResolver's Model marked as no baseline counts as none.
          schema: optional Schema used to decode the examples.
          example_splits: splits of `examples` to evaluate on; default ['eval'].
          explain_config: optional explanations to compute (glassbox.ExplainConfig).

        Raises:
          ConfigError: a malformed eval_config, e.g. a threshold that could never be checked.
          ExplanationError: a malformed explain_config (the message names the field).
        """
        check_written_eval_config(eval_config)
        if explain_config is not None:
            check_explain_config(explain_config)
        super().__init__(
            spec=EvaluatorSpec(
                examples=examples,
                model=model,
                baseline_model=baseline_model,
                schema=schema,
                eval_config=eval_config,
                example_splits=json_utils.dumps(example_splits),
                explain_config=explain_config,
                evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            )
        )
