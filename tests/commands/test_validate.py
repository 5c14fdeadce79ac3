"""`glassbox validate`: exit 0 when blessed, 1 when not, 2 on bad input; prints the decision."""

from __future__ import annotations

import json
import os

import pytest
import tensorflow_model_analysis as tfma

from glassbox.cli import main
from tests.support.validation_fixtures import OVERALL, metrics, write_evaluation

EVAL_CONFIG = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" threshold { value_threshold { lower_bound { value: 0.7 } } } } }
"""


CHANGE_ONLY = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" threshold {
  change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } } } } }
"""


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluations")
    written = {
        name: write_evaluation(str(root / name), EVAL_CONFIG, {OVERALL: metrics({"auc": auc})})
        for name, auc in (("good", 0.75), ("bad", 0.65))
    }
    # A first model (no baseline) with only a change threshold: no check applies to it.
    written["first"] = write_evaluation(
        str(root / "first"), CHANGE_ONLY, {OVERALL: metrics({"auc": 0.75})}
    )
    return written


def _validate(capsys, *args):
    code = main(["validate", *args])
    return code, capsys.readouterr()


def test_a_blessed_model_exits_0_and_prints_the_decision(evaluations, tmp_path, capsys):
    output = str(tmp_path / "out")
    code, printed = _validate(capsys, "--evaluation", evaluations["good"], "--output", output)
    assert code == 0
    assert printed.out.startswith(
        "# Validation: BLESSED\n\nBlessed: the 1 check passed (first model: no baseline "
        "to compare with, rubber stamp).\n"
    )
    assert "- auc on Overall is 0.75, within the bounds (>= 0.7). `value_threshold`" in printed.out
    report = os.path.join(output, "report.html")
    assert printed.out.endswith(f"Wrote validation to {output}, its report to {report}\n")
    assert tfma.load_validation_result(output).validation_ok
    with open(report) as f:
        assert f.read().startswith("<!DOCTYPE html>")
    with open(os.path.join(output, "decision.md")) as f:
        assert printed.out.startswith(f.read())


def test_a_model_failing_a_threshold_exits_1(evaluations, tmp_path, capsys):
    output = str(tmp_path / "out")
    code, printed = _validate(capsys, "--evaluation", evaluations["bad"], "--output", output)
    assert code == 1
    assert "# Validation: NOT BLESSED" in printed.out
    assert "auc on Overall is 0.65, below the lower bound 0.7." in printed.out
    with open(os.path.join(output, "decision.json")) as f:
        assert json.load(f)["blessed"] is False


def test_a_given_config_and_eval_config_are_applied(evaluations, tmp_path, capsys):
    (tmp_path / "eval_config.json").write_text(
        json.dumps(
            {
                "metricsSpecs": [
                    {
                        "metrics": [
                            {
                                "className": "AUC",
                                "threshold": {"valueThreshold": {"lowerBound": 0.6}},
                            }
                        ]
                    }
                ]
            }
        )
    )
    (tmp_path / "validator.pbtxt").write_text(
        "significance_gates { metric: 'auc' direction: HIGHER_IS_BETTER }"
    )
    code, printed = _validate(
        capsys,
        "--evaluation",
        evaluations["bad"],
        "--output",
        str(tmp_path / "out"),
        "--eval-config",
        str(tmp_path / "eval_config.json"),
        "--config",
        str(tmp_path / "validator.pbtxt"),
    )
    assert code == 0, printed
    assert "within the bounds (>= 0.6)" in printed.out
    assert "The significance gate on auc for Overall is skipped" in printed.out


@pytest.mark.parametrize(
    "policy, code, verdict",
    [
        (
            "",
            1,
            "Not blessed. No configured check applies: the 1 configured check was skipped "
            "(first model: no baseline to compare with); refused, as nothing is blessed unchecked "
            "(no_applicable_checks unset; ",
        ),
        ("REFUSE", 1, "Not blessed. No configured check applies"),
        (
            "RUBBER_STAMP",
            0,
            "Blessed as a rubber stamp. No configured check applies: the 1 "
            "configured check was skipped (first model: no baseline to compare with); blessed, as "
            "the policy says (no_applicable_checks: RUBBER_STAMP).",
        ),
    ],
)
def test_a_model_no_check_applies_to_is_blessed_only_if_the_policy_says_so(
    evaluations, tmp_path, capsys, policy, code, verdict
):
    args = ["--evaluation", evaluations["first"], "--output", str(tmp_path / "out")]
    if policy:
        (tmp_path / "c.pbtxt").write_text(f"no_applicable_checks: {policy}")
        args += ["--config", str(tmp_path / "c.pbtxt")]
    blessing = tmp_path / "blessing"
    assert _validate(capsys, *args, "--blessing", str(blessing))[0] == code
    with open(tmp_path / "out" / "decision.json") as f:
        decision = json.load(f)
    assert decision["blessed"] is bool(code == 0) and decision["reason"].startswith(verdict)
    assert [c["kind"] for c in decision["checks"]] == ["change_threshold", "no_applicable_check"]
    assert os.listdir(blessing) == ["BLESSED" if code == 0 else "NOT_BLESSED"]
    assert tfma.load_validation_result(str(tmp_path / "out")).validation_ok is (code == 0)


@pytest.mark.parametrize(
    "case, culprit",
    [
        ("missing evaluation", "does not exist"),
        ("malformed config", "malformed validator config in"),
        ("unreadable config", "cannot read validator config file"),
        ("bad gate", "'slice_gaps[0].direction' is unset"),
        ("bad policy", "field 'no_applicable_checks' is 7, not one of"),
        ("malformed eval config", "malformed eval config in"),
        (
            "eval config threshold without direction",
            "the given EvalConfig: EvalConfig field "
            "'metrics_specs[0].metrics[0].threshold.change_threshold.direction' (on AUC) is unset",
        ),
        ("output holds a validation", "already holds a validation"),
        ("bad evaluation properties", "must hold a JSON object of numbers and strings"),
        ("baseline without a model", "--baseline names the baseline of a candidate"),
    ],
)
def test_bad_input_exits_2_naming_the_culprit(evaluations, tmp_path, capsys, case, culprit):
    evaluation, output = evaluations["good"], str(tmp_path / "out")
    args = []
    if case == "missing evaluation":
        evaluation = str(tmp_path / "nowhere")
    elif case in ("malformed config", "bad gate", "bad policy"):
        (tmp_path / "c.pbtxt").write_text(
            {
                "bad gate": "slice_gaps { metric: 'auc' }",
                "bad policy": "no_applicable_checks: 7",
            }.get(case, "gates {")
        )
        args = ["--config", str(tmp_path / "c.pbtxt")]
    elif case == "unreadable config":
        args = ["--config", str(tmp_path / "nope.pbtxt")]
    elif case == "malformed eval config":
        (tmp_path / "e.json").write_text("{not json")
        args = ["--eval-config", str(tmp_path / "e.json")]
    elif case == "eval config threshold without direction":
        (tmp_path / "e.pbtxt").write_text(
            'model_specs { label_key: "label" } metrics_specs { metrics { class_name: "AUC" '
            "threshold { change_threshold { absolute { value: -0.01 } } } } }"
        )
        args = ["--eval-config", str(tmp_path / "e.pbtxt")]
    elif case == "bad evaluation properties":
        (tmp_path / "p.json").write_text('{"current_model": ["m"]}')
        args = ["--evaluation-properties", str(tmp_path / "p.json")]
    elif case == "baseline without a model":
        args = ["--baseline", str(tmp_path / "baseline")]
    else:
        assert main(["validate", "--evaluation", evaluation, "--output", output]) == 0
        capsys.readouterr()
    code, printed = _validate(capsys, "--evaluation", evaluation, "--output", output, *args)
    assert code == 2
    assert printed.err.startswith("glassbox validate: error: ") and culprit in printed.err
    assert case == "output holds a validation" or not os.path.exists(output)
