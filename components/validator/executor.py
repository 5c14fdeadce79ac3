"""Executor of the glassbox Validator: decides, writes the decision and its report, then the blessing, last."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from tensorflow_model_analysis.proto import config_pb2
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils, proto_utils

from glassbox.components.baseline_resolver.no_baseline import given_baseline
from glassbox.components.validator import constants
from glassbox.components.validator.evaluated_models import (
    EvaluatedModels,
    model_ref,
    validate_models,
)
from glassbox.protos import validator_config_pb2
from glassbox.report import write_report
from glassbox.validation.decision import Decision
from glassbox.validation.validate import write_validation


class Executor(base_executor.BaseExecutor):
    """Validates the evaluation of the model (against the baseline model, if given).

    Fails closed: the ModelBlessing's properties and its BLESSED/NOT_BLESSED file are set only
    after the whole validation (its report included) is written; an error leaves no blessing (TFX publishes no output
    of a failed execution).
    """

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        evaluation = artifact_utils.get_single_instance(input_dict[constants.EVALUATION_KEY])
        model = artifact_utils.get_single_instance(input_dict[constants.MODEL_KEY])
        baseline = given_baseline(input_dict.get(constants.BASELINE_MODEL_KEY))
        decision = validate_models(
            evaluation.uri,
            EvaluatedModels.recorded_on(evaluation),
            model_ref(model),
            model_ref(baseline),
            config=proto_utils.json_to_proto(
                exec_properties[constants.CONFIG_KEY], validator_config_pb2.ValidatorConfig()
            ),
            eval_config=_optional_eval_config(exec_properties.get(constants.EVAL_CONFIG_KEY)),
        )
        validation_uri = artifact_utils.get_single_uri(output_dict[constants.VALIDATION_KEY])
        write_validation(decision, validation_uri)
        write_report(
            os.path.join(validation_uri, constants.REPORT_FILE_NAME), evaluation.uri, validation_uri
        )
        _bless(
            artifact_utils.get_single_instance(output_dict[constants.BLESSING_KEY]),
            decision,
            model,
            baseline,
        )


def _optional_eval_config(json_text: Optional[str]) -> Optional[config_pb2.EvalConfig]:
    return proto_utils.json_to_proto(json_text, config_pb2.EvalConfig()) if json_text else None


def _bless(
    blessing: types.Artifact,
    decision: Decision,
    model: types.Artifact,
    baseline: Optional[types.Artifact],
) -> None:
    """Sets the ModelBlessing's properties as the stock Evaluator does (plus the decision in
    brief), then writes its BLESSED or NOT_BLESSED file."""
    blessing.set_string_custom_property(constants.CURRENT_MODEL_URI_PROPERTY, model.uri)
    blessing.set_int_custom_property(constants.CURRENT_MODEL_ID_PROPERTY, model.id)
    if baseline is not None:
        blessing.set_string_custom_property(constants.BASELINE_MODEL_URI_PROPERTY, baseline.uri)
        blessing.set_int_custom_property(constants.BASELINE_MODEL_ID_PROPERTY, baseline.id)
    blessing.set_int_custom_property(constants.VALIDATION_OK_PROPERTY, int(decision.validation_ok))
    blessing.set_int_custom_property(constants.RUBBER_STAMP_PROPERTY, int(decision.rubber_stamp))
    blessing.set_int_custom_property(constants.FAILURES_PROPERTY, decision.failures)
    blessing.set_string_custom_property(constants.REASON_PROPERTY, decision.reason)
    blessing.set_int_custom_property(constants.BLESSED_PROPERTY, int(decision.blessed))
    file_name = constants.BLESSED_FILE_NAME if decision.blessed else constants.NOT_BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, file_name), "")
