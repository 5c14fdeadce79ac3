"""TFMA's binary confusion matrices from a calibration histogram, vectorised with numpy.

TFMA derives AUC, AUC-PR and the other many-threshold metrics from its 10,000-bucket calibration
histogram: ``calibration_histogram.rebin`` onto the thresholds, then
``binary_confusion_matrices._histogram_to_binary_confusion_matrices``, both Python loops over
every bucket and threshold, once per slice (and per bootstrap replicate). This module does the
same with numpy, bit for bit: every sum is accumulated in TFMA's order (``np.bincount`` and
``np.cumsum`` add sequentially, as TFMA's loops do), so the matrices are equal, not just close.
It is hand-written because TFMA offers no vectorised form.

``vectorised`` swaps TFMA's derived computation (a closure inside
``binary_confusion_matrices.binary_confusion_matrices``, whose settings it reads from the closure)
for one running this code. It reads the histogram as TFMA's list of Buckets or, cheaper, as
``BucketSums`` (the combiner's arrays; building ~10,000 Bucket objects per slice costs more than
all the rest): ``reads_key`` tells when no other computation needs the Buckets.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, List, NamedTuple, Sequence, Union

import numpy as np
from tensorflow_model_analysis.metrics import (
    binary_confusion_matrices,
    calibration_histogram,
    metric_types,
)

from glassbox import tfma_internals

_EPSILON = tfma_internals.CONFUSION_MATRIX_EPSILON
_TFMA_RESULT = "binary_confusion_matrices.<locals>.result"


class BucketSums(NamedTuple):
    """A calibration histogram as arrays: the seen buckets' ids, (k,), ascending, and their
    weighted labels, weighted predictions and weighted examples, (k, 3)."""

    ids: np.ndarray
    sums: np.ndarray


def bucket_sums(histogram: Union[BucketSums, calibration_histogram.Histogram]) -> BucketSums:
    """The histogram as BucketSums (TFMA's list of Buckets converted)."""
    if isinstance(histogram, BucketSums):
        return histogram
    ids = np.fromiter((b.bucket_id for b in histogram), np.int64, len(histogram))
    sums = np.array(
        [(b.weighted_labels, b.weighted_predictions, b.weighted_examples) for b in histogram],
        dtype=np.float64,
    ).reshape(-1, 3)
    return BucketSums(ids, sums)


def rebin_thresholds(thresholds: List[float]) -> List[float]:
    """The thresholds TFMA rebins the histogram onto for confusion matrices at ``thresholds``."""
    rebinned = [t + _EPSILON if t != 0 else t for t in thresholds]
    if thresholds[0] >= 0:
        rebinned = [-_EPSILON] + rebinned
    if thresholds[-1] < 1.0:
        rebinned = rebinned + [1.0 + _EPSILON]
    return rebinned


def rebin(
    thresholds: Sequence[float],
    histogram: Union[BucketSums, calibration_histogram.Histogram],
    num_buckets: int = calibration_histogram.DEFAULT_NUM_BUCKETS,
) -> np.ndarray:
    """``calibration_histogram.rebin`` (left 0, right 1) as a (len(thresholds), 3) array of
    weighted labels, weighted predictions and weighted examples per new bucket.

    Bucket i collects the histogram buckets whose left edge is >= thresholds[i] and <
    thresholds[i + 1]: the first and last also take the under- and overflow buckets.
    ``thresholds`` must be sorted, as TFMA requires.
    """
    ids, sums = bucket_sums(histogram)
    edges = (
        ids - 1
    ) / num_buckets  # TFMA's left edge, (id - 1) / num_buckets * (right - left) + left
    edges[ids == 0] = -np.inf
    edges[ids >= num_buckets + 1] = np.inf
    new_ids = np.searchsorted(np.asarray(thresholds[1:], dtype=np.float64), edges, side="right")
    return np.stack(
        [np.bincount(new_ids, weights=sums[:, j], minlength=len(thresholds)) for j in range(3)],
        axis=-1,
    )


def histogram_to_matrices(
    thresholds: Sequence[float], rebinned: np.ndarray
) -> binary_confusion_matrices.Matrices:
    """``_histogram_to_binary_confusion_matrices`` over a rebinned histogram (``rebin``'s array).

    At threshold i, tp/fp are the positive/negative weight in buckets >= i and fn/tn those below.
    The matrices hold float64 arrays (thresholds as given) where TFMA's hold lists of floats:
    TFMA's derived metrics read them with ``np.array`` or element by element, and converting
    10,000 floats to lists and back was most of a slice's metrics time (AUC's default thresholds).
    """
    positives = rebinned[:, 0]
    negatives = rebinned[:, 2] - rebinned[:, 0]
    tp = np.cumsum(positives[::-1])[::-1]
    fp = np.cumsum(negatives[::-1])[::-1]
    fn = np.cumsum(np.concatenate([[0.0], positives[:-1]]))
    tn = np.cumsum(np.concatenate([[0.0], negatives[:-1]]))
    # TFMA drops the -epsilon bucket it added (or keeps one bucket for a single threshold).
    offset = 1 if (thresholds[0] >= 0 or len(thresholds) == 1) and len(rebinned) > 1 else 0
    tp, fp, fn, tn = (a[offset : offset + len(thresholds)].copy() for a in (tp, fp, fn, tn))
    # Above 1 + epsilon nothing is predicted positive; TFMA fills these in threshold order, so
    # when the first threshold is such one, the counts it copies are already zeroed.
    above = np.asarray(thresholds, dtype=np.float64)[: len(tp)] >= 1.0 + _EPSILON
    first_tp, first_fp = (0.0, 0.0) if above[:1].any() else (tp[0], fp[0])
    tp[above], fp[above], fn[above], tn[above] = 0.0, 0.0, first_tp, first_fp
    return binary_confusion_matrices.Matrices(thresholds, tp, tn, fp, fn)


class _HistogramMatrices:
    """The derived computation's result function: histogram at input_key -> matrices at matrices_key."""

    def __init__(
        self,
        thresholds: List[float],
        input_key: metric_types.MetricKey,
        matrices_key: metric_types.MetricKey,
    ):
        # As arrays once, not a list of (by default) 10,000 thresholds converted for every slice.
        self._thresholds = np.asarray(thresholds, dtype=np.float64)
        self._rebin_thresholds = np.asarray(rebin_thresholds(thresholds), dtype=np.float64)
        self.input_key = input_key
        self._matrices_key = matrices_key

    def __call__(
        self, metrics: Dict[metric_types.MetricKey, Any]
    ) -> Dict[metric_types.MetricKey, Any]:
        rebinned = rebin(self._rebin_thresholds, metrics[self.input_key])
        return {self._matrices_key: histogram_to_matrices(self._thresholds, rebinned)}


def vectorised(
    computation: metric_types.DerivedMetricComputation,
) -> metric_types.DerivedMetricComputation:
    """The computation with TFMA's histogram-to-matrices result replaced by the vectorised one;
    any other computation (or one that needs no rebinning: a single negative threshold, as for
    top-k metrics) unchanged."""
    result = computation.result
    if getattr(result, "__qualname__", None) != _TFMA_RESULT:
        return computation
    settings = inspect.getclosurevars(result).nonlocals
    thresholds = list(settings["thresholds"])
    if not settings["use_histogram"] or (len(thresholds) == 1 and thresholds[0] < 0):
        return computation
    rebinned = rebin_thresholds(thresholds)
    if rebinned != sorted(rebinned):
        return computation  # TFMA's rebin assumes sorted thresholds; keep its result for any other
    return metric_types.DerivedMetricComputation(
        keys=computation.keys,
        result=_HistogramMatrices(
            thresholds, settings["input_metric_key"], settings["matrices_key"]
        ),
    )


def reads_key(
    computation: metric_types.DerivedMetricComputation, key: metric_types.MetricKey
) -> bool:
    """Whether the computation may read metrics[key] expecting TFMA's value (a vectorised one
    takes BucketSums as well). TFMA's derived computations are closures holding the keys they
    read; any other result function is assumed to read every key."""
    result = computation.result
    if isinstance(result, _HistogramMatrices):
        return False
    if not inspect.isfunction(result):
        return True
    captured = [
        value
        for value in inspect.getclosurevars(result).nonlocals.values()
        if isinstance(value, metric_types.MetricKey)
    ]
    return not captured or key in captured
