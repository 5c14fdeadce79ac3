"""Attribution gates on hand-checkable attributions: shares, top-k overlap and shift, per slice, with
and without a baseline, each failure one sentence with the numbers; TFMA reads the result."""

import os

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox.protos import validator_config_pb2
from glassbox.validation.validate import validate, write_validation
from tests.support import validation_fixtures as fx

EVAL_CONFIG = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "ExampleCount" } }
"""
PARIS, LYON = (("city", "paris"),), (("city", "lyon"),)
# Shares: a 0.4, b 0.3, c 0.2, d 0.1 (candidate); a 0.5, c 0.3, e 0.15, b 0.05 (baseline).
# Shift: (0.1 + 0.25 + 0.1 + 0.1 + 0.15) / 2 = 0.35; top-2 overlap: {a, b} & {a, c} = 1.
CANDIDATE = {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}
BASELINE = {"a": 1.0, "c": 0.6, "e": 0.3, "b": 0.1}


def _key(model: str, name: str = "mean_absolute_attributions") -> metric_types.AttributionsKey:
    return metric_types.AttributionsKey(name=name, model_name=model, example_weighted=False)


def _write(path, attributions, has_baseline: bool) -> str:
    candidate = fx.CANDIDATE if has_baseline else ""
    counts = {"example_count": 100.0}
    fx.write_evaluation(
        path,
        EVAL_CONFIG,
        {
            slice_key: fx.metrics(counts, counts if has_baseline else None)
            for slice_key in (fx.OVERALL, PARIS, LYON)
        },
        has_baseline=has_baseline,
    )
    with tf.io.TFRecordWriter(os.path.join(path, "attributions-00000-of-00001.tfrecord")) as writer:
        for slice_key, by_model in attributions.items():
            record = {
                _key(candidate if model == fx.CANDIDATE else model, name): values
                for (model, name), values in by_model.items()
            }
            writer.write(
                mpv_writer.convert_slice_attributions_to_proto(
                    (slice_key, record)
                ).SerializeToString()
            )
    return path


def _mean(values):
    return {(fx.CANDIDATE, "mean_absolute_attributions"): values}


@pytest.fixture(scope="module")
def with_baseline(tmp_path_factory):
    both = {
        (fx.CANDIDATE, "mean_absolute_attributions"): CANDIDATE,
        (fx.BASELINE, "mean_absolute_attributions"): BASELINE,
    }
    # lyon: explained for the candidate only; the overall slice as stock TFMA writes totals.
    return _write(
        str(tmp_path_factory.mktemp("with_baseline")),
        {
            fx.OVERALL: {
                (model, "total_absolute_attributions"): {f: 10 * v for f, v in values.items()}
                for (model, _), values in both.items()
            },
            PARIS: both,
            LYON: _mean({"a": 1.0, "b": 1.0}),
        },
        has_baseline=True,
    )


@pytest.fixture(scope="module")
def first_model(tmp_path_factory):
    return _write(
        str(tmp_path_factory.mktemp("first_model")),
        {fx.OVERALL: _mean(CANDIDATE)},
        has_baseline=False,
    )


def _gates(text: str) -> validator_config_pb2.ValidatorConfig:
    return text_format.Parse(text, validator_config_pb2.ValidatorConfig())


def _attribution_checks(decision):
    return [c for c in decision.checks if c.kind == "attribution"]


@pytest.mark.parametrize(
    "max_share, passed, clause",
    [
        (0.4, True, "within the allowed 0.4"),  # equality passes
        (0.39, False, "above the allowed 0.39"),
    ],
)
def test_feature_share_against_its_bound(with_baseline, max_share, passed, clause):
    decision = validate(
        with_baseline,
        _gates(
            f"attribution_gates {{ max_feature_share {{ feature: 'a' max_share: {max_share} }} }}"
        ),
    )
    [check] = _attribution_checks(decision)
    assert (check.slice, check.passed, check.value, check.baseline_value) == (
        "Overall",
        passed,
        0.4,
        0.5,
    )
    assert check.sentence == (
        f"a's share of the total |attribution| on Overall is 0.4 (4 of 10), "
        f"{clause}; the baseline's share is 0.5."
    )
    assert decision.blessed == passed


@pytest.mark.parametrize("min_overlap, passed", [(1, True), (2, False)])
def test_top_k_overlap_with_the_baseline(with_baseline, min_overlap, passed):
    decision = validate(
        with_baseline,
        _gates(
            f"attribution_gates {{ top_k_overlap {{ k: 2 min_overlap: {min_overlap} }} "
            "slicing_spec { feature_values { key: 'city' value: 'paris' } } }"
        ),
    )
    [check] = _attribution_checks(decision)
    assert (check.slice, check.passed, check.value) == ("city:paris", passed, 1.0)
    assert check.sentence == (
        f"1 of the candidate's top 2 attributed features on city:paris (a, b) are among the "
        f"baseline's top 2 (a, c): {'at least' if passed else 'fewer than'} the required "
        f"{min_overlap}."
    )


@pytest.mark.parametrize("max_shift, passed", [(0.35, True), (0.34, False)])
def test_attribution_shift_from_the_baseline(with_baseline, max_shift, passed):
    decision = validate(
        with_baseline, _gates(f"attribution_gates {{ max_shift {{ max_shift: {max_shift} }} }}")
    )
    [check] = _attribution_checks(decision)
    assert check.passed == passed and check.value == pytest.approx(0.35)
    assert check.sentence == (
        f"The attribution shift from the baseline on Overall is 0.35 (half the L1 distance between the models' shares "
        f"of |attribution|), {'within' if passed else 'beyond'} the allowed {max_shift}; the largest change is b's "
        "share, 0.05 for the baseline and 0.3 for the candidate."
    )


def test_a_gate_on_every_slice_of_a_feature_checks_each_and_fails_where_attributions_lack(
    with_baseline,
):
    decision = validate(
        with_baseline,
        _gates(
            "attribution_gates { max_shift { max_shift: 0.5 } "
            "slicing_spec { feature_keys: 'city' } }"
        ),
    )
    checks = {c.slice: c for c in _attribution_checks(decision)}
    assert {name: c.passed for name, c in checks.items()} == {
        "city:lyon": False,
        "city:paris": True,
    }
    assert checks["city:lyon"].sentence.endswith(
        "cannot be checked: the evaluation holds no mean |attribution| of the baseline model there."
    )
    share = validate(
        with_baseline,
        _gates(
            "attribution_gates { max_feature_share { feature: 'd' max_share: 0.2 } "
            "slicing_spec { feature_keys: 'city' } }"
        ),
    )
    checks = {c.slice: c for c in _attribution_checks(share)}
    assert checks["city:lyon"].sentence == (
        "d is not among the features attributed on city:lyon (a, b), so its share "
        "of |attribution| cannot be checked against 0.2."
    )
    assert checks["city:paris"].passed and not share.blessed


def test_first_model_checks_shares_and_skips_comparisons(first_model, tmp_path):
    decision = validate(
        first_model,
        _gates(
            "attribution_gates { max_feature_share { feature: 'b' max_share: 0.25 } } "
            "attribution_gates { top_k_overlap { k: 2 min_overlap: 2 } } "
            "attribution_gates { max_shift { max_shift: 0 } } "
            "attribution_gates { max_feature_share { feature: 'a' max_share: 0.5 } "
            "slicing_spec { feature_keys: 'city' } }"
        ),
    )
    share, overlap, moved, *per_city = _attribution_checks(decision)
    assert share.sentence == (
        "b's share of the total |attribution| on Overall is 0.3 (0.3 of 1), above the allowed 0.25."
    )
    assert (overlap.skipped, moved.skipped) == (True, True)
    assert [c.sentence for c in per_city] == [
        f"The attribution gate (the share of |attribution| of a <= 0.5) on city:{city} cannot be checked: the "
        f"evaluation holds no attributions for city:{city}."
        for city in ("lyon", "paris")
    ]
    write_validation(decision, str(tmp_path))
    result = tfma.load_validation_result(str(tmp_path))
    messages = {f.message for s in result.metric_validations_per_slice for f in s.failures}
    assert share.sentence in messages and not result.validation_ok
