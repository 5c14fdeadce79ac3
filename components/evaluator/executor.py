"""Executor of the glassbox Evaluator: the engine's `evaluate` on the artifacts, its outcome's
properties set on the ModelEvaluation."""

from __future__ import annotations

from typing import Any, Dict, List

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils, json_utils, proto_utils

from glassbox.components.baseline_resolver.no_baseline import given_baseline
from glassbox.components.evaluator import constants
from glassbox.components.properties import set_properties
from glassbox.engine.evaluate import evaluate
from glassbox.engine.outcome import ModelArtifact
from glassbox.protos.explain_config_pb2 import ExplainConfig


def _read_schema(uri: str):
    """The Schema in a Schema artifact dir (SchemaGen writes one schema.pbtxt)."""
    return io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(uri))


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
            exec_properties[constants.EVAL_CONFIG_KEY], config_pb2.EvalConfig()
        )
        splits = json_utils.loads(
            exec_properties.get(constants.EXAMPLE_SPLITS_KEY) or "null"
        ) or list(constants.DEFAULT_EXAMPLE_SPLITS)
        examples = artifact_utils.get_single_instance(input_dict[constants.EXAMPLES_KEY])
        model = artifact_utils.get_single_instance(input_dict[constants.MODEL_KEY])
        baseline = given_baseline(input_dict.get(constants.BASELINE_MODEL_KEY))
        schemas = input_dict.get(constants.SCHEMA_KEY) or []
        evaluation = artifact_utils.get_single_instance(output_dict[constants.EVALUATION_KEY])
        explain_json = exec_properties.get(constants.EXPLAIN_CONFIG_KEY)

        outcome = evaluate(
            eval_config,
            ModelArtifact(model.uri, model.id),
            examples.uri,
            evaluation.uri,
            ModelArtifact(baseline.uri, baseline.id) if baseline else None,
            example_splits=splits,
            beam_pipeline_args=self._beam_pipeline_args,
            schema=_read_schema(schemas[0].uri).SerializeToString() if schemas else None,
            explain_config=proto_utils.json_to_proto(explain_json, ExplainConfig())
            if explain_json
            else None,
        )
        set_properties(evaluation, outcome.properties)
