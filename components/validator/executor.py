"""Executor of the glassbox Validator: the engine's `validate` on the artifacts, its report
copied into `report`, its blessing mapped onto the ModelBlessing, last."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import proto_utils

from glassbox import keys
from glassbox.components.baseline_resolver.no_baseline import given_baseline
from glassbox.components.properties import get_properties, set_properties
from glassbox.components.report_output import write_report_output
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import validate, write_blessing
from glassbox.protos import validator_config_pb2
from glassbox.provenance.override import Override


class Executor(base_executor.BaseExecutor):
    """Validates the evaluation of the model (against the baseline model, if given).

    Fails closed: the ModelBlessing's properties and its BLESSED/NOT_BLESSED file are set only
    after the whole validation (its report included) is written; an error leaves no blessing
    (TFX publishes no output of a failed execution).
    """

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        evaluation = artifact_utils.get_single_instance(input_dict[keys.EVALUATION_KEY])
        model = artifact_utils.get_single_instance(input_dict[keys.MODEL_KEY])
        baseline = given_baseline(input_dict.get(keys.BASELINE_MODEL_KEY))
        outcome = validate(
            evaluation.uri,
            artifact_utils.get_single_uri(output_dict[keys.VALIDATION_KEY]),
            proto_utils.json_to_proto(
                exec_properties[keys.VALIDATOR_CONFIG_KEY], validator_config_pb2.ValidatorConfig()
            ),
            _optional_eval_config(exec_properties.get(keys.EVAL_CONFIG_KEY)),
            models=Models(
                ModelArtifact(model.uri, model.id),
                ModelArtifact(baseline.uri, baseline.id) if baseline else None,
            ),
            evaluation_properties=get_properties(evaluation),
            overrides=[
                Override.from_properties(get_properties(a), a.id)
                for a in input_dict.get(keys.OVERRIDES_KEY, [])
            ],
        )
        write_report_output(output_dict, outcome.report, "validation report")
        blessing = artifact_utils.get_single_instance(output_dict[keys.BLESSING_KEY])
        set_properties(blessing, outcome.blessing.properties)
        write_blessing(outcome.blessing, blessing.uri)


def _optional_eval_config(json_text: Optional[str]) -> Optional[config_pb2.EvalConfig]:
    return proto_utils.json_to_proto(json_text, config_pb2.EvalConfig()) if json_text else None
