"""Shrinking TFMA's plot data to what a chart shows: a report holds plots for every slice.

TFMA's ConfusionMatrixPlot has 1,000 thresholds and its CalibrationPlot 1,000 buckets per slice and
model; drawn, a few dozen points look the same.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

MAX_CURVE_POINTS = 64
CALIBRATION_BUCKETS = 20


def curve_point_indices(tp: Sequence[float], fp: Sequence[float], tn: Sequence[float], fn: Sequence[float],
                        precision: Sequence[float], recall: Sequence[float],
                        max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Indices of the thresholds to keep so that the ROC and PR curves keep their shape.

    Thresholds whose confusion counts repeat the previous ones are dropped; of the rest, at most
    `max_points` are kept, evenly spaced along each curve's length (half for ROC, half for PR),
    and always the first and the last.
    """
    counts = np.column_stack([tp, fp, tn, fn]).astype(float)
    if len(counts) == 0:
        return np.zeros(0, dtype=int)
    changed = np.concatenate([[True], np.any(counts[1:] != counts[:-1], axis=1)])
    changed[-1] = True
    kept = np.flatnonzero(changed)
    if len(kept) <= max_points:
        return kept
    negatives = counts[kept, 1] + counts[kept, 2]
    fpr = np.divide(counts[kept, 1], negatives, out=np.zeros(len(kept)), where=negatives > 0)
    rec, prec = np.asarray(recall, float)[kept], np.asarray(precision, float)[kept]
    half = max(max_points // 2 - 1, 1)
    chosen = np.concatenate([[0, len(kept) - 1], _evenly_along(fpr, rec, half), _evenly_along(rec, prec, half)])
    return kept[np.unique(chosen)]


def _evenly_along(x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """Indices of n points evenly spaced along the polyline (x, y)."""
    x, y = np.nan_to_num(x), np.nan_to_num(y)
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    return np.searchsorted(length, np.linspace(0.0, length[-1], n)).clip(0, len(x) - 1)


def rebin_calibration(lower: Sequence[float], upper: Sequence[float], weight: Sequence[float],
                      label: Sequence[float], prediction: Sequence[float],
                      num_buckets: int = CALIBRATION_BUCKETS):
    """Merges calibration buckets into at most `num_buckets` equal-width ones; drops empty ones.

    The sums are exact: a source bucket falls wholly into the merged bucket holding its midpoint
    (TFMA's open-ended first and last buckets join the nearest one).
    Returns (lower, upper, weight, label, prediction) arrays.
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    sums = np.column_stack([weight, label, prediction]).astype(float)
    finite_edges = np.concatenate([lower[np.isfinite(lower)], upper[np.isfinite(upper)]])
    if len(lower) == 0 or len(finite_edges) == 0:
        return (np.zeros(0),) * 5
    low, high = finite_edges.min(), finite_edges.max()
    width = (high - low) / num_buckets or 1.0
    middle = np.where(np.isfinite(lower) & np.isfinite(upper), (lower + upper) / 2,
                      np.where(np.isfinite(lower), lower, upper))
    group = np.clip(np.floor((middle - low) / width), 0, num_buckets - 1).astype(int)
    merged = np.stack([np.bincount(group, sums[:, i], minlength=num_buckets) for i in range(3)], axis=1)
    keep = merged[:, 0] != 0
    edges = low + width * np.arange(num_buckets + 1)
    return edges[:-1][keep], edges[1:][keep], merged[keep, 0], merged[keep, 1], merged[keep, 2]
