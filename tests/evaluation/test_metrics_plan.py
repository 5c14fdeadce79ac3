"""The metrics plan computes per slice exactly the metrics and plots TFMA's evaluator computes.

The oracle is TFMA's evaluator core run on the same examples (tests/support/tfma_reference.py), so
derived metrics, diffs against a baseline, private-metric removal and the metrics/plots split are
all checked against TFMA itself.
"""

import pickle

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.api import types as tfma_types
from tensorflow_model_analysis.metrics import metric_specs, metric_types
from tensorflow_model_analysis.proto import config_pb2

from glassbox import tfma_internals
from glassbox.errors import ConfigError
from glassbox.evaluation.config import prepare_eval_config
from glassbox.evaluation.errors import LabelDomainError, UnsupportedMetricError
from glassbox.evaluation.metrics_plan import MetricsPlan
from tests.support.tfma_reference import assert_equivalent, make_batch, membership_of, tfma_evaluate

NUM_ROWS = 300
NUM_CLASSES = 4
rng = np.random.default_rng(3)
# Every example is in the overall slice; two thirds also in ('color', 'red'), a sixth in ('color', 'blue').
SLICES = [
    [(), (("color", "red"),)] if i % 3 else ([(), (("color", "blue"),)] if i % 2 else [()])
    for i in range(NUM_ROWS)
]
WEIGHTS = rng.uniform(0.5, 2.0, NUM_ROWS)
MULTI_PREDICTIONS = rng.dirichlet(np.ones(NUM_CLASSES), NUM_ROWS)
BINARY = make_batch(
    {"": rng.integers(0, 2, NUM_ROWS).astype(float)}, {"": rng.random(NUM_ROWS)}, {"": WEIGHTS}
)
MULTI_CLASS = make_batch(
    {"": rng.integers(0, NUM_CLASSES, NUM_ROWS).astype(float)},
    {"": MULTI_PREDICTIONS},
    {"": WEIGHTS},
)
_regression_labels = rng.normal(5.0, 2.0, NUM_ROWS).round(1)
_regression_labels[:4] = 0.0
REGRESSION = make_batch(
    {"": _regression_labels}, {"": rng.normal(5.0, 2.0, NUM_ROWS)}, {"": WEIGHTS}
)


def _config(specs, weighted=True, **options) -> config_pb2.EvalConfig:
    model = config_pb2.ModelSpec(label_key="label", example_weight_key="weight" if weighted else "")
    return prepare_eval_config(
        config_pb2.EvalConfig(
            model_specs=[model], metrics_specs=specs, options=config_pb2.Options(**options)
        ),
        has_baseline=False,
    )


def _specs(text: str):
    return list(text_format.Parse(text, config_pb2.EvalConfig()).metrics_specs)


EXPLICIT_BINARY = _specs("""
metrics_specs {
  metrics { class_name: "TruePositives" }
  metrics { class_name: "FalsePositives" }
  metrics { class_name: "TrueNegatives" }
  metrics { class_name: "FalseNegatives" }
  metrics { class_name: "Precision" config: '"thresholds": [0.3, 0.5, 0.8]' }
  metrics { class_name: "Recall" }
  metrics { class_name: "F1Score" }
  metrics { class_name: "Specificity" }
  metrics { class_name: "FallOut" }
  metrics { class_name: "MissRate" }
  metrics { class_name: "PrecisionAtRecall" config: '"recall": 0.5' }
  metrics { class_name: "RecallAtPrecision" config: '"precision": 0.6' }
  metrics { class_name: "AUC" }
  metrics { class_name: "AUCPrecisionRecall" }
  metrics { class_name: "BinaryCrossEntropy" }
  metrics { class_name: "Calibration" }
  metrics { class_name: "MeanLabel" }
  metrics { class_name: "MeanPrediction" }
  metrics { class_name: "MeanSquaredError" }
  metrics { class_name: "MeanAbsoluteError" }
  metrics { class_name: "CalibrationPlot" config: '"num_buckets": 20' }
  metrics { class_name: "ConfusionMatrixPlot" }
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "WeightedExampleCount" }
  metrics { class_name: "BinaryAccuracy" config: '"name": "keras_binary_accuracy"' module: "tf_keras.metrics" }
  metrics { class_name: "BinaryCrossentropy" config: '"name": "keras_loss"' }
  example_weights { weighted: true unweighted: true }
}
""")
EXPLICIT_MULTI_CLASS = _specs("""
metrics_specs {
  metrics { class_name: "CategoricalCrossEntropy" }
  metrics { class_name: "MultiClassConfusionMatrixPlot" }
  metrics { class_name: "MultiClassConfusionMatrixAtThresholds" config: '"thresholds": [0.3, 0.5]' }
  metrics { class_name: "SparseCategoricalAccuracy" config: '"name": "accuracy"' }
  metrics { class_name: "SparseCategoricalCrossentropy" config: '"name": "loss"' }
}
metrics_specs {
  metrics { class_name: "Precision" }
  metrics { class_name: "Recall" }
  metrics { class_name: "AUC" }
  binarize { class_ids { values: [0, 2] } k_list { values: [1] } top_k_list { values: [2] } }
}
metrics_specs {
  metrics { class_name: "AUC" }
  metrics { class_name: "Recall" }
  aggregate { macro_average: true class_weights { key: 0 value: 1.0 } class_weights { key: 1 value: 0.5 }
              class_weights { key: 3 value: 2.0 } }
}
metrics_specs {
  metrics { class_name: "Precision" }
  aggregate { weighted_macro_average: true top_k_list { values: [2] } }
}
metrics_specs {
  metrics { class_name: "MeanPrediction" }
  metrics { class_name: "AUC" }
  metrics { class_name: "BinaryAccuracy" config: '"name": "micro_accuracy"' module: "tf_keras.metrics" }
  aggregate { micro_average: true class_weights { key: 0 value: 1.0 } class_weights { key: 2 value: 3.0 } }
}
""")
EXPLICIT_REGRESSION = _specs("""
metrics_specs {
  metrics { class_name: "MeanAbsolutePercentageError" }
  metrics { class_name: "MeanSquaredLogarithmicError" }
  metrics { class_name: "RootMeanSquaredError" }
  metrics { class_name: "LogCoshError" }
  metrics { class_name: "MeanAbsoluteError" config: '"name": "keras_mae"' module: "tf_keras.metrics" }
}
""")
CONFIGS = {
    "binary defaults": (BINARY, metric_specs.default_binary_classification_specs()),
    "binary explicit": (BINARY, EXPLICIT_BINARY),
    "multi-class defaults": (
        MULTI_CLASS,
        metric_specs.default_multi_class_classification_specs(
            binarize=config_pb2.BinarizationOptions(
                class_ids={"values": [1]}, top_k_list={"values": [2]}
            )
        ),
    ),
    "multi-class explicit": (MULTI_CLASS, EXPLICIT_MULTI_CLASS),
    "regression defaults": (
        REGRESSION,
        metric_specs.default_regression_specs(min_value=0.0, max_value=10.0),
    ),
    "regression explicit": (REGRESSION, EXPLICIT_REGRESSION),
}


def _compute_all(plan: MetricsPlan, batch, slices=SLICES, multipliers=None):
    multipliers = np.ones((1, batch.num_rows)) if multipliers is None else multipliers
    return {
        key: plan.compute(key, acc)
        for key, acc in plan.accumulate(batch, membership_of(slices), multipliers)
    }


@pytest.mark.parametrize("name", CONFIGS)
def test_metrics_and_plots_match_tfma_evaluator_on_each_slice(name):
    batch, specs = CONFIGS[name]
    eval_config = _config(specs)
    ours = _compute_all(MetricsPlan(eval_config), batch)
    expected = tfma_evaluate(eval_config, batch, SLICES)
    assert set(ours) == set(expected) == {(), (("color", "red"),), (("color", "blue"),)}
    for slice_key, (metrics, plots) in expected.items():
        assert metrics, "TFMA computed no metrics: the comparison would be vacuous"
        assert_equivalent((metrics, plots), ours[slice_key], rtol=1e-5, path=f"{name} {slice_key}")


def test_diff_metrics_against_a_baseline_match_tfma():
    labels = BINARY.labels[""]
    batch = make_batch(
        {"candidate": labels, "baseline": labels},
        {"candidate": BINARY.predictions[""], "baseline": rng.random(NUM_ROWS)},
        {"candidate": WEIGHTS, "baseline": WEIGHTS},
    )
    model = config_pb2.ModelSpec(label_key="label", example_weight_key="weight")
    eval_config = prepare_eval_config(
        config_pb2.EvalConfig(
            model_specs=[model], metrics_specs=metric_specs.default_binary_classification_specs()
        ),
        has_baseline=True,
    )
    ours = _compute_all(MetricsPlan(eval_config), batch)
    expected = tfma_evaluate(eval_config, batch, SLICES)
    assert any(key.is_diff for key in expected[()][0])
    for slice_key, values in expected.items():
        assert_equivalent(values, ours[slice_key], rtol=1e-5, path=str(slice_key))


def test_slices_below_min_slice_size_are_the_ones_tfma_hides():
    eval_config = _config(
        metric_specs.default_binary_classification_specs(), min_slice_size={"value": 60}
    )
    plan = MetricsPlan(eval_config)
    hidden = {
        key
        for key, acc in plan.accumulate(BINARY, membership_of(SLICES), np.ones((1, NUM_ROWS)))
        if key and plan.below_min_slice_size(acc)
    }
    expected = {
        key
        for key, (metrics, _) in tfma_evaluate(eval_config, BINARY, SLICES).items()
        if "__ERROR__" in metrics
    }  # TFMA keys the error by a plain string
    assert hidden == expected == {(("color", "blue"),)}


@pytest.mark.parametrize("name", ["binary defaults", "multi-class explicit"])
def test_merging_two_halves_equals_one_pass(name):
    batch, specs = CONFIGS[name]
    plan = MetricsPlan(_config(specs))
    half = NUM_ROWS // 2
    halves = [
        make_batch(
            {"": batch.labels[""][part]},
            {"": batch.predictions[""][part]},
            {"": batch.example_weights[""][part]},
        )
        for part in (slice(None, half), slice(half, None))
    ]
    merged = {}
    for part, rows in zip(halves, (slice(None, half), slice(half, None))):
        for key, acc in plan.accumulate(
            part, membership_of(SLICES[rows]), np.ones((1, part.num_rows))
        ):
            merged[key] = plan.merge([merged[key], acc]) if key in merged else acc
    one_pass = _compute_all(plan, batch)
    for key, acc in merged.items():
        assert_equivalent(one_pass[key], plan.compute(key, acc), rtol=1e-9, path=str(key))


def test_bootstrap_replicates_give_t_distributions_with_sane_standard_errors():
    num_rows = 3000
    predictions = rng.random(num_rows)
    batch = make_batch(
        {"": rng.integers(0, 2, num_rows).astype(float)}, {"": predictions}, {"": np.ones(num_rows)}
    )
    specs = metric_specs.default_binary_classification_specs()
    plan = MetricsPlan(_config(specs, weighted=False, compute_confidence_intervals={"value": True}))
    assert (
        plan.num_replicates == 21
    )  # TFMA's default of 20 bootstrap samples, plus the point estimate
    multipliers = np.vstack([np.ones(num_rows), rng.poisson(1.0, (20, num_rows))])
    slices = [[()]] * num_rows
    ((metrics, plots),) = _compute_all(plan, batch, slices, multipliers).values()
    ((point_metrics, _),) = _compute_all(
        MetricsPlan(_config(specs, weighted=False)), batch, slices
    ).values()

    with_intervals = {
        key
        for key, value in metrics.items()
        if isinstance(value, tfma_types.ValueWithTDistribution)
    }
    # TFMA computes no interval for example counts, and one for every other metric.
    assert set(point_metrics) - with_intervals == {
        metric_types.MetricKey("example_count"),
        metric_types.MetricKey("weighted_example_count", example_weighted=True),
    }
    for key, value in point_metrics.items():
        unsampled = metrics[key].unsampled_value if key in with_intervals else metrics[key]
        assert_equivalent(value, unsampled, rtol=1e-9, path=str(key))
    mean_prediction = metrics[metric_types.MetricKey("mean_prediction")]
    assert mean_prediction.sample_degrees_of_freedom == 19
    standard_error = predictions.std() / np.sqrt(num_rows)
    assert 0.5 * standard_error < mean_prediction.sample_standard_deviation < 2.0 * standard_error
    assert abs(mean_prediction.sample_mean - mean_prediction.unsampled_value) < 3 * standard_error


def test_a_cross_slice_is_the_baseline_slices_metrics_minus_the_comparisons_per_replicate():
    num_rows = 3000
    batch = make_batch(
        {"": rng.integers(0, 2, num_rows).astype(float)},
        {"": rng.random(num_rows)},
        {"": np.ones(num_rows)},
    )
    specs = metric_specs.default_binary_classification_specs()
    slices = [[(), (("half", row % 2),)] for row in range(num_rows)]
    multipliers = np.vstack([np.ones(num_rows), rng.poisson(1.0, (20, num_rows))])
    point = MetricsPlan(_config(specs, weighted=False))
    accumulators = dict(point.accumulate(batch, membership_of(slices), multipliers[:1]))
    cross = point.compute_cross(accumulators[()], accumulators[(("half", 1),)])
    overall, _ = point.compute((), accumulators[()])
    half, _ = point.compute((("half", 1),), accumulators[(("half", 1),)])
    assert cross.keys() == {k for k in overall if tfma_internals.is_diffable(overall[k])}
    for key, value in cross.items():
        assert_equivalent(overall[key] - half[key], value, rtol=1e-12, path=str(key))

    with_ci = MetricsPlan(
        _config(specs, weighted=False, compute_confidence_intervals={"value": True})
    )
    accumulators = dict(with_ci.accumulate(batch, membership_of(slices), multipliers))
    cross_ci = with_ci.compute_cross(accumulators[()], accumulators[(("half", 1),)])
    auc = cross_ci[metric_types.MetricKey("auc")]
    assert isinstance(auc, tfma_types.ValueWithTDistribution)
    assert auc.unsampled_value == pytest.approx(cross[metric_types.MetricKey("auc")], abs=1e-12)
    assert auc.sample_degrees_of_freedom == 19 and auc.sample_standard_deviation > 0


def test_a_resample_that_draws_none_of_a_slice_leaves_it_without_intervals_as_in_tfma():
    """TFMA has no bootstrap sample for a slice none of whose examples were drawn; its combiner then
    keeps the point estimates and says why."""
    specs = metric_specs.default_binary_classification_specs()
    plan = MetricsPlan(_config(specs, weighted=False, compute_confidence_intervals={"value": True}))
    multipliers = np.vstack([np.ones(NUM_ROWS), rng.poisson(1.0, (20, NUM_ROWS))])
    small = [[(), (("id", 0),)]] + [[()]] * (NUM_ROWS - 1)
    multipliers[1:, 0] = 1.0
    multipliers[7, 0] = 0.0  # resample 7 draws none of slice id=0
    results = _compute_all(plan, BINARY, small, multipliers)
    metrics, _ = results[(("id", 0),)]
    assert metrics[metric_types.MetricKey("__ERROR__")] == (
        "CI not computed because only 19 samples were non-empty. Expected 20."
    )
    assert not any(
        isinstance(value, tfma_types.ValueWithTDistribution) for value in metrics.values()
    )
    assert metric_types.MetricKey("__ERROR__") not in results[()][0]


def test_plan_pickles_as_its_config_and_computes_the_same_after():
    plan = MetricsPlan(_config(EXPLICIT_BINARY))
    restored = pickle.loads(pickle.dumps(plan))
    assert_equivalent(_compute_all(plan, BINARY), _compute_all(restored, BINARY), rtol=0.0)


@pytest.mark.parametrize(
    "metric, message",
    [
        (
            'class_name: "SquaredPearsonCorrelation"',
            r"metrics_specs\[0\].metrics\[1\].*'SquaredPearsonCorrelation'",
        ),
        ('class_name: "NoSuchMetric"', r"metrics_specs\[0\].metrics\[1\].*'NoSuchMetric'"),
        ('class_name: "Hinge"', r"metrics_specs\[0\].metrics\[1\].*'Hinge'"),
    ],
)
def test_unsupported_metrics_are_refused_up_front_by_name(metric, message):
    specs = _specs(f'metrics_specs {{ metrics {{ class_name: "AUC" }} metrics {{ {metric} }} }}')
    with pytest.raises(UnsupportedMetricError, match=message):
        MetricsPlan(_config(specs))


def test_mean_label_at_top_k_is_refused_because_tfma_fails_on_it():
    specs = _specs(
        'metrics_specs { metrics { class_name: "MeanLabel" } binarize { top_k_list { values: [2] } } }'
    )
    with pytest.raises(
        UnsupportedMetricError, match=r"metrics_specs\[0\].metrics\[0\].*'MeanLabel'.*top_k=2"
    ):
        MetricsPlan(_config(specs))


def test_metrics_for_an_unknown_model_are_refused_by_name():
    eval_config = _config(metric_specs.default_binary_classification_specs())
    eval_config.metrics_specs[0].model_names[:] = ["champion"]
    with pytest.raises(ConfigError, match=r"metrics_specs\[0\].model_names.*'champion'"):
        MetricsPlan(eval_config)


def test_labels_outside_the_domain_raise_naming_the_value():
    labels = BINARY.labels[""].copy()
    labels[5] = 3.0
    batch = make_batch({"": labels}, BINARY.predictions, BINARY.example_weights)
    plan = MetricsPlan(_config(metric_specs.default_binary_classification_specs()))
    with pytest.raises(LabelDomainError, match="3.0"):
        plan.accumulate(batch, membership_of(SLICES), np.ones((1, NUM_ROWS)))
