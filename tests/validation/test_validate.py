"""The validation engine: every threshold rule and gate against hand-computed cases, boundaries
included (equality, baseline 0, NaN, missing metric, missing slice), on small evaluations in
TFMA's format; its outputs as TFMA's loader and decision.json readers see them; bad input."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import json_format, text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox.protos import validator_config_pb2 as vc
from glassbox.validation import errors
from glassbox.validation.decision import ModelRef
from glassbox.validation.thresholds import change_rule, value_rule
from glassbox.validation.validate import has_thresholds, validate, write_validation
from tests.support.validation_fixtures import BASELINE, OVERALL, metrics, write_evaluation

TEACHER, PILOT = (("occupation", "teacher"),), (("occupation", "pilot"),)
MODEL_SPECS = 'model_specs { label_key: "label" } slicing_specs {} slicing_specs { feature_keys: "occupation" } '


def _value(lower=None, upper=None) -> config_pb2.GenericValueThreshold:
    threshold = config_pb2.GenericValueThreshold()
    if lower is not None:
        threshold.lower_bound.value = lower
    if upper is not None:
        threshold.upper_bound.value = upper
    return threshold


def _change(
    direction="HIGHER_IS_BETTER", absolute=None, relative=None
) -> config_pb2.GenericChangeThreshold:
    threshold = config_pb2.GenericChangeThreshold(
        direction=config_pb2.MetricDirection.Value(direction)
    )
    if absolute is not None:
        threshold.absolute.value = absolute
    if relative is not None:
        threshold.relative.value = relative
    return threshold


def _config(text: str) -> vc.ValidatorConfig:
    return text_format.Parse(text, vc.ValidatorConfig())


def _eval_config(metrics_specs: str) -> config_pb2.EvalConfig:
    return text_format.Parse(MODEL_SPECS + metrics_specs, config_pb2.EvalConfig())


def _by_slice(decision, kind=None):
    """{(slice, metric): passed} of the decision's checks (of one kind)."""
    return {
        (c.slice, c.metric): c.passed for c in decision.checks if kind is None or c.kind == kind
    }


# --- The rules, on hand-computed numbers -------------------------------------------------------


@pytest.mark.parametrize(
    "threshold, value, passed",
    [
        (_value(lower=0.7), 0.7, True),  # bounds are inclusive
        (_value(lower=0.7), 0.6999999, False),
        (_value(upper=0.3), 0.3, True),
        (_value(upper=0.3), 0.3000001, False),
        (_value(0.2, 0.4), 0.2, True),
        (_value(0.2, 0.4), 0.4, True),
        (_value(0.2, 0.4), 0.41, False),
        (_value(lower=-math.inf), math.nan, False),  # NaN meets no bound, not even -inf
        (_value(upper=0.3), math.inf, False),
    ],
)
def test_value_rule_bounds_are_inclusive_and_nan_fails(threshold, value, passed):
    assert value_rule(threshold, value)[0] is passed


@pytest.mark.parametrize(
    "threshold, candidate, baseline, passed",
    [
        # absolute: v_c - v_b against the value, in the direction's sense; equality passes
        (_change(absolute=-0.01), 0.70, 0.71, True),
        (_change(absolute=-0.01), 0.69, 0.71, False),
        (_change(absolute=0.0), 0.5, 0.5, True),
        (_change("LOWER_IS_BETTER", absolute=0.0), 0.5, 0.5, True),
        (_change("LOWER_IS_BETTER", absolute=0.0), 0.51, 0.5, False),
        (_change("LOWER_IS_BETTER", absolute=0.05), 0.30, 0.25, True),
        # relative: the ratio v_c / v_b (TFMA's documentation), equality passes
        (_change(relative=1.01), 0.808, 0.8, True),
        (_change(relative=1.01), 0.807, 0.8, False),
        (_change(relative=0.99), 0.79, 0.8, False),
        (_change(relative=0.98), 0.79, 0.8, True),
        (_change("LOWER_IS_BETTER", relative=1.1), 0.22, 0.2, True),
        (_change("LOWER_IS_BETTER", relative=1.1), 0.23, 0.2, False),
        # both: each must hold
        (_change(absolute=0.0, relative=1.01), 0.805, 0.8, False),
        (_change(absolute=0.0, relative=1.01), 0.81, 0.8, True),
        # a ratio needs a positive baseline: 0 and negative fail, whatever the candidate
        (_change(relative=1.0), 0.5, 0.0, False),
        (_change(relative=1.0), 0.0, 0.0, False),
        (_change("LOWER_IS_BETTER", relative=1.0), -1.0, -0.5, False),
        (_change(absolute=-1.0), 0.5, 0.0, True),  # absolute does not divide
        # NaN on either side fails
        (_change(absolute=-1.0), math.nan, 0.5, False),
        (_change(relative=0.5), 0.5, math.nan, False),
    ],
)
def test_change_rule_absolute_relative_and_their_boundaries(threshold, candidate, baseline, passed):
    assert change_rule(threshold, candidate, baseline)[0] is passed


def test_relative_is_the_documented_ratio_not_tfma_codes_relative_change():
    # v_c / v_b = 1.25 >= 1.1 passes; TFMA's code would compare (v_c - v_b) / v_b = 0.25 >= 1.1 and fail.
    passed, clause = change_rule(_change(relative=1.1), 0.5, 0.4)
    assert passed and "a ratio of 1.25 meets the required ratio >= 1.1" in clause


# --- Thresholds on evaluations -----------------------------------------------------------------


@pytest.fixture(scope="module")
def with_baseline(tmp_path_factory):
    """Candidate vs baseline on Overall, teacher and pilot; pilot's AUC is NaN; a weighted AUC too."""
    eval_config = _eval_config("""
      metrics_specs {
        metrics { class_name: "ExampleCount" }
        metrics { class_name: "AUC"
                  threshold { value_threshold { lower_bound { value: 0.7 } }
                              change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.02 } } }
                  per_slice_thresholds { slicing_specs { feature_values { key: "occupation" value: "teacher" } }
                                         threshold { value_threshold { lower_bound { value: 0.75 } } } }
                  per_slice_thresholds { slicing_specs { feature_values { key: "occupation" value: "astronaut" } }
                                         threshold { value_threshold { lower_bound { value: 0.5 } } } } }
        metrics { class_name: "MeanSquaredError"
                  threshold { change_threshold { direction: LOWER_IS_BETTER relative { value: 1.1 } } } }
        metrics { class_name: "Precision" threshold { value_threshold { lower_bound { value: 0.1 } } } }
      }""")
    slices = {
        OVERALL: metrics(
            {"example_count": 1000, "auc": (0.74, 0.72, 0.76), "mean_squared_error": 0.22},
            {"example_count": 1000, "auc": (0.75, 0.73, 0.77), "mean_squared_error": 0.2},
            {"auc": (-0.01, -0.03, 0.01), "mean_squared_error": 0.02, "example_count": 0},
        ),
        TEACHER: metrics(
            {"example_count": 120, "auc": 0.75, "mean_squared_error": 0.3},
            {"example_count": 120, "auc": 0.8, "mean_squared_error": 0.2},
            {"auc": (-0.05, -0.08, -0.02), "mean_squared_error": 0.1, "example_count": 0},
        ),
        PILOT: metrics(
            {"example_count": 30, "auc": math.nan, "mean_squared_error": 0.0},
            {"example_count": 30, "auc": 0.6, "mean_squared_error": 0.0},
        ),
    }
    return write_evaluation(
        str(tmp_path_factory.mktemp("with_baseline")), eval_config, slices, has_baseline=True
    )


def test_thresholds_apply_to_every_slice_or_the_matching_ones(with_baseline):
    decision = validate(with_baseline)
    assert (
        _by_slice(decision, "value_threshold")
        == {
            # auc >= 0.7 applies to every slice; >= 0.75 (equal: passes) to teacher only; NaN fails
            ("Overall", "auc"): True,
            ("occupation:teacher", "auc"): True,
            ("occupation:pilot", "auc"): False,
        }
        or decision.checks
    )
    teacher = [
        c
        for c in decision.checks
        if c.slice == "occupation:teacher" and c.kind == "value_threshold"
    ]
    assert sorted(c.threshold["lower_bound"] for c in teacher) == [0.7, 0.75]
    assert all(c.passed for c in teacher)


def test_change_thresholds_compare_with_the_baseline(with_baseline):
    checks = {
        (c.slice, c.metric): c
        for c in validate(with_baseline).checks
        if c.kind == "change_threshold"
    }
    # auc: -0.01 >= -0.02 passes on Overall, -0.05 fails on teacher, NaN - 0.6 fails on pilot
    assert {k: c.passed for k, c in checks.items() if k[1] == "auc"} == {
        ("Overall", "auc"): True,
        ("occupation:teacher", "auc"): False,
        ("occupation:pilot", "auc"): False,
    }
    # mean_squared_error, lower is better, ratio <= 1.1: 0.22/0.2 = 1.1 passes (equality), 0.3/0.2 fails,
    # and a baseline of 0 makes the ratio undefined: fails
    assert {k: c.passed for k, c in checks.items() if k[1] == "mean_squared_error"} == {
        ("Overall", "mean_squared_error"): True,
        ("occupation:teacher", "mean_squared_error"): False,
        ("occupation:pilot", "mean_squared_error"): False,
    }
    teacher_auc = checks[("occupation:teacher", "auc")]
    assert (teacher_auc.value, teacher_auc.baseline_value) == (0.75, 0.8)
    assert teacher_auc.sentence == (
        "auc on occupation:teacher is 0.75 against the baseline's 0.8: a change of "
        "-0.05 misses the required change >= -0.02 (higher is better)."
    )
    assert "undefined" in checks[("occupation:pilot", "mean_squared_error")].sentence


def test_a_threshold_on_a_slice_without_data_or_an_uncomputed_metric_fails(with_baseline):
    decision = validate(with_baseline)
    missing_slice = [c for c in decision.checks if c.kind == "missing_slice"]
    assert [(c.slice, c.metric, c.passed) for c in missing_slice] == [
        ("occupation:astronaut", "auc", False)
    ]
    assert "No slice of the evaluation matches occupation:astronaut" in missing_slice[0].sentence
    missing_metric = [c for c in decision.checks if c.kind == "missing_metric"]
    assert {(c.slice, c.metric) for c in missing_metric} == {
        (s, "precision") for s in ("Overall", "occupation:teacher", "occupation:pilot")
    }
    assert "precision on Overall was not computed by the evaluation" in missing_metric[0].sentence
    result = decision.validation_result
    assert [dict(s.feature_values) for s in result.missing_slices] == [{"occupation": "astronaut"}]
    assert not decision.blessed and not result.validation_ok and not decision.rubber_stamp


def test_load_validation_result_reads_what_tfma_would_record(with_baseline, tmp_path):
    decision = validate(with_baseline)
    write_validation(decision, str(tmp_path))
    loaded = tfma.load_validation_result(str(tmp_path))
    assert loaded == decision.validation_result
    assert not loaded.validation_ok and not loaded.rubber_stamp and not loaded.missing_thresholds
    failures = {
        (
            tuple((k.column, k.bytes_value.decode()) for k in s.slice_key.single_slice_keys),
            f.metric_key.name,
            f.metric_key.is_diff,
        ): f
        for s in loaded.metric_validations_per_slice
        for f in s.failures
    }
    teacher_auc_change = failures[(TEACHER, "auc", True)]
    assert teacher_auc_change.metric_value.double_value.value == pytest.approx(
        -0.05
    )  # the diff, as TFMA
    assert teacher_auc_change.metric_threshold.change_threshold.absolute.value == -0.02
    assert teacher_auc_change.metric_key.model_name == "candidate"
    assert math.isnan(failures[(PILOT, "auc", False)].metric_value.double_value.value)
    assert failures[(PILOT, "auc", False)].metric_threshold.value_threshold.lower_bound.value == 0.7
    details = {
        json.dumps(dict(d.slicing_spec.feature_values)): d.num_matching_slices
        for d in loaded.validation_details.slicing_details
    }
    assert details == {"{}": 3, '{"occupation": "teacher"}': 1}


def test_decision_json_and_markdown(with_baseline, tmp_path):
    decision = dataclasses.replace(
        validate(with_baseline), candidate=ModelRef("candidate", "/m/7", 7)
    )
    write_validation(decision, str(tmp_path))
    with open(tmp_path / "decision.json") as f:
        written = json.load(f)
    assert written == decision.to_json()
    assert set(written) == {
        "blessed",
        "validation_ok",
        "rubber_stamp",
        "failures",
        "reason",
        "evaluation",
        "candidate",
        "baseline",
        "checks",
        "override",
    }
    assert written["override"] is None  # a person's override, when one decided
    assert written["candidate"] == {"name": "candidate", "uri": "/m/7", "id": 7}
    assert written["baseline"] == {"name": BASELINE, "uri": "/models/baseline", "id": None}
    assert (
        written["failures"]
        == sum(not c["passed"] for c in written["checks"])
        == decision.failures
        > 0
    )
    assert written["evaluation"] == with_baseline
    for check in written["checks"]:
        assert set(check) == {
            "kind",
            "passed",
            "skipped",
            "slice",
            "metric",
            "value",
            "baseline_value",
            "threshold",
            "sentence",
        }
    pilot = next(
        c
        for c in written["checks"]
        if c["slice"] == "occupation:pilot" and c["kind"] == "value_threshold"
    )
    assert (
        pilot["value"] is None
        and pilot["sentence"] == "auc on occupation:pilot is NaN, which meets no bound (>= 0.7)."
    )
    assert written["reason"].startswith(
        f"Not blessed: {decision.failures} of {len(written['checks'])} checks failed"
    )
    markdown = (tmp_path / "decision.md").read_text()
    assert markdown.startswith("# Validation: NOT BLESSED\n")
    assert f"## Failed ({decision.failures})" in markdown and "MLMD id 7" in markdown
    assert all(f"- {c['sentence']}" in markdown for c in written["checks"])


def test_write_validation_refuses_to_overwrite(with_baseline, tmp_path):
    decision = validate(with_baseline)
    write_validation(decision, str(tmp_path))
    with pytest.raises(errors.ValidationError, match="already holds a validation"):
        write_validation(decision, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["decision.json", "decision.md", "validations.tfrecord"]


def test_thresholds_of_a_given_eval_config_replace_the_evaluations(with_baseline):
    override = _eval_config(
        'metrics_specs { metrics { class_name: "AUC" '
        "threshold { value_threshold { upper_bound { value: 0.8 } } } } }"
    )
    decision = validate(with_baseline, eval_config=override)
    assert _by_slice(decision) == {
        ("Overall", "auc"): True,
        ("occupation:teacher", "auc"): True,
        ("occupation:pilot", "auc"): False,
    }


# --- No baseline: rubber stamp -----------------------------------------------------------------


@pytest.fixture(scope="module")
def first_model(tmp_path_factory):
    """No baseline; the EvalConfig had a value and change threshold on auc and a change-only one on mse."""
    eval_config = _eval_config("""
      metrics_specs {
        metrics { class_name: "ExampleCount" }
        metrics { class_name: "AUC"
                  threshold { value_threshold { lower_bound { value: 0.7 } }
                              change_threshold { direction: HIGHER_IS_BETTER absolute { value: 0 } } } }
        metrics { class_name: "MeanSquaredError"
                  threshold { change_threshold { direction: LOWER_IS_BETTER relative { value: 1.1 } } } }
      }""")
    slices = {
        OVERALL: metrics({"example_count": 500, "auc": 0.72, "mean_squared_error": 0.2}),
        TEACHER: metrics({"example_count": 100, "auc": 0.71, "mean_squared_error": 0.3}),
    }
    return write_evaluation(
        str(tmp_path_factory.mktemp("first")), eval_config, slices, has_baseline=False
    )


def test_without_a_baseline_change_checks_are_skipped_and_the_result_is_a_rubber_stamp(
    first_model, tmp_path
):
    decision = validate(first_model)
    assert decision.blessed and decision.rubber_stamp and decision.failures == 0
    assert {(c.kind, c.slice, c.metric, c.skipped) for c in decision.checks} == {
        ("value_threshold", "Overall", "auc", False),
        ("value_threshold", "occupation:teacher", "auc", False),
        # TFMA drops change thresholds from eval_config.json without a baseline; the one left empty is listed
        ("change_threshold", "Overall", "mean_squared_error", True),
        ("change_threshold", "occupation:teacher", "mean_squared_error", True),
    }
    skipped = next(c for c in decision.checks if c.skipped)
    assert skipped.passed and "there is no baseline model to compare with" in skipped.sentence
    assert decision.reason == (
        "Blessed: all 2 checks passed and 2 were skipped (first model: no baseline to "
        "compare with, rubber stamp)."
    )
    write_validation(decision, str(tmp_path))
    loaded = tfma.load_validation_result(str(tmp_path))
    assert loaded.validation_ok and loaded.rubber_stamp
    assert json.loads((tmp_path / "decision.json").read_text())["baseline"] is None


def test_without_a_baseline_a_given_eval_configs_change_thresholds_are_skipped_value_ones_apply(
    first_model,
):
    override = _eval_config("""metrics_specs { metrics { class_name: "AUC" threshold {
        value_threshold { lower_bound { value: 0.715 } }
        change_threshold { direction: HIGHER_IS_BETTER relative { value: 1.0 } } } } }""")
    decision = validate(first_model, eval_config=override, has_baseline=False)
    assert {(c.kind, c.slice): (c.passed, c.skipped) for c in decision.checks} == {
        ("value_threshold", "Overall"): (True, False),
        ("value_threshold", "occupation:teacher"): (False, False),
        ("change_threshold", "Overall"): (True, True),
        ("change_threshold", "occupation:teacher"): (True, True),
    }
    assert (
        not decision.blessed and decision.rubber_stamp and decision.validation_result.rubber_stamp
    )


def test_the_baseline_given_must_agree_with_the_evaluation(first_model, with_baseline):
    with pytest.raises(
        errors.BaselineMismatchError, match="given a baseline model.*computed without one"
    ):
        validate(first_model, has_baseline=True)
    with pytest.raises(
        errors.BaselineMismatchError, match="not given a baseline model.*computed with one"
    ):
        validate(with_baseline, has_baseline=False)


# --- Nothing to check --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_thresholds(tmp_path_factory):
    return write_evaluation(
        str(tmp_path_factory.mktemp("none")),
        _eval_config(
            'metrics_specs { metrics { class_name: "ExampleCount" } metrics { class_name: "AUC" } }'
        ),
        {
            OVERALL: metrics({"example_count": 50, "auc": 0.6}),
            TEACHER: metrics({"example_count": 9, "auc": 0.5}),
        },
        withheld={
            PILOT: "Example count for this slice key is lower than the minimum required value: 10. "
            "No data is aggregated for this slice."
        },
    )


def test_no_threshold_at_all_is_an_error_unless_allowed(no_thresholds, tmp_path):
    with pytest.raises(
        errors.NoThresholdsError, match="nothing to validate: .*eval_config.json sets no threshold"
    ):
        validate(no_thresholds)
    decision = validate(no_thresholds, _config("allow_no_thresholds: true"))
    assert (
        decision.blessed and decision.checks == [] and decision.validation_result.missing_thresholds
    )
    assert "allow_no_thresholds" in decision.reason
    assert not has_thresholds(_eval_config('metrics_specs { metrics { class_name: "AUC" } }'), None)
    assert has_thresholds(
        _eval_config(
            'metrics_specs { metrics { class_name: "AUC" threshold { '
            "value_threshold { lower_bound { value: 0.5 } } } } }"
        ),
        None,
    )
    assert has_thresholds(config_pb2.EvalConfig(), _config("min_example_counts { min_count: 1 }"))


# --- Gates -------------------------------------------------------------------------------------


def test_min_example_count_per_slice_equality_passes_withheld_slices_fail(no_thresholds):
    decision = validate(no_thresholds, _config("min_example_counts { min_count: 9 }"))
    assert {(c.slice, c.kind): c.passed for c in decision.checks} == {
        ("Overall", "min_example_count"): True,
        ("occupation:teacher", "min_example_count"): True,
        ("occupation:pilot", "missing_metric"): False,
    }
    withheld = next(c.sentence for c in decision.checks if c.slice == "occupation:pilot")
    assert withheld.startswith(
        "The metrics of occupation:pilot were withheld (Example count for this slice key is "
        "lower than the minimum required value: 10"
    )
    decision = validate(
        no_thresholds,
        _config(
            "min_example_counts { min_count: 10 slicing_specs { feature_keys: 'occupation' } "
            "slicing_specs { feature_values { key: 'occupation' value: 'astronaut' } } }"
        ),
    )
    assert [(c.kind, c.slice, c.passed) for c in decision.checks] == [
        ("missing_slice", "occupation:astronaut", False),
        ("missing_metric", "occupation:pilot", False),
        ("min_example_count", "occupation:teacher", False),
    ]
    assert (
        decision.checks[2].sentence
        == "occupation:teacher has 9 examples, fewer than the required 10."
    )


def test_slice_gap_bounds_how_much_worse_a_slice_is_than_the_overall(with_baseline):
    higher = validate(
        with_baseline,
        _config("slice_gaps { metric: 'auc' direction: HIGHER_IS_BETTER max_gap: 0.0 }"),
        eval_config=_eval_config(""),
    )
    # teacher 0.75 is better than overall 0.74; pilot's NaN has no gap that can be shown within the bound
    assert _by_slice(higher) == {
        ("occupation:teacher", "auc"): True,
        ("occupation:pilot", "auc"): False,
    }
    lower = validate(
        with_baseline,
        _config(
            "slice_gaps { metric: 'mean_squared_error' direction: LOWER_IS_BETTER max_gap: 0.08 }"
        ),
        eval_config=_eval_config(""),
    )
    # teacher 0.3 is 0.08 above 0.22 (equality, up to rounding: 0.3 - 0.22 = 0.07999999999999999) passes
    assert _by_slice(lower) == {
        ("occupation:teacher", "mean_squared_error"): True,
        ("occupation:pilot", "mean_squared_error"): True,
    }
    strict = validate(
        with_baseline,
        _config(
            "slice_gaps { metric: 'mean_squared_error' direction: LOWER_IS_BETTER max_gap: 0.05 "
            "slicing_specs { feature_values { key: 'occupation' value: 'teacher' } } }"
        ),
        eval_config=_eval_config(""),
    )
    [check] = strict.checks
    assert not check.passed and check.sentence == (
        "mean_squared_error on occupation:teacher is 0.3, 0.08 above the overall 0.22, beyond the allowed gap 0.05 "
        "(lower is better)."
    )


def test_significance_uses_the_changes_confidence_interval(with_baseline, first_model):
    gate = "significance_gates { metric: 'auc' direction: HIGHER_IS_BETTER margin: %s %s }"
    every = "slicing_specs { feature_keys: 'occupation' } slicing_specs {}"
    decision = validate(with_baseline, _config(gate % (0.0, every)), eval_config=_eval_config(""))
    # Overall's change interval [-0.03, 0.01] holds 0: not significantly worse; teacher's [-0.08, -0.02] is
    # entirely below 0: significantly worse; pilot's change has no interval: cannot be shown not to be
    assert {(c.slice, c.kind): c.passed for c in decision.checks} == {
        ("Overall", "significance"): True,
        ("occupation:teacher", "significance"): False,
        ("occupation:pilot", "significance"): False,
    }
    teacher = next(c for c in decision.checks if c.slice == "occupation:teacher")
    assert teacher.sentence == (
        "auc on occupation:teacher changed by -0.05 from the baseline's 0.8 (95% confidence interval [-0.08, -0.02]): "
        "significantly worse than the baseline by more than the margin 0 (higher is better)."
    )
    # a margin of 0.02 tolerates teacher (upper bound -0.02 >= -0.02: equality passes)
    tolerant = validate(with_baseline, _config(gate % (0.02, "")), eval_config=_eval_config(""))
    assert [(c.slice, c.passed) for c in tolerant.checks] == [("Overall", True)]
    no_interval = validate(
        with_baseline,
        _config(
            "significance_gates { metric: 'mean_squared_error' direction: LOWER_IS_BETTER margin: 1 }"
        ),
        eval_config=_eval_config(""),
    )
    assert (
        not no_interval.blessed and "holds no confidence interval" in no_interval.checks[0].sentence
    )
    rubber_stamp = validate(first_model, _config(gate % (0.0, "")))
    assert [
        (c.kind, c.passed, c.skipped) for c in rubber_stamp.checks if c.kind == "significance"
    ] == [("significance", True, True)]


def test_an_attribution_gate_fails_when_the_evaluation_holds_no_attributions(
    with_baseline, first_model
):
    decision = validate(
        with_baseline,
        _config("attribution_gates { max_feature_share { feature: 'age' max_share: 0.5 } }"),
        eval_config=_eval_config(""),
    )
    [check] = decision.checks
    assert (check.kind, check.passed, check.slice) == ("attribution", False, "Overall")
    assert check.sentence.endswith("cannot be checked: the evaluation holds no attributions.")
    assert not decision.blessed
    comparison = validate(
        first_model, _config("attribution_gates { top_k_overlap { k: 3 min_overlap: 2 } }")
    )
    assert [(c.kind, c.skipped) for c in comparison.checks if c.kind == "attribution"] == [
        ("attribution", True)
    ]


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, message",
    [
        ("slice_gaps { metric: 'auc' max_gap: 0.1 }", r"'slice_gaps\[0\].direction' is unset"),
        (
            "significance_gates { direction: HIGHER_IS_BETTER }",
            r"'significance_gates\[0\].metric' is empty",
        ),
        (
            "significance_gates { metric: 'auc' direction: HIGHER_IS_BETTER margin: -1 }",
            r"margin' must be .* >= 0",
        ),
        ("min_example_counts { min_count: 0 }", r"'min_example_counts\[0\].min_count' must be > 0"),
        ("attribution_gates { }", r"'attribution_gates\[0\]' sets no rule"),
        (
            "attribution_gates { max_feature_share { feature: 'a' max_share: 1.5 } }",
            r"max_share' must be in \[0, 1\]",
        ),
        ("attribution_gates { top_k_overlap { k: 2 min_overlap: 3 } }", r"0 < min_overlap <= k"),
        (
            "attribution_gates { method: 'shapley' top_k_overlap { k: 2 min_overlap: 1 } }",
            r"'attribution_gates\[0\].method' is 'shapley', not a text method",
        ),
        (
            "attribution_gates { method: 'grad_cam' top_k_overlap { k: 2 min_overlap: 1 } }",
            r"'attribution_gates\[0\].method' is 'grad_cam': min_heat_map_overlap gates",
        ),
        (
            "attribution_gates { min_heat_map_overlap { top_fraction: 0.1 min_iou: 0.5 } }",
            r"'attribution_gates\[0\].method' is empty: min_heat_map_overlap gates an image",
        ),
        (
            "attribution_gates { method: 'occlusion' min_heat_map_overlap { min_iou: 0.5 } }",
            r"'attribution_gates\[0\].min_heat_map_overlap.top_fraction' must be in \(0, 1\]",
        ),
        (
            "attribution_gates { method: 'occlusion' "
            "min_heat_map_overlap { top_fraction: 0.1 min_iou: 2 } }",
            r"'attribution_gates\[0\].min_heat_map_overlap.min_iou' must be in \[0, 1\]",
        ),
        (
            "attribution_gates { method: 'token_shapley' max_feature_share { max_share: 0.1 } }",
            r"'attribution_gates\[0\].max_feature_share.feature' is empty: name a token",
        ),
    ],
)
def test_a_malformed_validator_config_is_refused_naming_the_field(with_baseline, config, message):
    with pytest.raises(errors.ValidatorConfigError, match=message):
        validate(with_baseline, _config(config))


MALFORMED_THRESHOLDS = [
    ("change_threshold { absolute { value: 0 } }", "change_threshold.direction", "is unset"),
    (
        "change_threshold { direction: HIGHER_IS_BETTER }",
        "change_threshold",
        "sets neither absolute nor relative",
    ),
    ("value_threshold { }", "value_threshold", "sets neither lower_bound nor upper_bound"),
    (
        "value_threshold { lower_bound { value: 1 } upper_bound { value: 0 } }",
        "value_threshold",
        "is contradictory: lower_bound > upper_bound",
    ),
]


@pytest.mark.parametrize("threshold, field, words", MALFORMED_THRESHOLDS)
def test_a_given_eval_configs_malformed_threshold_is_refused_naming_the_field(
    with_baseline, threshold, field, words
):
    override = _eval_config(
        f'metrics_specs {{ metrics {{ class_name: "AUC" threshold {{ {threshold} }} }} }}'
    )
    with pytest.raises(errors.ValidatorConfigError) as refused:
        validate(with_baseline, eval_config=override)
    assert f"'metrics_specs[0].metrics[0].threshold.{field}' (on AUC) {words}" in str(refused.value)


@pytest.mark.parametrize("threshold, field, words", MALFORMED_THRESHOLDS)
def test_a_malformed_threshold_read_from_the_evaluation_is_refused_never_skipped(
    with_baseline, tmp_path, threshold, field, words
):
    """As stock TFMA may have written it: the Validator re-checks every threshold it reads."""
    evaluation = tmp_path / "evaluation"
    shutil.copytree(with_baseline, evaluation)
    path = evaluation / "eval_config.json"
    saved = json.loads(path.read_text())
    config = json_format.ParseDict(saved["evalConfig"], config_pb2.EvalConfig())
    auc = next(m for m in config.metrics_specs[0].metrics if m.class_name == "AUC")
    auc.threshold.CopyFrom(text_format.Parse(threshold, config_pb2.MetricThreshold()))
    saved["evalConfig"] = json_format.MessageToDict(config)
    path.write_text(json.dumps(saved))
    with pytest.raises(errors.ValidatorConfigError) as refused:
        validate(str(evaluation))
    assert f"threshold on auc for every slice in {path}: {field} {words}" in str(refused.value)


def test_a_cross_slice_threshold_without_its_cross_slices_fails_as_missing(with_baseline):
    """(tests/evaluation/test_parity_tfma.py checks cross slices that exist against TFMA's verdict.)"""
    override = _eval_config(
        'metrics_specs { metrics { class_name: "AUC" cross_slice_thresholds { '
        "cross_slicing_specs { baseline_spec {} slicing_specs { feature_keys: 'occupation' } } "
        "threshold { value_threshold { upper_bound { value: 0.1 } } } } } }"
    )
    decision = validate(with_baseline, eval_config=override)
    [check] = [c for c in decision.checks if c.kind == "missing_slice"]
    assert check.sentence == (
        "No slice of the evaluation matches Overall minus occupation:*, so the threshold on auc "
        "(<= 0.1) cannot be checked."
    )
    assert not decision.blessed
    [missing] = decision.validation_result.missing_cross_slices
    assert list(missing.slicing_specs[0].feature_keys) == ["occupation"]


def test_unreadable_evaluations_are_errors_naming_the_file(with_baseline, tmp_path):
    with pytest.raises(errors.EvaluationReadError, match="does not exist"):
        validate(str(tmp_path / "nowhere"))
    with pytest.raises(errors.EvaluationReadError, match="eval_config.json not found"):
        validate(str(tmp_path))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "eval_config.json").write_text('{"evalConfig": {"modelSpecs": [')
    with pytest.raises(errors.EvaluationReadError, match=f"cannot read {broken}/eval_config.json"):
        validate(str(broken))
    (broken / "eval_config.json").write_text(
        open(os.path.join(with_baseline, "eval_config.json")).read()
    )
    with pytest.raises(errors.EvaluationReadError, match="holds no metrics-\\* files"):
        validate(str(broken))
    metrics_file = os.path.join(with_baseline, "metrics-00000-of-00001.tfrecord")
    with open(metrics_file, "rb") as f:
        content = f.read()
    (broken / "metrics-00000-of-00001.tfrecord").write_bytes(content[: len(content) - 7])
    with pytest.raises(
        errors.EvaluationReadError,
        match=f"{broken}/metrics-00000-of-00001.tfrecord is truncated or corrupt",
    ):
        validate(str(broken))
    (broken / "metrics-00000-of-00001.tfrecord").write_bytes(b"")
    with pytest.raises(errors.EvaluationReadError, match="holds no metrics"):
        validate(str(broken))


def test_an_evaluation_missing_a_file_its_config_promises_is_refused(with_baseline, tmp_path):
    # Plots are promised unless options.disabled_outputs names them; each shard must be there.
    evaluation = tmp_path / "evaluation"
    shutil.copytree(with_baseline, evaluation)
    plots = evaluation / "plots-00000-of-00001.tfrecord"
    plots.unlink()
    with pytest.raises(errors.EvaluationReadError, match=f"{evaluation}/plots-\\* not found"):
        validate(str(evaluation))
    plots.write_bytes(b"not a record")
    with pytest.raises(errors.EvaluationReadError, match=f"{plots} is truncated or corrupt"):
        validate(str(evaluation))
    plots.unlink()
    (evaluation / "plots-00001-of-00002.tfrecord").write_bytes(b"")
    with pytest.raises(
        errors.EvaluationReadError,
        match=f"{evaluation}/plots-00000-of-00002.tfrecord is missing \\(shard 1 of 2\\)",
    ):
        validate(str(evaluation))
    disabled = write_evaluation(
        str(tmp_path / "disabled"),
        MODEL_SPECS
        + 'options { disabled_outputs { values: "plots" } } metrics_specs { metrics { class_name: "AUC" '
        "threshold { value_threshold { lower_bound { value: 0.5 } } } } }",
        {OVERALL: metrics({"auc": 0.8})},
    )
    os.remove(os.path.join(disabled, "plots-00000-of-00001.tfrecord"))
    assert validate(disabled).blessed
