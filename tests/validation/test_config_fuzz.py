"""Random mutations of a valid EvalConfig's thresholds and of a ValidatorConfig: every one is
accepted or refused with a GlassboxError (never another exception), and what is accepted is never
blessed where a check could not be applied (a missing slice or metric, a failed check, or nothing
checked without a baseline to excuse it).

The default suite runs a bounded number of examples; ``GLASSBOX_FUZZ_EXAMPLES`` raises it.
"""

import math
import os
import uuid

import pytest
from google.protobuf import text_format
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tensorflow_model_analysis.proto import config_pb2

from glassbox.errors import GlassboxError
from glassbox.evaluation.config import check_written_eval_config
from glassbox.protos import validator_config_pb2 as vc
from glassbox.validation import checks
from glassbox.validation.validate import validate
from tests.support.validation_fixtures import metrics, write_evaluation

BASE = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "AUC" } metrics { class_name: "ExampleCount" } }
"""
PARIS = (("city", "Paris"),)
NUMBERS = st.one_of(
    st.floats(-2, 2), st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 0.5, 1.0])
)
SLICING_SPECS = st.sampled_from(
    [
        {},
        {"feature_keys": ["city"]},
        {"feature_values": {"city": "Paris"}},
        {"feature_values": {"city": "Rome"}},
        {"feature_keys": ["country"]},
        {"feature_keys": ["city", "sex"]},
    ]
)


@st.composite
def thresholds(draw) -> config_pb2.MetricThreshold:
    threshold = config_pb2.MetricThreshold()
    if draw(st.booleans()):
        value = threshold.value_threshold
        value.SetInParent()
        for bound in ("lower_bound", "upper_bound"):
            if draw(st.booleans()):
                getattr(value, bound).value = draw(NUMBERS)
    if draw(st.booleans()):
        change = threshold.change_threshold
        change.SetInParent()
        change.direction = draw(st.sampled_from([0, 1, 2]))
        for amount in ("absolute", "relative"):
            if draw(st.booleans()):
                getattr(change, amount).value = draw(NUMBERS)
    return threshold


@st.composite
def eval_configs(draw) -> config_pb2.EvalConfig:
    config = text_format.Parse(BASE, config_pb2.EvalConfig())
    spec = config.metrics_specs[0]
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["metric", "per_slice", "map", "map_per_slice", "cross"]))
        metric = spec.metrics[draw(st.integers(0, 1))]
        name = draw(st.sampled_from(["auc", "example_count", "accuracy"]))
        if where == "metric":
            metric.threshold.CopyFrom(draw(thresholds()))
        elif where == "per_slice":
            metric.per_slice_thresholds.add(
                slicing_specs=[config_pb2.SlicingSpec(**draw(SLICING_SPECS))],
                threshold=draw(thresholds()),
            )
        elif where == "map":
            spec.thresholds[name].CopyFrom(draw(thresholds()))
        elif where == "map_per_slice":
            spec.per_slice_thresholds[name].thresholds.add(
                slicing_specs=[config_pb2.SlicingSpec(**draw(SLICING_SPECS))],
                threshold=draw(thresholds()),
            )
        else:
            metric.cross_slice_thresholds.add(threshold=draw(thresholds()))
    return config


@st.composite
def validator_configs(draw) -> vc.ValidatorConfig:
    config = vc.ValidatorConfig(allow_no_thresholds=draw(st.booleans()))
    if draw(st.booleans()):
        config.min_example_counts.add(min_count=draw(st.integers(-5, 300)))
    if draw(st.booleans()):
        config.slice_gaps.add(
            metric=draw(st.sampled_from(["auc", "accuracy", ""])),
            direction=draw(st.sampled_from([0, 1, 2])),
            max_gap=draw(NUMBERS),
        )
    return config


def _unapplied(decision) -> list:
    """The checks that could not be applied, or failed; a blessing must have none."""
    return [
        c
        for c in decision.checks
        if not c.passed or c.kind in (checks.MISSING_SLICE, checks.MISSING_METRIC)
    ]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(
    max_examples=int(os.environ.get("GLASSBOX_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    eval_config=eval_configs(),
    validator_config=validator_configs(),
    has_baseline=st.booleans(),
    auc=st.floats(0, 1),
)
def test_mutated_configs_are_refused_or_never_blessed_unchecked(
    root, eval_config, validator_config, has_baseline, auc
):
    try:
        check_written_eval_config(eval_config)
    except GlassboxError:
        event("refused where first seen")
        return
    values = {"auc": auc, "example_count": 150}
    path = write_evaluation(
        str(root / uuid.uuid4().hex),
        eval_config,
        {
            (): metrics(values, values if has_baseline else None),
            PARIS: metrics(values, values if has_baseline else None),
        },
        has_baseline=has_baseline,
    )
    try:
        decision = validate(path, validator_config)
    except GlassboxError:
        event("refused by the Validator")  # e.g. nothing to check, a malformed gate
        return
    event("blessed" if decision.blessed else "not blessed")
    if decision.blessed:
        assert _unapplied(decision) == []
        applied = [c for c in decision.checks if not c.skipped]
        assert applied or validator_config.allow_no_thresholds or not has_baseline
