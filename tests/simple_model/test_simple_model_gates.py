"""Simpler-model gates (ValidatorConfig.simple_model_gates) on the evaluations of conftest.py."""

import shutil

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format

from glassbox import keys
from glassbox.protos import validator_config_pb2
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.gates import check_config
from glassbox.validation.validate import validate, write_validation


def _config(text):
    return text_format.Parse(text, validator_config_pb2.ValidatorConfig())


def _number(value):
    return f"{value:.6g}"


def test_a_candidate_no_better_than_logistic_regression_fails_saying_by_how_much(runs, tmp_path):
    decision = validate(
        str(runs["root"] / "bad"), _config("simple_model_gates { min_margin: 0.02 }")
    )
    assert not decision.blessed
    by_metric = {c.metric: c for c in decision.checks}
    assert set(by_metric) == {"auc vs logistic_regression", "auc vs decision_tree"}
    check = by_metric["auc vs logistic_regression"]
    [logistic] = [m for m in runs["bad"]["models"] if m["name"] == "logistic_regression"]
    candidate = runs["bad"]["candidate"]["score"]
    assert not check.passed
    assert check.sentence == (
        f"The candidate's AUC {_number(candidate)} does not beat logistic regression's "
        f"{_number(logistic['score'])} (it is {_number(-logistic['candidate_lead'])} worse); "
        f"the required margin 0.02 is not met (on {runs['bad']['held_out_examples']} held-out "
        "examples)."
    )
    write_validation(decision, str(tmp_path))
    result = tfma.load_validation_result(str(tmp_path))
    messages = [f.message for f in result.metric_validations_per_slice[0].failures]
    assert check.sentence in messages


def test_a_good_candidate_passes_at_margin_0_and_a_lead_short_of_the_margin_fails(runs):
    [tree] = [m for m in runs["good"]["models"] if m["name"] == "decision_tree"]
    passing = validate(str(runs["root"] / "good"), _config("simple_model_gates { min_margin: 0 }"))
    assert passing.blessed and [c.passed for c in passing.checks] == [True, True]
    assert all("at least the required margin 0 " in c.sentence for c in passing.checks)
    short = round(tree["candidate_lead"] + 0.01, 2)
    failing = validate(
        str(runs["root"] / "good"),
        _config(f'simple_model_gates {{ min_margin: {short} models: "decision_tree" }}'),
    )
    assert not failing.blessed
    assert failing.checks[0].sentence.startswith(
        f"The candidate's AUC {_number(runs['good']['candidate']['score'])} beats the decision "
        f"tree's {_number(tree['score'])} by {_number(tree['candidate_lead'])}, less than the "
        f"required margin {_number(short)} ("
    )


def test_without_simple_model_json_the_gate_fails_closed(runs, tmp_path):
    evaluation = tmp_path / "evaluation"
    shutil.copytree(runs["root"] / "good", evaluation)
    (evaluation / keys.SIMPLE_MODEL_FILE).unlink()
    decision = validate(str(evaluation), _config("simple_model_gates { min_margin: 0 }"))
    assert not decision.blessed
    [check] = decision.checks
    assert "holds no simple_model.json (evaluate with a SimpleModelConfig)" in check.sentence


@pytest.mark.parametrize(
    "gate, culprit",
    [
        ("min_margin: -0.1", "'simple_model_gates[0].min_margin' must be a finite number >= 0"),
        ('models: "forest"', "'simple_model_gates[0].models[0]' is 'forest'"),
    ],
)
def test_a_malformed_gate_is_refused_naming_the_field(gate, culprit):
    with pytest.raises(ValidatorConfigError, match=culprit.replace("[", r"\[").replace("]", r"\]")):
        check_config(_config(f"simple_model_gates {{ {gate} }}"))
