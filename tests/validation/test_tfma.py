"""TFMA as the oracle of the validation engine: a stock TFMA evaluation (tfma.run_model_analysis
with thresholds in its EvalConfig), validated by our engine, fails exactly the thresholds TFMA's own
validation fails (tfma.load_validation_result), and so does our Evaluator's evaluation of the same
models and data, except where TFMA 0.52's code departs from its documentation, which is asserted:

- relative change thresholds: TFMA's code compares (v_c - v_b) / v_b, its docs (and we) v_c / v_b;
- a slice missing a metric (here: withheld by min_slice_size): TFMA also fails there the
  per-slice thresholds of other slices; we fail the thresholds that apply to the slice.
"""

from __future__ import annotations

import math
import os
from typing import Dict, Tuple

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.validation.validate import validate
from tests.evaluation.test_parity_tfma import evaluate_both
from tests.support import saved_models

CANDIDATE, BASELINE = "candidate", "baseline"
EVAL_CONFIG = """
model_specs { name: "candidate" label_key: "label" }
model_specs { name: "baseline" label_key: "label" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "category" }
slicing_specs { feature_keys: "count" }
options { min_slice_size { value: 100 } }
metrics_specs {
  model_names: ["candidate", "baseline"]
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "AUC"
    threshold { value_threshold { lower_bound { value: 0 } }
                change_threshold { direction: HIGHER_IS_BETTER absolute { value: -1 } } }
    per_slice_thresholds { slicing_specs {}
      threshold { value_threshold { lower_bound { value: 1 } }
                  change_threshold { direction: HIGHER_IS_BETTER absolute { value: 1 } } } }
    per_slice_thresholds { slicing_specs { feature_keys: "category" }
      threshold { value_threshold { upper_bound { value: 1 } }
                  change_threshold { direction: LOWER_IS_BETTER absolute { value: 1 } } } }
    per_slice_thresholds { slicing_specs { feature_values { key: "category" value: "zzz" } }
      threshold { value_threshold { lower_bound { value: 0 } } } } }
  metrics { class_name: "BinaryAccuracy"
    threshold { value_threshold { upper_bound { value: 0 } }
                change_threshold { direction: HIGHER_IS_BETTER relative { value: 0.5 } } } }
  metrics { class_name: "Precision"
    threshold { change_threshold { direction: LOWER_IS_BETTER relative { value: 2 } } } }
  metrics { class_name: "MeanSquaredError"
    threshold { change_threshold { direction: LOWER_IS_BETTER absolute { value: -1 } } } }
}
"""
# (slice key, metric key, serialized threshold): one threshold applied to one slice.
Applied = Tuple[tuple, metric_types.MetricKey, bytes]


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory) -> Tuple[str, str]:
    """(TFMA's, our Evaluator's) evaluation of the same candidate, baseline and examples."""
    tmp_dir = str(tmp_path_factory.mktemp("validation_tfma"))
    files = [
        saved_models.write_tfrecords(
            os.path.join(tmp_dir, "examples", "data.gz"), saved_models.make_examples(400, seed=3)
        )
    ]
    models = {
        name: saved_models.export_model(os.path.join(tmp_dir, name), seed=seed)
        for name, seed in ((CANDIDATE, 0), (BASELINE, 1))
    }
    return evaluate_both(
        tmp_dir, text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig()), models, files
    )


def _tfma_failures(evaluation_dir: str) -> Dict[Applied, str]:
    result = tfma.load_validation_result(evaluation_dir)
    failures = {}
    for per_slice in result.metric_validations_per_slice:
        for failure in per_slice.failures:
            threshold = failure.metric_threshold
            generic = (
                threshold.value_threshold
                if threshold.HasField("value_threshold")
                else threshold.change_threshold
            )
            failures[
                (
                    slicer_lib.deserialize_slice_key(per_slice.slice_key),
                    metric_types.MetricKey.from_proto(failure.metric_key),
                    generic.SerializeToString(),
                )
            ] = failure.message
    return failures


def _our_verdicts(evaluation_dir: str):
    """({applied threshold: passed}, decision) of our engine on an evaluation."""
    decision = validate(evaluation_dir)
    return {
        (c.slice_key, c.metric_key, c.tfma_threshold.SerializeToString()): c.passed
        for c in decision.checks
        if c.slice_key is not None
    }, decision


def _is_relative(applied: Applied) -> bool:
    threshold = config_pb2.GenericChangeThreshold.FromString(applied[2])
    return threshold.HasField("relative")


@pytest.mark.slow
@pytest.mark.parametrize("evaluator", ["tfma", "glassbox"])
def test_our_engine_fails_what_tfma_fails_except_where_tfma_departs_from_its_docs(
    evaluations, evaluator
):
    tfma_dir, ours_dir = evaluations
    expected = _tfma_failures(tfma_dir)
    verdicts, decision = _our_verdicts(tfma_dir if evaluator == "tfma" else ours_dir)
    ours = {applied for applied, passed in verdicts.items() if not passed}
    relative = {a for a in set(expected) | set(verdicts) if a[1].is_diff and _is_relative(a)}
    # TFMA fails, where a slice lacks the metric, every per-slice threshold of it, applicable or not.
    not_applicable = {a for a in expected if a not in verdicts and a not in relative}
    assert not_applicable and {expected[a] for a in not_applicable} == {"Metric not found."}
    assert {a[0] for a in not_applicable} <= {
        c.slice_key for c in decision.checks if c.kind == "missing_metric"
    }
    assert set(expected) - relative - not_applicable == ours - relative
    # Kinds covered: value and change thresholds passing and failing, per-slice ones, withheld slices.
    kinds = {(c.kind, c.passed) for c in decision.checks}
    assert {
        ("value_threshold", True),
        ("value_threshold", False),
        ("change_threshold", True),
        ("change_threshold", False),
        ("missing_metric", False),
        ("missing_slice", False),
    } <= kinds
    result = tfma.load_validation_result(tfma_dir)
    assert (
        [dict(s.feature_values) for s in decision.validation_result.missing_slices]
        == [dict(s.feature_values) for s in result.missing_slices]
        == [{"category": "zzz"}]
    )
    assert decision.validation_result.validation_ok == result.validation_ok is False


@pytest.mark.slow
def test_relative_thresholds_follow_the_docs_ratio_where_tfmas_code_uses_the_relative_change(
    evaluations,
):
    tfma_dir, _ = evaluations
    expected = _tfma_failures(tfma_dir)
    verdicts, decision = _our_verdicts(tfma_dir)
    checks = {
        (c.slice_key, c.metric_key, c.tfma_threshold.SerializeToString()): c
        for c in decision.checks
        if c.slice_key is not None
        and c.kind == "change_threshold"
        and c.tfma_threshold.HasField("relative")
    }
    assert checks
    disagreements = 0
    for applied, check in checks.items():
        threshold = check.tfma_threshold
        if not check.baseline_value > 0:  # both fail: no ratio (ours), NaN ratio (TFMA's)
            assert not check.passed and applied in expected
            continue
        ratio, relative_change = (
            check.value / check.baseline_value,
            (check.value - check.baseline_value) / check.baseline_value,
        )
        higher = threshold.direction == config_pb2.MetricDirection.HIGHER_IS_BETTER
        docs = ratio >= threshold.relative.value if higher else ratio <= threshold.relative.value
        code = (
            relative_change >= threshold.relative.value
            if higher
            else relative_change <= threshold.relative.value
        )
        assert not math.isclose(ratio, threshold.relative.value) and check.passed is docs
        assert (applied not in expected) is code
        disagreements += docs != code
    # binary_accuracy's ratio to the baseline is >= 0.5 (passes) but its relative change is not
    assert disagreements >= 1
