"""Vectorised histogram -> confusion matrices equal TFMA's derived computation exactly."""

import numpy as np
import pytest
from tensorflow_model_analysis.metrics import (
    binary_confusion_matrices,
    calibration_histogram,
    calibration_plot,
    metric_types,
)

from glassbox.evaluation.histogram_matrices import bucket_sums, reads_key, vectorised

NUM_BUCKETS = calibration_histogram.DEFAULT_NUM_BUCKETS


def histogram(seed: int, num_seen: int):
    """Sparse buckets as TFMA lists them (seen ones only, by id), incl. under- and overflow."""
    rng = np.random.default_rng(seed)
    ids = np.unique(
        np.concatenate(
            [[0, 1, NUM_BUCKETS, NUM_BUCKETS + 1], rng.integers(0, NUM_BUCKETS + 2, num_seen)]
        )
    )
    examples = rng.uniform(0.1, 3.0, len(ids))
    labels = examples * rng.uniform(0, 1, len(ids))
    return [
        calibration_histogram.Bucket(int(i), float(y), float(y * 0.7), float(e))
        for i, y, e in zip(ids, labels, examples)
    ]


def tfma_matrices_computation(**kwargs):
    """TFMA's derived computation, the key of its matrices and the key of the histogram it reads."""
    computations = binary_confusion_matrices.binary_confusion_matrices(**kwargs)
    return computations[-1], computations[-1].keys[0], computations[0].keys[-1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # TFMA's default 10,000 thresholds, as AUC uses
        {"num_thresholds": 3},
        {"num_thresholds": 200},
        {"thresholds": [0.0, 0.25, 0.5, 1.0], "use_histogram": True},
        {"thresholds": [0.3, 1.0 + 1e-6, 2.0], "use_histogram": True},
        {"thresholds": [1.5, 2.0], "use_histogram": True},
        {"thresholds": [0.5], "use_histogram": True},
    ],
    ids=["default", "3", "200", "from-zero", "above-one", "all-above-one", "single"],
)
@pytest.mark.parametrize("num_seen", [0, 5, 3000])
@pytest.mark.parametrize("as_arrays", [False, True], ids=["buckets", "bucket sums"])
def test_matrices_equal_tfma_bit_for_bit(kwargs, num_seen, as_arrays):
    """From TFMA's list of Buckets or from the same histogram as arrays (BucketSums)."""
    tfma, matrices_key, histogram_key = tfma_matrices_computation(**kwargs)
    ours = vectorised(tfma)
    assert ours is not tfma and ours.keys == tfma.keys
    buckets = histogram(seed=num_seen, num_seen=num_seen)
    ours_in = {histogram_key: bucket_sums(buckets) if as_arrays else buckets}
    expected, actual = (
        tfma.result({histogram_key: buckets})[matrices_key],
        ours.result(ours_in)[matrices_key],
    )
    for field in ("thresholds", "tp", "tn", "fp", "fn"):
        # float64 arrays, where TFMA's are lists of floats: the same values bit for bit.
        assert getattr(actual, field).dtype == np.float64, field
        assert getattr(actual, field).tolist() == getattr(expected, field), field


def test_computations_needing_no_rebinning_are_tfma_s_own():
    top_k = binary_confusion_matrices.binary_confusion_matrices(thresholds=[float("-inf")])[-1]
    exact = binary_confusion_matrices.binary_confusion_matrices(thresholds=[0.5])[-1]
    other = metric_types.DerivedMetricComputation(keys=[], result=lambda metrics: {})
    for computation in (top_k, exact, other):
        assert vectorised(computation) is computation


def test_which_computations_need_the_histogram_as_tfma_buckets():
    """Only TFMA's own readers of a histogram (e.g. the calibration plot) need its Buckets; the
    vectorised matrices and computations reading other keys do not; an opaque one may."""
    tfma, matrices_key, histogram_key = tfma_matrices_computation()
    plot = [
        c
        for c in calibration_plot.CalibrationPlot(num_buckets=NUM_BUCKETS).computations()
        if isinstance(c, metric_types.DerivedMetricComputation)
    ][-1]
    other_key = metric_types.MetricKey(name="other")
    reads_other = metric_types.DerivedMetricComputation(
        keys=[], result=lambda metrics: {other_key: metrics[other_key]}
    )
    opaque = metric_types.DerivedMetricComputation(keys=[], result=lambda metrics: {})
    assert (
        reads_key(plot, histogram_key)
        and reads_key(tfma, histogram_key)
        and reads_key(opaque, histogram_key)
    )
    assert not reads_key(vectorised(tfma), histogram_key) and not reads_key(
        reads_other, histogram_key
    )
