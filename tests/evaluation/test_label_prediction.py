"""The batched label/prediction/weight preparation yields what TFMA's per-example function yields."""

import numpy as np
import pytest
from tensorflow_model_analysis.metrics import metric_types, metric_util

from glassbox.evaluation.errors import LabelDomainError, ShapeError, UnsupportedMetricError
from glassbox.evaluation.label_prediction import (
    LabelPredictionOptions,
    to_label_prediction_example_weight,
)

NUM_ROWS = 40
NUM_CLASSES = 4
MICRO = metric_types.AggregationType(micro_average=True)
rng = np.random.default_rng(7)
WEIGHTS = rng.uniform(0.0, 2.0, NUM_ROWS)
WEIGHTS[3] = 0.0  # zero-weight examples are dropped by fractional splitting only
BINARY = (rng.integers(0, 2, NUM_ROWS).astype(float), rng.random(NUM_ROWS))
FRACTIONAL = (rng.random(NUM_ROWS).round(1), rng.random(NUM_ROWS))
MULTI_PREDICTIONS = rng.dirichlet(np.ones(NUM_CLASSES), NUM_ROWS)
SPARSE = (rng.integers(0, NUM_CLASSES, NUM_ROWS).astype(float), MULTI_PREDICTIONS)
DENSE = (np.eye(NUM_CLASSES)[SPARSE[0].astype(int)], MULTI_PREDICTIONS)


def _tfma_entries(labels, predictions, weights, options):
    """TFMA's (row, label, prediction, weight) tuples, example by example."""
    entries = []
    for row in range(len(predictions)):
        inputs = metric_types.StandardMetricInputs(
            labels=np.atleast_1d(labels[row]),
            predictions=np.atleast_1d(predictions[row]),
            example_weights=np.array([weights[row]]),
        )
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            inputs,
            sub_key=options.sub_key,
            aggregation_type=options.aggregation_type,
            class_weights=options.class_weights,
            example_weighted=options.example_weighted,
            fractional_labels=options.fractional_labels,
            flatten=options.flatten,
        ):
            entries.append(
                (
                    row,
                    tuple(np.ravel(label)),
                    tuple(np.ravel(prediction)),
                    float(np.ravel(weight)[0]),
                )
            )
    return sorted(entries)


def _our_entries(result, flatten):
    def row_values(values, i):
        return tuple(np.atleast_1d(values[i]))

    return (
        sorted(
            (
                int(row),
                row_values(result.labels, i),
                row_values(result.predictions, i),
                float(result.weights[i]),
            )
            for i, row in enumerate(result.rows)
        )
        if flatten
        else sorted(
            (
                int(row),
                tuple(result.labels[i]),
                tuple(result.predictions[i]),
                float(result.weights[i]),
            )
            for i, row in enumerate(result.rows)
        )
    )


CASES = {
    "binary": (BINARY, {}),
    "binary weighted": (BINARY, {"example_weighted": True}),
    "binary fractional weighted": (
        FRACTIONAL,
        {"fractional_labels": True, "example_weighted": True},
    ),
    "binary 0/1 labels split as fractional": (
        BINARY,
        {"fractional_labels": True, "example_weighted": True},
    ),
    "binary unflattened": (BINARY, {"flatten": False, "example_weighted": True}),
    "sparse flattened": (SPARSE, {"example_weighted": True}),
    "sparse fractional": (SPARSE, {"fractional_labels": True, "example_weighted": True}),
    "sparse class_id": (SPARSE, {"sub_key": metric_types.SubKey(class_id=2)}),
    "sparse k": (SPARSE, {"sub_key": metric_types.SubKey(k=2), "example_weighted": True}),
    "sparse top_k binarized": (SPARSE, {"sub_key": metric_types.SubKey(top_k=2)}),
    "sparse top_k micro": (
        SPARSE,
        {"sub_key": metric_types.SubKey(top_k=3), "aggregation_type": MICRO},
    ),
    "sparse top_k and class_id": (SPARSE, {"sub_key": metric_types.SubKey(top_k=2, class_id=1)}),
    "sparse micro class weights": (
        SPARSE,
        {"aggregation_type": MICRO, "class_weights": {0: 0.5, 3: 2.0}, "example_weighted": True},
    ),
    "sparse unflattened": (SPARSE, {"flatten": False}),
    "sparse unflattened class_id": (
        SPARSE,
        {"flatten": False, "sub_key": metric_types.SubKey(class_id=3)},
    ),
    "dense flattened": (DENSE, {"example_weighted": True}),
    "dense class_id fractional": (
        DENSE,
        {"sub_key": metric_types.SubKey(class_id=1), "fractional_labels": True},
    ),
    "dense k": (DENSE, {"sub_key": metric_types.SubKey(k=1)}),
    "dense top_k binarized": (
        DENSE,
        {"sub_key": metric_types.SubKey(top_k=2), "example_weighted": True},
    ),
    "dense top_k micro unflattened": (
        DENSE,
        {"sub_key": metric_types.SubKey(top_k=2), "aggregation_type": MICRO, "flatten": False},
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_entries_match_tfma_example_by_example(name):
    (labels, predictions), settings = CASES[name]
    options = LabelPredictionOptions(metric=name, **settings)
    ours = to_label_prediction_example_weight(labels, predictions, WEIGHTS, options)
    assert _our_entries(ours, options.flatten) == _tfma_entries(
        labels, predictions, WEIGHTS, options
    )


def test_ties_pick_classes_in_tfma_order():
    predictions = np.array([[0.25, 0.25, 0.25, 0.25], [0.1, 0.4, 0.4, 0.1]])
    labels = np.array([1.0, 2.0])
    options = LabelPredictionOptions(metric="tied", sub_key=metric_types.SubKey(k=2))
    ours = to_label_prediction_example_weight(labels, predictions, np.ones(2), options)
    assert _our_entries(ours, True) == _tfma_entries(labels, predictions, np.ones(2), options)


def test_fractional_label_outside_unit_interval_names_value_and_metric():
    labels = np.array([0.0, 1.5, 1.0])
    options = LabelPredictionOptions(metric="calibration_plot", fractional_labels=True)
    with pytest.raises(LabelDomainError, match=r"'calibration_plot'.*1\.5"):
        to_label_prediction_example_weight(labels, np.full(3, 0.5), np.ones(3), options)


def test_sparse_label_outside_the_classes_is_refused():
    # TFMA silently one-hot encodes label 4 (== number of classes) as all zeros; we refuse it.
    labels = np.array([0.0, 4.0])
    options = LabelPredictionOptions(metric="recall", sub_key=metric_types.SubKey(k=1))
    with pytest.raises(LabelDomainError, match=r"'recall'.*4\.0"):
        to_label_prediction_example_weight(labels, MULTI_PREDICTIONS[:2], np.ones(2), options)


def test_unknown_class_label_minus_one_is_all_zeros_as_in_tfma():
    labels = np.array([-1.0, 2.0])
    options = LabelPredictionOptions(metric="m")
    ours = to_label_prediction_example_weight(labels, MULTI_PREDICTIONS[:2], np.ones(2), options)
    assert ours.labels.tolist() == [0, 0, 0, 0, 0, 0, 1, 0]
    assert _our_entries(ours, True) == _tfma_entries(
        labels, MULTI_PREDICTIONS[:2], np.ones(2), options
    )


@pytest.mark.parametrize(
    "sub_key",
    [metric_types.SubKey(top_k=5), metric_types.SubKey(k=5), metric_types.SubKey(class_id=4)],
)
def test_sub_key_beyond_the_classes_names_it(sub_key):
    options = LabelPredictionOptions(metric="precision", sub_key=sub_key)
    with pytest.raises(ShapeError, match="'precision'.*at least 5 classes, got 4"):
        to_label_prediction_example_weight(SPARSE[0], MULTI_PREDICTIONS, WEIGHTS, options)


def test_labels_and_predictions_of_different_widths_cannot_be_flattened():
    options = LabelPredictionOptions(metric="auc")
    with pytest.raises(ShapeError, match="'auc'.*width 3.*width 4"):
        to_label_prediction_example_weight(np.zeros((2, 3)), np.zeros((2, 4)), np.ones(2), options)


def test_class_weights_without_flattening_are_refused_up_front():
    with pytest.raises(UnsupportedMetricError, match="'categorical_crossentropy'"):
        LabelPredictionOptions(
            metric="categorical_crossentropy", class_weights={0: 1.0}, flatten=False
        )


def test_zero_one_labels_with_an_infinite_weight_split_as_in_tfma():
    """inf * 0 is NaN, not zero: TFMA keeps that entry, so must the shortcut for 0/1 labels."""
    labels, predictions, weights = (
        np.array([0.0, 1.0]),
        np.array([0.2, 0.7]),
        np.array([np.inf, 1.0]),
    )
    options = LabelPredictionOptions(metric="m", fractional_labels=True, example_weighted=True)
    ours = to_label_prediction_example_weight(labels, predictions, weights, options)
    tfma = _tfma_entries(labels, predictions, weights, options)
    assert len(tfma) == 3
    np.testing.assert_array_equal(ours.rows, [0, 0, 1])
    np.testing.assert_array_equal(ours.labels, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(ours.weights, [np.inf, np.nan, 1.0])
