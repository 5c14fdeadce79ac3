"""Shrinking TFMA's plot data to what a chart shows: a report holds plots for every slice.

TFMA's ConfusionMatrixPlot has 1,000 thresholds and its CalibrationPlot 1,000 buckets per slice and
model; drawn, a few dozen points look the same.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

MAX_CURVE_POINTS = 64
CALIBRATION_BUCKETS = 20


def _rates(
    tp: np.ndarray, fp: np.ndarray, positives: float, negatives: float
) -> Tuple[np.ndarray, ...]:
    """(false positive rate, recall, precision) with TFMA's conventions: precision 1 and rates 0
    where undefined (the page computes them the same way)."""
    fpr = fp / negatives if negatives > 0 else np.zeros_like(fp)
    recall = tp / positives if positives > 0 else np.zeros_like(tp)
    predicted = tp + fp
    precision = np.divide(tp, predicted, out=np.ones_like(predicted), where=predicted > 0)
    return fpr, recall, precision


def curve_point_indices(
    tp: Sequence[float],
    fp: Sequence[float],
    positives: float,
    negatives: float,
    max_points: int = MAX_CURVE_POINTS,
) -> np.ndarray:
    """Indices of the thresholds to keep so that the ROC and PR curves keep their shape.

    tp, fp: true and false positives at each threshold; positives, negatives: the totals.
    Thresholds whose counts repeat the previous ones are dropped; of the rest, at most
    `max_points` are kept, evenly spaced along each curve's length (half for ROC, half for PR),
    and always the first and the last.
    """
    tp, fp = np.asarray(tp, float), np.asarray(fp, float)
    if len(tp) == 0:
        return np.zeros(0, dtype=int)
    changed = np.concatenate([[True], (tp[1:] != tp[:-1]) | (fp[1:] != fp[:-1])])
    changed[-1] = True
    kept = np.flatnonzero(changed)
    if len(kept) <= max_points:
        return kept
    fpr, recall, precision = _rates(tp[kept], fp[kept], positives, negatives)
    half = max(max_points // 2 - 1, 1)
    chosen = np.concatenate(
        [
            [0, len(kept) - 1],
            _evenly_along(fpr, recall, half),
            _evenly_along(recall, precision, half),
        ]
    )
    return kept[np.unique(chosen)]


def _evenly_along(x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """Indices of n points evenly spaced along the polyline (x, y)."""
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    return np.searchsorted(length, np.linspace(0.0, length[-1], n)).clip(0, len(x) - 1)


def rebin_calibration(
    lower: Sequence[float],
    upper: Sequence[float],
    weight: Sequence[float],
    label: Sequence[float],
    prediction: Sequence[float],
    low: float,
    high: float,
    num_buckets: int = CALIBRATION_BUCKETS,
) -> Tuple[np.ndarray, ...]:
    """Merges calibration buckets [lower, upper) into `num_buckets` equal-width ones over
    [low, high); returns (lower, upper, weight, label, prediction) of the non-empty ones.

    The sums are exact: a bucket falls wholly into the merged bucket holding its midpoint (TFMA's
    open-ended buckets below low and from high join the first and the last).
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    sums = np.column_stack([weight, label, prediction]).astype(float).reshape(-1, 3)
    width = (high - low) / num_buckets or 1.0
    middle = np.where(np.isinf(lower), upper, np.where(np.isinf(upper), lower, (lower + upper) / 2))
    group = np.clip(np.floor((middle - low) / width), 0, num_buckets - 1).astype(int)
    merged = np.stack(
        [np.bincount(group, sums[:, i], minlength=num_buckets) for i in range(3)], axis=1
    )
    keep = merged[:, 0] != 0
    edges = low + width * np.arange(num_buckets + 1)
    return edges[:-1][keep], edges[1:][keep], merged[keep, 0], merged[keep, 1], merged[keep, 2]
