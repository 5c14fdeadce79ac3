"""Each batch combiner outputs what its TFMA combiner outputs on the same examples.

TFMA's own computations are built for each option we claim to support and fed example by example
(tests/support/tfma_reference.py); our counterpart sees the same examples as one batch. Counts match
exactly and sums to float rounding; Keras metrics to float32 precision, because Keras sums in
float32 where we sum in float64.
"""

import numpy as np
import pytest
from tensorflow_model_analysis.metrics import (
    aggregation,
    binary_confusion_matrices,
    calibration,
    calibration_histogram,
    cross_entropy_metrics,
    example_count,
    mean_regression_error,
    metric_types,
    multi_class_confusion_matrix_metrics,
    squared_pearson_correlation,
    tf_metric_wrapper,
)
from tensorflow_model_analysis.utils.keras_lib import tf_keras

from glassbox.evaluation.batch_combiner import slice_layers
from glassbox.evaluation.combiners import batch_combiner_for
from glassbox.evaluation.errors import LabelDomainError, ShapeError, UnsupportedMetricError
from glassbox.evaluation.sparse_sums import add_into
from tests.support.tfma_reference import (
    assert_equivalent,
    example_extracts,
    make_batch,
    tfma_combiner_output,
)

NUM_ROWS = 120
NUM_CLASSES = 4
KERAS_RTOL = 1e-5
MICRO = metric_types.AggregationType(micro_average=True)
rng = np.random.default_rng(11)


def _batch(labels, predictions, weights=None):
    weights = rng.uniform(0.0, 3.0, len(predictions)) if weights is None else weights
    return make_batch({"": labels}, {"": predictions}, {"": weights})


_multi_predictions = rng.dirichlet(np.ones(NUM_CLASSES), NUM_ROWS)
_sparse_labels = rng.integers(0, NUM_CLASSES, NUM_ROWS).astype(float)
_regression_labels = rng.normal(5.0, 3.0, NUM_ROWS).round(1)
_regression_labels[:5] = 0.0  # percentage errors are undefined there and skipped, as in TFMA
DATA = {
    "binary": _batch(rng.integers(0, 2, NUM_ROWS).astype(float), rng.random(NUM_ROWS)),
    # predictions on a grid, so that some sit exactly on thresholds and bucket edges
    "binary on grid": _batch(
        rng.integers(0, 2, NUM_ROWS).astype(float), rng.integers(0, 5, NUM_ROWS) / 4
    ),
    "fractional": _batch(rng.choice([0.0, 0.3, 0.7, 1.0], NUM_ROWS), rng.random(NUM_ROWS)),
    "logits": _batch(rng.integers(0, 2, NUM_ROWS).astype(float), rng.normal(0.0, 2.0, NUM_ROWS)),
    "sparse": _batch(_sparse_labels, _multi_predictions),
    "dense": _batch(np.eye(NUM_CLASSES)[_sparse_labels.astype(int)], _multi_predictions),
    "multi logits": _batch(_sparse_labels, rng.normal(0.0, 2.0, (NUM_ROWS, NUM_CLASSES))),
    "regression": _batch(_regression_labels, rng.normal(5.0, 3.0, NUM_ROWS)),
}


def _keras(*metrics, **settings):
    return lambda weighted: tf_metric_wrapper.tf_metric_computations(
        list(metrics), example_weighted=weighted, **settings
    )


# name -> (data set, weighted -> TFMA computations)
CASES = {
    "histogram": (
        "binary on grid",
        lambda w: calibration_histogram.calibration_histogram(example_weighted=w),
    ),
    "histogram fractional labels": (
        "fractional",
        lambda w: calibration_histogram.calibration_histogram(num_buckets=20, example_weighted=w),
    ),
    "histogram by label, custom range": (
        "regression",
        lambda w: calibration_histogram.calibration_histogram(
            num_buckets=7,
            left=-2.0,
            right=12.0,
            prediction_based_bucketing=False,
            example_weighted=w,
        ),
    ),
    "histogram top_k": (
        "sparse",
        lambda w: calibration_histogram.calibration_histogram(
            num_buckets=1, sub_key=metric_types.SubKey(top_k=2), example_weighted=w
        ),
    ),
    "histogram class_id": (
        "dense",
        lambda w: calibration_histogram.calibration_histogram(
            num_buckets=50, sub_key=metric_types.SubKey(class_id=2), example_weighted=w
        ),
    ),
    "histogram micro class weights": (
        "sparse",
        lambda w: calibration_histogram.calibration_histogram(
            num_buckets=50,
            aggregation_type=MICRO,
            class_weights={0: 0.5, 2: 3.0},
            example_weighted=w,
        ),
    ),
    "confusion matrices": (
        "binary on grid",
        lambda w: binary_confusion_matrices.binary_confusion_matrices(
            thresholds=[0.75, 0.25, 0.5], example_weighted=w
        ),
    ),
    "confusion matrices at edges": (
        "binary on grid",
        lambda w: binary_confusion_matrices.binary_confusion_matrices(
            thresholds=[-1e-7, 0.0, 1.0, 1.0 + 1e-7], use_histogram=False, example_weighted=w
        ),
    ),
    "confusion matrices fractional": (
        "fractional",
        lambda w: binary_confusion_matrices.binary_confusion_matrices(
            thresholds=[0.3, 0.6], example_weighted=w
        ),
    ),
    "confusion matrices k": (
        "sparse",
        lambda w: binary_confusion_matrices.binary_confusion_matrices(
            thresholds=[0.2, 0.5], sub_key=metric_types.SubKey(k=2), example_weighted=w
        ),
    ),
    "confusion matrices micro": (
        "dense",
        lambda w: binary_confusion_matrices.binary_confusion_matrices(
            thresholds=[0.2, 0.5], aggregation_type=MICRO, example_weighted=w
        ),
    ),
    "weighted labels and predictions": (
        "binary",
        lambda w: calibration._weighted_labels_predictions_examples(example_weighted=w),
    ),
    "weighted labels and predictions class_id": (
        "sparse",
        lambda w: calibration._weighted_labels_predictions_examples(
            sub_key=metric_types.SubKey(class_id=1), example_weighted=w
        ),
    ),
    "weighted labels and predictions micro": (
        "dense",
        lambda w: calibration._weighted_labels_predictions_examples(
            aggregation_type=MICRO, class_weights={1: 2.0, 3: 1.0}, example_weighted=w
        ),
    ),
    "example count": ("binary", lambda w: example_count.example_count(example_weighted=w)),
    "mean absolute error": (
        "regression",
        lambda w: mean_regression_error._mean_absolute_error_computations(
            name="mae", example_weighted=w
        ),
    ),
    "mean squared error": (
        "regression",
        lambda w: mean_regression_error._mean_squared_error_computations(
            name="mse", example_weighted=w
        ),
    ),
    "mean absolute percentage error": (
        "regression",
        lambda w: mean_regression_error._mean_absolute_percentage_error_computations(
            name="mape", example_weighted=w
        ),
    ),
    "mean squared log error": (
        "regression",
        lambda w: mean_regression_error._mean_squared_logarithmic_error_computations(
            name="msle", example_weighted=w
        ),
    ),
    "mean squared error class_id": (
        "sparse",
        lambda w: mean_regression_error._mean_squared_error_computations(
            name="mse", sub_key=metric_types.SubKey(class_id=0), example_weighted=w
        ),
    ),
    "binary cross entropy": (
        "binary",
        lambda w: cross_entropy_metrics._binary_cross_entropy_computations(
            name="bce", label_smoothing=0.1, example_weighted=w
        ),
    ),
    "binary cross entropy from logits": (
        "logits",
        lambda w: cross_entropy_metrics._binary_cross_entropy_computations(
            name="bce", from_logits=True, example_weighted=w
        ),
    ),
    "categorical cross entropy dense": (
        "dense",
        lambda w: cross_entropy_metrics._categorical_cross_entropy_computations(
            name="cce", label_smoothing=0.2, example_weighted=w
        ),
    ),
    "categorical cross entropy sparse": (
        "sparse",
        lambda w: cross_entropy_metrics._categorical_cross_entropy_computations(
            name="cce", example_weighted=w
        ),
    ),
    "categorical cross entropy logits": (
        "multi logits",
        lambda w: cross_entropy_metrics._categorical_cross_entropy_computations(
            name="cce", from_logits=True, example_weighted=w
        ),
    ),
    "multi-class confusion matrices": (
        "sparse",
        lambda w: multi_class_confusion_matrix_metrics.multi_class_confusion_matrices(
            example_weighted=w
        ),
    ),
    "multi-class confusion matrices unsorted thresholds": (
        "dense",
        lambda w: multi_class_confusion_matrix_metrics.multi_class_confusion_matrices(
            thresholds=[0.5, 0.3, 0.7], example_weighted=w
        ),
    ),
    "class weights from sparse labels": (
        "sparse",
        lambda w: aggregation._class_weights_from_labels(class_ids=[0, 2, 3], example_weighted=w),
    ),
    "class weights from dense labels": (
        "dense",
        lambda w: aggregation._class_weights_from_labels(class_ids=[3, 1], example_weighted=w),
    ),
    "keras binary": (
        "binary",
        _keras(
            tf_keras.metrics.BinaryCrossentropy(name="bce", label_smoothing=0.1),
            tf_keras.metrics.BinaryAccuracy(name="acc", threshold=0.6),
            tf_keras.metrics.Accuracy(name="exact"),
        ),
    ),
    "keras binary on grid": (
        "binary on grid",
        _keras(
            tf_keras.metrics.BinaryAccuracy(name="acc", threshold=0.5),
            tf_keras.metrics.Accuracy(name="exact"),
        ),
    ),
    "keras logits": (
        "logits",
        _keras(tf_keras.metrics.BinaryCrossentropy(name="bce", from_logits=True)),
    ),
    "keras sparse": (
        "sparse",
        _keras(
            tf_keras.metrics.SparseCategoricalCrossentropy(name="scce"),
            tf_keras.metrics.SparseCategoricalAccuracy(name="sacc"),
            tf_keras.metrics.BinaryCrossentropy(name="bce"),
        ),
    ),
    "keras sparse logits": (
        "multi logits",
        _keras(tf_keras.metrics.SparseCategoricalCrossentropy(name="scce", from_logits=True)),
    ),
    "keras dense": (
        "dense",
        _keras(
            tf_keras.metrics.CategoricalCrossentropy(name="cce", label_smoothing=0.1),
            tf_keras.metrics.CategoricalAccuracy(name="cacc"),
            tf_keras.metrics.RootMeanSquaredError(name="rmse"),
        ),
    ),
    "keras dense logits": (
        "multi logits",
        _keras(tf_keras.metrics.CategoricalAccuracy(name="cacc")),
    ),
    "keras regression": (
        "regression",
        _keras(
            tf_keras.metrics.MeanSquaredError(name="mse"),
            tf_keras.metrics.MeanAbsoluteError(name="mae"),
            tf_keras.metrics.MeanAbsolutePercentageError(name="mape"),
            tf_keras.metrics.RootMeanSquaredError(name="rmse"),
            tf_keras.metrics.LogCoshError(name="logcosh"),
        ),
    ),
    "keras class_id": (
        "sparse",
        _keras(
            tf_keras.metrics.BinaryAccuracy(name="acc"), sub_key=metric_types.SubKey(class_id=3)
        ),
    ),
    "keras micro class weights": (
        "dense",
        _keras(
            tf_keras.metrics.BinaryCrossentropy(name="bce"),
            tf_keras.metrics.MeanSquaredError(name="mse"),
            aggregation_type=MICRO,
            class_weights={0: 1.0, 1: 0.5},
        ),
    ),
}


def _primitives(computations):
    return [c for c in computations if isinstance(c, metric_types.MetricComputation)]


def _our_output(computation, batch, multipliers=None):
    combiner = batch_combiner_for(computation, eval_config=None)
    n = batch.num_rows
    multipliers = np.ones((1, n)) if multipliers is None else multipliers
    acc = combiner.accumulate(
        batch, slice_layers(np.arange(n), np.zeros(n, dtype=np.int64), n), 1, multipliers
    )
    return combiner.extract_output(acc[0][0])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", CASES)
def test_outputs_match_tfma(name, weighted):
    data, computations = CASES[name]
    batch = DATA[data]
    for computation in _primitives(computations(weighted)):
        expected = tfma_combiner_output(computation.combiner, example_extracts(batch))
        rtol = KERAS_RTOL if name.startswith("keras") else 1e-9
        assert_equivalent(expected, _our_output(computation, batch), rtol=rtol)


@pytest.mark.parametrize(
    "name",
    [
        "histogram micro class weights",
        "histogram top_k",
        "confusion matrices",
        "example count",
        "multi-class confusion matrices",
        "keras sparse",
        "mean squared error",
    ],
)
def test_slices_and_bootstrap_replicates_match_tfma_on_resampled_examples(name):
    """Replicate r of a slice is TFMA's combiner fed each of the slice's examples multipliers[r] times.

    (With top_k, predictions outside the top k are -inf: an example drawn 0 times must add nothing,
    not -inf * 0 = NaN.)
    """
    data, computations = CASES[name]
    batch = DATA[data]
    n = batch.num_rows
    rows = np.concatenate([np.arange(n), np.arange(0, n, 3)])  # slice 1 holds every third example
    groups = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(len(rows) - n, dtype=np.int64)])
    multipliers = np.vstack([np.ones(n), rng.poisson(1.0, (2, n))])
    extracts = example_extracts(batch)
    for computation in _primitives(computations(True)):
        combiner = batch_combiner_for(computation, eval_config=None)
        acc = combiner.accumulate(batch, slice_layers(rows, groups, n), 2, multipliers)
        for group in range(2):
            members = rows[groups == group]
            for replicate in range(3):
                resampled = [
                    extracts[row]
                    for row in members
                    for _ in range(int(multipliers[replicate, row]))
                ]
                expected = tfma_combiner_output(computation.combiner, resampled)
                rtol = KERAS_RTOL if name.startswith("keras") else 1e-9
                assert_equivalent(
                    expected, combiner.extract_output(acc[group][replicate]), rtol=rtol
                )


def test_multi_class_accumulators_grow_with_the_classes_seen_and_merge_by_padding():
    labels = np.array([0.0, 1.0, -1.0, 3.0, 5.0, 2.0])
    predictions = rng.dirichlet(np.ones(6), len(labels))
    first, second = _batch(labels[:3], predictions[:3, :]), _batch(labels[3:], predictions[3:, :])
    (computation,) = _primitives(
        multi_class_confusion_matrix_metrics.multi_class_confusion_matrices(
            thresholds=[0.0, 0.4], example_weighted=True
        )
    )
    combiner = batch_combiner_for(computation, eval_config=None)
    accs = [
        combiner.accumulate(
            b, slice_layers(np.arange(3), np.zeros(3, dtype=np.int64), 3), 1, np.ones((1, 3))
        )[0][0]
        for b in (first, second)
    ]
    assert accs[0].shape != accs[1].shape
    expected = tfma_combiner_output(
        computation.combiner, example_extracts(first) + example_extracts(second)
    )
    assert_equivalent(expected, combiner.extract_output(add_into(*accs)))


def test_a_model_reads_its_own_inputs():
    batch = make_batch(
        labels={"candidate": DATA["binary"].labels[""], "baseline": DATA["fractional"].labels[""]},
        predictions={
            "candidate": DATA["binary"].predictions[""],
            "baseline": DATA["fractional"].predictions[""],
        },
        example_weights={"candidate": np.ones(NUM_ROWS), "baseline": np.ones(NUM_ROWS)},
    )
    for model_name in ("candidate", "baseline"):
        (computation,) = _primitives(
            calibration._weighted_labels_predictions_examples(model_name=model_name)
        )
        expected = tfma_combiner_output(computation.combiner, example_extracts(batch))
        assert_equivalent(expected, _our_output(computation, batch))


def test_combiner_without_counterpart_is_refused_by_name():
    (computation,) = _primitives(
        squared_pearson_correlation.SquaredPearsonCorrelation().computations()
    )
    with pytest.raises(
        UnsupportedMetricError,
        match="_SquaredPearsonCorrelationCombiner.*squared_pearson_correlation",
    ):
        batch_combiner_for(computation, eval_config=None)


def test_preprocessor_needing_features_is_refused_by_name():
    (histogram,) = _primitives(calibration_histogram.calibration_histogram())
    computation = metric_types.MetricComputation(
        histogram.keys, [metric_types.FeaturePreprocessor(feature_keys=["age"])], histogram.combiner
    )
    with pytest.raises(UnsupportedMetricError, match="feature_preprocessor"):
        batch_combiner_for(computation, eval_config=None)


@pytest.mark.parametrize(
    "metric, message",
    [
        (tf_keras.metrics.Hinge(name="hinge"), "'Hinge'"),
        (tf_keras.losses.BinaryCrossentropy(), "losses.*'BinaryCrossentropy'"),
        (
            tf_keras.metrics.SparseCategoricalCrossentropy(name="scce", ignore_class=0),
            "'ignore_class'",
        ),
    ],
)
def test_keras_metrics_we_cannot_reproduce_are_refused_by_name(metric, message):
    (computation,) = _primitives(tf_metric_wrapper.tf_metric_computations([metric]))
    with pytest.raises(UnsupportedMetricError, match=message):
        batch_combiner_for(computation, eval_config=None)


def test_repeated_thresholds_are_refused():
    (computation,) = _primitives(
        binary_confusion_matrices.binary_confusion_matrices(thresholds=[0.5, 0.5])
    )
    with pytest.raises(UnsupportedMetricError, match=r"repeats a threshold in \[0.5, 0.5\]"):
        batch_combiner_for(computation, eval_config=None)


@pytest.mark.parametrize(
    "computations, label, predictions, message",
    [
        (
            multi_class_confusion_matrix_metrics.multi_class_confusion_matrices(),
            1.5,
            _multi_predictions[:2],
            "'_multi_class_confusion_matrices'.*1.5",
        ),
        (
            tf_metric_wrapper.tf_metric_computations(
                [
                    tf_keras.metrics.SparseCategoricalAccuracy(name="acc"),
                    tf_keras.metrics.SparseCategoricalCrossentropy(name="scce"),
                ]
            ),
            7.0,
            _multi_predictions[:2],
            "'scce'.*7.0",
        ),
        (
            calibration_histogram.calibration_histogram(),
            2.0,
            np.array([0.2, 0.6]),
            "fractional labels.*2.0",
        ),
    ],
)
def test_labels_outside_the_metric_domain_name_metric_and_value(
    computations, label, predictions, message
):
    (computation,) = _primitives(computations)
    batch = _batch(np.array([0.0, label]), predictions)
    with pytest.raises(LabelDomainError, match=message):
        _our_output(computation, batch)


def test_multi_class_confusion_matrix_needs_several_classes():
    (computation,) = _primitives(
        multi_class_confusion_matrix_metrics.multi_class_confusion_matrices()
    )
    with pytest.raises(ShapeError, match="at least 2 classes, got 1"):
        _our_output(computation, DATA["binary"])
