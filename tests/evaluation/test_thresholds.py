"""Thresholds are checked completely where a config is first seen, with or without a baseline:
every malformed one, or one that could never be checked, is refused naming its field path."""

import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox.errors import ConfigError
from glassbox.evaluation.config import prepare_eval_config
from glassbox.evaluation.thresholds import check_threshold_fields, check_thresholds

BASE = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "city" }
slicing_specs { feature_keys: "age" feature_values { key: "sex" value: "f" } }
"""
AUC_WITH = 'metrics_specs { metrics { class_name: "AUC" threshold { %s } } }'
DIRECTION_UNSET = "change_threshold { absolute { value: -0.01 } }"


def _config(text: str) -> config_pb2.EvalConfig:
    return text_format.Parse(BASE + text, config_pb2.EvalConfig())


@pytest.mark.parametrize(
    "metrics_specs, path, words",
    [
        (
            AUC_WITH % DIRECTION_UNSET,
            "metrics_specs[0].metrics[0].threshold.change_threshold.direction",
            "is unset",
        ),
        (
            AUC_WITH % "change_threshold { direction: LOWER_IS_BETTER }",
            "metrics_specs[0].metrics[0].threshold.change_threshold",
            "sets neither absolute nor relative",
        ),
        (
            AUC_WITH % "change_threshold { direction: HIGHER_IS_BETTER relative { value: nan } }",
            "metrics_specs[0].metrics[0].threshold.change_threshold.relative",
            "is NaN",
        ),
        (
            AUC_WITH % "value_threshold { lower_bound { value: 0.9 } upper_bound { value: 0.8 } }",
            "metrics_specs[0].metrics[0].threshold.value_threshold",
            "lower_bound > upper_bound (0.9 > 0.8)",
        ),
        (
            AUC_WITH % "value_threshold { }",
            "metrics_specs[0].metrics[0].threshold.value_threshold",
            "sets neither lower_bound nor upper_bound",
        ),
        (
            AUC_WITH % "value_threshold { upper_bound { value: nan } }",
            "metrics_specs[0].metrics[0].threshold.value_threshold.upper_bound",
            "is NaN",
        ),
        (AUC_WITH % "", "metrics_specs[0].metrics[0].threshold", "checks nothing"),
        (
            'metrics_specs { metrics { class_name: "AUC" } '
            'thresholds { key: "auc" value { %s } } }' % DIRECTION_UNSET,
            "metrics_specs[0].thresholds['auc'].change_threshold.direction",
            "is unset",
        ),
        (
            'metrics_specs { metrics { class_name: "AUC" } per_slice_thresholds { key: "auc" '
            "value { thresholds { slicing_specs { feature_keys: 'city' } threshold { "
            "value_threshold { lower_bound { value: 2 } upper_bound { value: 1 } } } } } } }",
            "metrics_specs[0].per_slice_thresholds['auc'].thresholds[0].threshold.value_threshold",
            "lower_bound > upper_bound",
        ),
    ],
)
def test_a_malformed_threshold_is_refused_naming_its_field(metrics_specs, path, words):
    config = _config(metrics_specs)
    for check in (check_threshold_fields, check_thresholds):
        with pytest.raises(ConfigError) as refused:
            check(config)
        assert repr(path) in str(refused.value) and words in str(refused.value)


CROSS = (
    'metrics_specs { metrics { class_name: "AUC" cross_slice_thresholds { %s '
    "threshold { value_threshold { upper_bound { value: 0.1 } } } } } }"
)


@pytest.mark.parametrize(
    "metrics_specs, path, words",
    [
        (
            'metrics_specs { metrics { class_name: "AUC" per_slice_thresholds { '
            "threshold { value_threshold { lower_bound { value: 0.5 } } } } } }",
            "metrics_specs[0].metrics[0].per_slice_thresholds[0].slicing_specs",
            "is empty, so TFMA applies the threshold to no slice",
        ),
        (
            CROSS % "",
            "metrics_specs[0].metrics[0].cross_slice_thresholds[0].cross_slicing_specs",
            "is empty, so TFMA applies the threshold to no cross slice",
        ),
        (
            CROSS % "cross_slicing_specs { baseline_spec {} }",
            "metrics_specs[0].metrics[0].cross_slice_thresholds[0].cross_slicing_specs[0].slicing_specs",
            "compares the baseline spec's slices only with the slices these specs select",
        ),
        (
            CROSS
            % "cross_slicing_specs { baseline_spec {} slicing_specs { feature_keys: 'town' } }",
            "metrics_specs[0].metrics[0].cross_slice_thresholds[0].cross_slicing_specs[0].slicing_specs[0]",
            "which the slicing_specs never produce",
        ),
    ],
)
def test_a_threshold_that_can_select_no_slice_is_refused(metrics_specs, path, words):
    with pytest.raises(ConfigError) as refused:
        check_thresholds(_config(metrics_specs))
    assert repr(path) in str(refused.value) and words in str(refused.value)


def test_a_cross_slice_threshold_on_slices_the_cross_slicing_specs_produce_is_accepted():
    config = _config(
        CROSS % "cross_slicing_specs { baseline_spec {} slicing_specs { feature_keys: 'city' } }"
    )
    config.cross_slicing_specs.add(baseline_spec={}).slicing_specs.add(feature_keys=["city"])
    check_thresholds(config)


@pytest.mark.parametrize("has_baseline", [False, True])
def test_the_evaluator_refuses_it_with_or_without_a_baseline(has_baseline):
    with pytest.raises(ConfigError, match="change_threshold.direction' .* is unset"):
        prepare_eval_config(_config(AUC_WITH % DIRECTION_UNSET), has_baseline=has_baseline)


@pytest.mark.parametrize(
    "metrics_specs, path, words",
    [
        (
            'metrics_specs { metrics { class_name: "AUC" } thresholds { key: "accuracy" value '
            "{ value_threshold { lower_bound { value: 0.5 } } } } }",
            "metrics_specs[0].thresholds['accuracy']",
            "metric 'accuracy', which the config does not compute (it computes ['auc'])",
        ),
        (
            'metrics_specs { metrics { class_name: "AUC" per_slice_thresholds { slicing_specs { '
            'feature_keys: "country" } threshold { value_threshold { lower_bound { value: 0.5 '
            "} } } } } }",
            "metrics_specs[0].metrics[0].per_slice_thresholds[0].slicing_specs[0]",
            "selects slices of ['country'], which the slicing_specs never produce",
        ),
        (
            'metrics_specs { metrics { class_name: "AUC" per_slice_thresholds { slicing_specs { '
            'feature_keys: "age" feature_values { key: "sex" value: "m" } } threshold { '
            "value_threshold { lower_bound { value: 0.5 } } } } } }",
            "metrics_specs[0].metrics[0].per_slice_thresholds[0].slicing_specs[0]",
            "selects slices of ['age', 'sex']",
        ),
    ],
)
def test_a_threshold_that_could_never_be_checked_is_refused(metrics_specs, path, words):
    # The models known (compiled_names): none compiles the metric either.
    with pytest.raises(ConfigError) as refused:
        check_thresholds(_config(metrics_specs), compiled_names=())
    assert repr(path) in str(refused.value) and words in str(refused.value)


def test_a_threshold_on_a_metric_only_a_model_may_compile_waits_for_the_models():
    # TFMA adds a Keras model's compiled metrics (include_default_metrics, on unless false).
    specs = (
        'metrics_specs { metrics { class_name: "AUC" } thresholds { key: "accuracy" value '
        "{ value_threshold { lower_bound { value: 0.5 } } } } }"
    )
    check_thresholds(_config(specs))  # the models not yet known
    check_thresholds(_config(specs), compiled_names=("loss", "accuracy"))
    with pytest.raises(ConfigError, match="compiled Keras metrics included"):
        check_thresholds(_config(specs), compiled_names=("loss",))
    off = _config(specs + " options { include_default_metrics { value: false } }")
    with pytest.raises(ConfigError, match="metric 'accuracy', which the config does not compute"):
        check_thresholds(off)


def test_thresholds_on_computed_metrics_and_produced_slices_are_accepted():
    check_thresholds(
        _config(
            'metrics_specs { metrics { class_name: "AUC" per_slice_thresholds { slicing_specs {'
            ' feature_values { key: "city" value: "Paris" } } slicing_specs { feature_keys: "age"'
            ' feature_values { key: "sex" value: "f" } } slicing_specs {} threshold {'
            " value_threshold { lower_bound { value: 0.5 } } } } }"
            ' metrics { class_name: "ExampleCount" } thresholds { key: "example_count" value {'
            " change_threshold { direction: HIGHER_IS_BETTER relative { value: 0.5 } } } } }"
        )
    )


def test_the_overall_slice_alone_is_produced_when_no_slicing_spec_is_given():
    config = text_format.Parse(
        'model_specs { label_key: "label" } metrics_specs { metrics { class_name: "AUC" '
        "per_slice_thresholds { slicing_specs {} threshold { value_threshold { lower_bound { "
        "value: 0.5 } } } } } }",
        config_pb2.EvalConfig(),
    )
    check_thresholds(config)
    config.slicing_specs.add(feature_keys=["city"])
    with pytest.raises(ConfigError, match=r"selects slices of no feature \(the overall slice\)"):
        check_thresholds(config)


def test_the_thresholds_of_one_config_are_checked_on_what_another_evaluates():
    evaluated = _config('metrics_specs { metrics { class_name: "AUC" } }')
    thresholds = text_format.Parse(
        'metrics_specs { metrics { class_name: "AUC" } thresholds { key: "auc" value { '
        "value_threshold { lower_bound { value: 0.5 } } } } }",
        config_pb2.EvalConfig(),
    )
    check_thresholds(thresholds, evaluated=evaluated)
    thresholds.metrics_specs[0].thresholds["mean_label"].value_threshold.lower_bound.value = 0
    # Known models compile no 'mean_label' (unknown ones may: checked when they are known).
    check_thresholds(thresholds, evaluated=evaluated)
    with pytest.raises(ConfigError, match="metric 'mean_label', which the config does not"):
        check_thresholds(thresholds, evaluated=evaluated, compiled_names=())
