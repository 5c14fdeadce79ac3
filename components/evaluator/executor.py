"""Executor of the glassbox Evaluator: the engine's `evaluate` on the artifacts, its outcome's
properties set on the ModelEvaluation, its report copied into `report`; then the engine's
`evaluator_blessing` mapped onto the ModelBlessing, last."""

from __future__ import annotations

import os
from typing import Any, Dict, List

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import json_utils, proto_utils

from glassbox import keys
from glassbox.components.baseline_resolver.no_baseline import given_baseline
from glassbox.components.properties import set_properties
from glassbox.components.report_output import write_report_output
from glassbox.config_files import load_schema
from glassbox.engine.evaluate import evaluate, resolve_drift_reference
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import evaluator_blessing, write_blessing
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig


class Executor(base_beam_executor.BaseBeamExecutor):
    """Evaluates the model artifact(s) on the example splits; writes the ModelEvaluation and the
    report, then the ModelBlessing (the last two if the execution has those outputs; an error
    leaves no blessing)."""

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
        simple_model_json = exec_properties.get(keys.SIMPLE_MODEL_CONFIG_KEY)
        drift_json = exec_properties.get(keys.DRIFT_CONFIG_KEY)
        drift_references = input_dict.get(keys.DRIFT_REFERENCE_KEY) or []
        drift_split = exec_properties.get(keys.DRIFT_REFERENCE_SPLIT_KEY)

        models = Models(
            ModelArtifact(model.uri, model.id),
            ModelArtifact(baseline.uri, baseline.id) if baseline else None,
        )
        outcome = evaluate(
            eval_config,
            models.candidate,
            examples.uri,
            evaluation.uri,
            models.baseline,
            example_splits=json_utils.loads(exec_properties.get(keys.EXAMPLE_SPLITS_KEY) or "null"),
            beam_pipeline_args=self._beam_pipeline_args,
            schema=load_schema(schemas[0].uri) if schemas else None,
            explain_config=proto_utils.json_to_proto(explain_json, ExplainConfig())
            if explain_json
            else None,
            tensorboard_dir=os.path.join(
                exec_properties[keys.TENSORBOARD_DIR_KEY],
                self._context.pipeline_run_id or os.path.basename(evaluation.uri),
            )
            if exec_properties.get(keys.TENSORBOARD_DIR_KEY)
            else None,
            simple_model_config=proto_utils.json_to_proto(simple_model_json, SimpleModelConfig())
            if simple_model_json
            else None,
            drift_config=proto_utils.json_to_proto(drift_json, DriftConfig())
            if drift_json
            else None,
            drift_reference=resolve_drift_reference(drift_references[0].uri)
            if drift_references
            else resolve_drift_reference(examples=examples.uri, splits=[drift_split])
            if drift_split
            else None,
        )
        set_properties(evaluation, outcome.properties)
        write_report_output(output_dict, outcome.report, "evaluation report")
        if output_dict.get(keys.BLESSING_KEY):
            blessing = artifact_utils.get_single_instance(output_dict[keys.BLESSING_KEY])
            record = evaluator_blessing(
                evaluation.uri,
                os.path.join(blessing.uri, keys.EVALUATOR_VALIDATION_DIR),
                eval_config,
                models,
                outcome.properties,
                defers_to_validator=bool(exec_properties.get(keys.DEFERS_TO_VALIDATOR_KEY)),
            )
            set_properties(blessing, record.properties)
            write_blessing(record, blessing.uri)
