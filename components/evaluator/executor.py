"""Executor of the glassbox Evaluator: the engine's `evaluate` on the artifacts, its outcome's
properties set on the ModelEvaluation."""

from __future__ import annotations

from typing import Any, Dict, List

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import json_utils, proto_utils

from glassbox import keys
from glassbox.components.baseline_resolver.no_baseline import given_baseline
from glassbox.components.properties import set_properties
from glassbox.config_files import load_schema
from glassbox.engine.evaluate import evaluate
from glassbox.engine.outcome import ModelArtifact
from glassbox.protos.explain_config_pb2 import ExplainConfig


class Executor(base_beam_executor.BaseBeamExecutor):
    """Evaluates the model artifact(s) on the example splits; writes the ModelEvaluation."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        eval_config = proto_utils.json_to_proto(
            exec_properties[keys.EVAL_CONFIG_KEY], config_pb2.EvalConfig()
        )
        examples = artifact_utils.get_single_instance(input_dict[keys.EXAMPLES_KEY])
        model = artifact_utils.get_single_instance(input_dict[keys.MODEL_KEY])
        baseline = given_baseline(input_dict.get(keys.BASELINE_MODEL_KEY))
        schemas = input_dict.get(keys.SCHEMA_KEY) or []
        evaluation = artifact_utils.get_single_instance(output_dict[keys.EVALUATION_KEY])
        explain_json = exec_properties.get(keys.EXPLAIN_CONFIG_KEY)

        outcome = evaluate(
            eval_config,
            ModelArtifact(model.uri, model.id),
            examples.uri,
            evaluation.uri,
            ModelArtifact(baseline.uri, baseline.id) if baseline else None,
            example_splits=json_utils.loads(exec_properties.get(keys.EXAMPLE_SPLITS_KEY) or "null"),
            beam_pipeline_args=self._beam_pipeline_args,
            schema=load_schema(schemas[0].uri) if schemas else None,
            explain_config=proto_utils.json_to_proto(explain_json, ExplainConfig())
            if explain_json
            else None,
        )
        set_properties(evaluation, outcome.properties)
