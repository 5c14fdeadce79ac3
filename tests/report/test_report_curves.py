"""The report's plots are shrunk from TFMA's 1,000 thresholds and buckets without changing what they
show: the ROC and PR curves keep their area, calibration buckets their exact sums."""

import numpy as np

from glassbox.report.curves import (
    CALIBRATION_BUCKETS,
    MAX_CURVE_POINTS,
    curve_point_indices,
    rebin_calibration,
)


def _confusion_at_thresholds(num_thresholds=1000, seed=0):
    """Counts at TFMA's ConfusionMatrixPlot thresholds for scores concentrated in [0.3, 0.5];
    precision 1 where undefined, as TFMA has it."""
    rng = np.random.default_rng(seed)
    labels = rng.random(5000) < 0.4
    scores = np.clip(0.4 + 0.05 * rng.standard_normal(5000) + 0.03 * labels, 0, 1)
    thresholds = np.linspace(0, 1, num_thresholds)
    predicted = scores[None, :] > thresholds[:, None]
    tp = (predicted & labels).sum(axis=1).astype(float)
    fp = (predicted & ~labels).sum(axis=1).astype(float)
    precision = np.divide(tp, tp + fp, out=np.ones_like(tp), where=tp + fp > 0)
    return tp, fp, labels.sum(), (~labels).sum(), precision, tp / labels.sum()


def _area(x, y):
    order = np.argsort(x, kind="stable")
    return np.trapezoid(np.asarray(y)[order], np.asarray(x)[order])


def test_curves_keep_their_shape_in_at_most_max_points():
    tp, fp, positives, negatives, precision, recall = _confusion_at_thresholds()
    kept = curve_point_indices(tp, fp, positives, negatives)
    assert len(kept) <= MAX_CURVE_POINTS and kept[0] == 0 and kept[-1] == len(tp) - 1
    assert np.all(np.diff(kept) > 0)
    fpr = fp / negatives
    assert abs(_area(fpr[kept], recall[kept]) - _area(fpr, recall)) < 0.002
    assert abs(_area(recall[kept], precision[kept]) - _area(recall, precision)) < 0.005


def test_thresholds_that_change_nothing_are_dropped_and_short_curves_kept_whole():
    tp, fp = np.repeat([5.0, 3, 0], 50), np.repeat([4.0, 1, 0], 50)
    kept = curve_point_indices(tp, fp, positives=5, negatives=4)
    assert kept.tolist() == [0, 50, 100, 149]


def test_calibration_buckets_merge_with_exact_sums():
    edges = np.round(np.linspace(0, 1, 1001), 3)
    lower = np.concatenate([[-np.inf], edges[:-1], [1.0]])
    upper = np.concatenate([[0.0], edges[1:], [np.inf]])
    rng = np.random.default_rng(0)
    weight = rng.poisson(2, len(lower)).astype(float)
    weight[301:401] = 0  # predictions in [0.30, 0.40)
    label = weight * rng.random(len(lower))
    prediction = weight * (lower.clip(0, 1) + 0.0005)
    present = weight != 0  # the report passes the non-empty buckets only
    low, high, w, y, p = rebin_calibration(
        lower[present],
        upper[present],
        weight[present],
        label[present],
        prediction[present],
        low=0.0,
        high=1.0,
    )
    assert len(low) == CALIBRATION_BUCKETS - 2  # [0.30, 0.35) and [0.35, 0.40) were empty
    assert np.allclose(high - low, 1 / CALIBRATION_BUCKETS)
    assert np.allclose(
        [w.sum(), y.sum(), p.sum()], [weight.sum(), label.sum(), prediction.sum()], rtol=1e-12
    )
    assert w[0] == weight[lower < 0.05].sum()  # the open-ended first bucket joins the first
    assert np.all((p / w >= low) & (p / w <= high))  # each mean prediction lies in its bucket
