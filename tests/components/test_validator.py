"""The Validator component: refused when built with nothing to check; its executor blesses or
refuses (with the reasons) exactly as the stock Evaluator records a blessing, refuses evaluations
of other models, and fails closed on bad evaluations."""

import json
import os
import re
import shutil

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tfx.dsl.components.common.importer import Importer
from tfx.types import channel_utils, standard_artifacts
from tfx.utils import proto_utils

from glassbox import keys
from glassbox.components import Evaluator, Validator
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import evaluator_blessing
from glassbox.protos import validator_config_pb2
from glassbox.validation.errors import EvaluationReadError, NoThresholdsError
from tests.support.executors import output_artifacts, run_executor
from tests.support.validation_fixtures import OVERALL, metrics, write_evaluation

THRESHOLDS = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" threshold {
  value_threshold { lower_bound { value: 0.7 } }
  change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } } } } }
"""
CHANGE_ONLY = THRESHOLDS.replace("value_threshold { lower_bound { value: 0.7 } }", "")
NO_THRESHOLDS = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" } }
"""
CANDIDATE = ("/models/candidate", 7)
BASELINE = ("/models/baseline", 3)
UNRECORDED = object()


def _model(uri_and_id):
    model = standard_artifacts.Model()
    model.uri, model.mlmd_artifact.id = uri_and_id
    return model


def _evaluation(uri, candidate=CANDIDATE, baseline=None):
    """A ModelEvaluation at uri, recording (as our Evaluator does) the models it evaluated."""
    evaluation = standard_artifacts.ModelEvaluation()
    evaluation.uri = uri
    if candidate is not UNRECORDED:
        evaluation.set_string_custom_property(keys.CURRENT_MODEL_PROPERTY, candidate[0])
        evaluation.set_int_custom_property(keys.CURRENT_MODEL_ID_PROPERTY, candidate[1])
    if baseline:
        evaluation.set_string_custom_property(keys.BASELINE_MODEL_PROPERTY, baseline[0])
        evaluation.set_int_custom_property(keys.BASELINE_MODEL_ID_PROPERTY, baseline[1])
    return evaluation


def _validate(tmp_path, evaluation, baseline=None, outputs=None, **kwargs):
    """Runs the Validator's executor as TFX would (into outputs, if given); returns (blessing,
    validation dir)."""
    validator = Validator(
        evaluation=channel_utils.as_channel([evaluation]),
        model=channel_utils.as_channel([_model(CANDIDATE)]),
        baseline_model=channel_utils.as_channel([_model(baseline)]) if baseline else None,
        **kwargs,
    )
    outputs = run_executor(validator, outputs or tmp_path)
    return outputs[keys.BLESSING_KEY], outputs[keys.VALIDATION_KEY].uri


def _outputs(tmp_path):
    """The Validator's outputs, made before it runs (to look at them when it fails)."""
    return output_artifacts(
        Validator(
            evaluation=channel_utils.as_channel([standard_artifacts.ModelEvaluation()]),
            model=channel_utils.as_channel([standard_artifacts.Model()]),
        ),
        tmp_path,
    )


def _decision(validation_uri):
    with open(os.path.join(validation_uri, "decision.json")) as f:
        return json.load(f)


def _files(uri):
    return sorted(os.listdir(uri))


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluations")
    return {
        "good": write_evaluation(
            str(root / "good"),
            THRESHOLDS,
            {OVERALL: metrics({"auc": 0.8}, {"auc": 0.75})},
            has_baseline=True,
        ),
        "worse": write_evaluation(
            str(root / "worse"),
            THRESHOLDS,
            {OVERALL: metrics({"auc": 0.6}, {"auc": 0.75})},
            has_baseline=True,
        ),
        "first": write_evaluation(
            str(root / "first"), THRESHOLDS, {OVERALL: metrics({"auc": 0.8})}
        ),
        "first_change_only": write_evaluation(
            str(root / "first_change_only"), CHANGE_ONLY, {OVERALL: metrics({"auc": 0.8})}
        ),
        "unchecked": write_evaluation(
            str(root / "unchecked"), NO_THRESHOLDS, {OVERALL: metrics({"auc": 0.8})}
        ),
    }


def test_a_candidate_meeting_its_thresholds_is_blessed_as_the_stock_evaluator_records_it(
    tmp_path, evaluations
):
    blessing, validation = _validate(
        tmp_path, _evaluation(evaluations["good"], baseline=BASELINE), baseline=BASELINE
    )

    assert _files(blessing.uri) == ["BLESSED"]
    assert blessing.get_int_custom_property("blessed") == 1
    assert blessing.get_string_custom_property("current_model") == CANDIDATE[0]
    assert blessing.get_int_custom_property("current_model_id") == CANDIDATE[1]
    assert blessing.get_string_custom_property("baseline_model") == BASELINE[0]
    assert blessing.get_int_custom_property("baseline_model_id") == BASELINE[1]
    assert blessing.get_int_custom_property("validation_ok") == 1
    assert blessing.get_int_custom_property("rubber_stamp") == 0
    assert blessing.get_int_custom_property("failures") == 0
    assert blessing.get_string_custom_property("reason").startswith("Blessed: all 3 checks passed")
    assert tfma.load_validation_result(validation).validation_ok
    decision = _decision(validation)
    assert decision["candidate"] == {"name": "candidate", "uri": CANDIDATE[0], "id": CANDIDATE[1]}
    assert decision["baseline"] == {"name": "baseline", "uri": BASELINE[0], "id": BASELINE[1]}
    assert [c["kind"] for c in decision["checks"]] == [
        "evaluated_models",
        "value_threshold",
        "change_threshold",
    ]
    assert decision["checks"][0]["sentence"] == (
        "The evaluation is of the candidate, model 7 (/models/candidate), "
        "against the baseline, model 3 (/models/baseline)."
    )


def test_a_candidate_missing_its_thresholds_is_refused_with_each_reason(tmp_path, evaluations):
    blessing, validation = _validate(
        tmp_path, _evaluation(evaluations["worse"], baseline=BASELINE), baseline=BASELINE
    )

    assert _files(blessing.uri) == ["NOT_BLESSED"]
    assert blessing.get_int_custom_property("blessed") == 0
    assert blessing.get_int_custom_property("validation_ok") == 0
    assert blessing.get_int_custom_property("failures") == 2
    assert blessing.get_string_custom_property("reason").startswith(
        "Not blessed: 2 of 3 checks failed"
    )
    assert not tfma.load_validation_result(validation).validation_ok
    failed = [c["sentence"] for c in _decision(validation)["checks"] if not c["passed"]]
    assert len(failed) == 2 and all("auc" in sentence for sentence in failed)
    with open(os.path.join(validation, "decision.md")) as f:
        markdown = f.read()
    assert all(sentence in markdown for sentence in failed)


def test_the_first_model_is_rubber_stamped_on_its_value_thresholds(tmp_path, evaluations):
    blessing, validation = _validate(tmp_path, _evaluation(evaluations["first"]))

    assert _files(blessing.uri) == ["BLESSED"]
    assert blessing.get_int_custom_property("rubber_stamp") == 1
    assert not blessing.has_custom_property("baseline_model")
    assert not blessing.has_custom_property("baseline_model_id")
    assert _decision(validation)["baseline"] is None


@pytest.mark.parametrize("policy", ["", "RUBBER_STAMP"])
def test_a_first_model_no_check_applies_to_is_blessed_only_if_the_policy_says_so(
    tmp_path, evaluations, policy
):
    # Only a change threshold and no baseline: every check is skipped. TFX would bless it.
    config = text_format.Parse(
        f"no_applicable_checks: {policy}" if policy else "", validator_config_pb2.ValidatorConfig()
    )
    blessing, validation = _validate(
        tmp_path, _evaluation(evaluations["first_change_only"]), config=config
    )

    blessed = policy == "RUBBER_STAMP"
    assert _files(blessing.uri) == ["BLESSED" if blessed else "NOT_BLESSED"]
    assert blessing.get_int_custom_property("blessed") == int(blessed)
    assert blessing.get_int_custom_property("rubber_stamp") == 1
    reason = blessing.get_string_custom_property("reason")
    assert reason.startswith(
        "Blessed as a rubber stamp. No configured check applies"
        if blessed
        else "Not blessed. No configured check applies"
    )
    assert (
        "no_applicable_checks: RUBBER_STAMP)" if blessed else "no_applicable_checks unset"
    ) in reason
    assert [c["kind"] for c in _decision(validation)["checks"]] == [
        "evaluated_models",
        "change_threshold",
        "no_applicable_check",
    ]


def test_the_evaluators_own_blessing_rubber_stamps_it_as_tfma_does(tmp_path, evaluations):
    # The drop-in Evaluator's blessing follows TFMA: the same first model is blessed.
    blessing = evaluator_blessing(
        evaluations["first_change_only"],
        str(tmp_path / "validation"),
        text_format.Parse(CHANGE_ONLY, config_pb2.EvalConfig()),
        Models(ModelArtifact(*CANDIDATE)),
    )

    assert blessing.blessed and blessing.file_name == "BLESSED"
    assert blessing.properties["rubber_stamp"] == 1
    assert blessing.properties["reason"].startswith("Blessed as a rubber stamp.")


def test_a_given_eval_configs_thresholds_replace_the_evaluations(tmp_path, evaluations):
    stricter = text_format.Parse(THRESHOLDS.replace("0.7", "0.9"), config_pb2.EvalConfig())
    blessing, _ = _validate(
        tmp_path,
        _evaluation(evaluations["good"], baseline=BASELINE),
        baseline=BASELINE,
        eval_config=stricter,
    )
    assert blessing.get_int_custom_property("blessed") == 0
    assert "0.9" in blessing.get_string_custom_property("reason")


@pytest.mark.parametrize(
    "recorded, baseline, sentence",
    [
        (
            dict(candidate=("/models/other", 8), baseline=BASELINE),
            BASELINE,
            "The evaluation is of model 8 (/models/other), not of the candidate, model 7 (/models/candidate).",
        ),
        (
            dict(),
            BASELINE,
            "The evaluation was computed without a baseline, but the Validator was given the baseline model 3 "
            "(/models/baseline).",
        ),
        (
            dict(baseline=("/models/older", 2)),
            BASELINE,
            "The evaluation was computed against model 2 (/models/older), but the Validator was given the baseline "
            "model 3 (/models/baseline).",
        ),
        (
            dict(baseline=BASELINE),
            None,
            "The evaluation was computed against model 3 (/models/baseline), but the Validator was given no baseline.",
        ),
    ],
    ids=["other candidate", "without the baseline", "other baseline", "baseline not given"],
)
def test_an_evaluation_of_other_models_is_refused_saying_which(
    tmp_path, evaluations, recorded, baseline, sentence
):
    blessing, validation = _validate(
        tmp_path, _evaluation(evaluations["good"], **recorded), baseline=baseline
    )

    assert _files(blessing.uri) == ["NOT_BLESSED"]
    assert blessing.get_int_custom_property("blessed") == 0
    assert blessing.get_int_custom_property("failures") == 1
    assert (
        blessing.get_string_custom_property("reason")
        == f"Not blessed: 1 of 1 checks failed, first: {sentence}"
    )
    assert [c["sentence"] for c in _decision(validation)["checks"]] == [sentence]
    assert not tfma.load_validation_result(validation).validation_ok


def test_an_evaluation_without_the_record_stock_tfmas_is_validated_saying_the_model_check_was_skipped(
    tmp_path, evaluations
):
    blessing, validation = _validate(
        tmp_path, _evaluation(evaluations["good"], candidate=UNRECORDED), baseline=BASELINE
    )

    assert blessing.get_int_custom_property("blessed") == 1
    assert re.search(
        r"2 checks passed and 1 w\w+ skipped", blessing.get_string_custom_property("reason")
    )
    first = _decision(validation)["checks"][0]
    assert first["skipped"] and first["kind"] == "evaluated_models"
    assert first["sentence"].startswith("The evaluation does not record which models it evaluated")


def _assert_nothing_blessed(outputs):
    blessing, validation = outputs[keys.BLESSING_KEY], outputs[keys.VALIDATION_KEY]
    assert _files(blessing.uri) == [] and _files(validation.uri) == []
    assert not blessing.has_custom_property("blessed")


@pytest.mark.parametrize("damage", ["missing", "truncated", "no eval_config.json"])
def test_a_missing_or_damaged_evaluation_is_an_error_leaving_no_blessing(
    tmp_path, evaluations, damage
):
    uri = str(tmp_path / "evaluation")
    if damage != "missing":
        shutil.copytree(evaluations["good"], uri)
    if damage == "truncated":
        (metrics_file,) = [os.path.join(uri, f) for f in os.listdir(uri) if f.startswith("metrics")]
        with open(metrics_file, "r+b") as f:
            f.truncate(os.path.getsize(metrics_file) // 2)
    if damage == "no eval_config.json":
        os.remove(os.path.join(uri, "eval_config.json"))

    outputs = _outputs(tmp_path)
    with pytest.raises(EvaluationReadError, match="evaluation"):
        _validate(tmp_path, _evaluation(uri, baseline=BASELINE), baseline=BASELINE, outputs=outputs)
    _assert_nothing_blessed(outputs)


def test_an_evaluation_with_nothing_to_check_is_an_error_unless_allowed(tmp_path, evaluations):
    # An imported evaluation: its thresholds are known only when the executor reads it.
    outputs = _outputs(tmp_path)
    with pytest.raises(NoThresholdsError, match="allow_no_thresholds"):
        _validate(tmp_path, _evaluation(evaluations["unchecked"]), outputs=outputs)
    _assert_nothing_blessed(outputs)

    blessing, _ = _validate(
        tmp_path / "allowed", _evaluation(evaluations["unchecked"]), allow_no_thresholds=True
    )
    assert blessing.get_int_custom_property("blessed") == 1
    assert blessing.get_string_custom_property("reason").startswith("Blessed without checks")


def _config(validator):
    return proto_utils.json_to_proto(
        validator.exec_properties[keys.VALIDATOR_CONFIG_KEY], validator_config_pb2.ValidatorConfig()
    )


def _evaluator(eval_config):
    examples = Importer(source_uri="/examples", artifact_type=standard_artifacts.Examples).with_id(
        "examples"
    )
    model = Importer(source_uri="/model", artifact_type=standard_artifacts.Model).with_id("model")
    return Evaluator(
        examples=examples.outputs["result"],
        model=model.outputs["result"],
        eval_config=text_format.Parse(eval_config, config_pb2.EvalConfig()),
    )


def test_built_without_any_threshold_it_is_refused_naming_the_evaluator_unless_opted_in():
    evaluator = _evaluator(NO_THRESHOLDS)
    evaluation, model = evaluator.outputs["evaluation"], evaluator.inputs["model"]
    with pytest.raises(
        NoThresholdsError, match="the EvalConfig of Evaluator has no .*allow_no_thresholds=True"
    ):
        Validator(evaluation=evaluation, model=model)
    with pytest.raises(NoThresholdsError, match="the EvalConfig of eval_config has no"):
        Validator(
            evaluation=evaluation,
            model=model,
            eval_config=text_format.Parse(NO_THRESHOLDS, config_pb2.EvalConfig()),
        )

    by_argument = Validator(evaluation=evaluation, model=model, allow_no_thresholds=True)
    assert _config(by_argument).allow_no_thresholds
    by_config = Validator(
        evaluation=evaluation,
        model=model,
        config=validator_config_pb2.ValidatorConfig(allow_no_thresholds=True),
    )
    assert _config(by_config).allow_no_thresholds


def test_thresholds_or_gates_known_when_built_are_accepted():
    Validator(
        evaluation=_evaluator(THRESHOLDS).outputs["evaluation"],
        model=_evaluator(THRESHOLDS).inputs["model"],
    )
    evaluator = _evaluator(NO_THRESHOLDS)
    gated = validator_config_pb2.ValidatorConfig(
        min_example_counts=[validator_config_pb2.MinExampleCount(min_count=1)]
    )
    validator = Validator(
        evaluation=evaluator.outputs["evaluation"], model=evaluator.inputs["model"], config=gated
    )
    assert not _config(validator).allow_no_thresholds
