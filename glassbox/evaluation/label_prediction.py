"""Labels, predictions and example weights as TFMA's metrics see them, for a whole batch.

A vectorised counterpart of TFMA's ``metric_util.to_label_prediction_example_weight``, which
works on one example at a time. It is hand-written because TFMA offers no batched form; each step
below names the TFMA step it reproduces, and ``tests/evaluation/test_label_prediction.py`` checks it against
TFMA's function example by example.

Per example TFMA sees a label of width ``lw`` and a prediction of width ``pw`` (1 for binary and
regression models, the number of classes for multi-class ones). Labels are *sparse* (a class id)
when ``lw != pw``, else dense (one-hot, multi-hot or a regression target).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional

import numpy as np
from tensorflow_model_analysis.metrics import metric_types

from glassbox.evaluation.errors import LabelDomainError, ShapeError, UnsupportedMetricError

# TFMA's tolerance when checking fractional labels against [0, 1] (metric_util.within_interval).
_EPSILON = 1e-7


@dataclasses.dataclass(frozen=True)
class LabelPredictionOptions:
    """The arguments a TFMA combiner passes to ``to_label_prediction_example_weight``.

    ``metric`` names the metric in error messages.
    """

    metric: str
    sub_key: Optional[metric_types.SubKey] = None
    aggregation_type: Optional[metric_types.AggregationType] = None
    class_weights: Optional[Dict[int, float]] = None
    example_weighted: bool = False
    fractional_labels: bool = False
    flatten: bool = True

    def __post_init__(self):
        if not self.flatten and (self.class_weights or self.fractional_labels):
            raise UnsupportedMetricError(
                f"metric {self.metric!r}: class weights and fractional labels need per-class "
                "(flattened) inputs, which this metric does not use; TFMA fails on it too"
            )


@dataclasses.dataclass
class LabelPredictionWeight:
    """Aligned labels, predictions and weights, and the batch row each one came from.

    Flattened, all four are (m,): one entry per (example, class) pair TFMA yields. Unflattened,
    labels and predictions keep each example's width, (n, lw) and (n, pw), and rows is arange(n).
    """

    labels: np.ndarray
    predictions: np.ndarray
    weights: np.ndarray
    rows: np.ndarray


def _as_columns(values: np.ndarray) -> np.ndarray:
    """(n,) or (n, k) -> float64 (n, k): one row per example, as TFMA sees each example's value."""
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values


def _one_hot(labels: np.ndarray, num_classes: int, metric: str) -> np.ndarray:
    """Sparse (n, 1) class ids -> (n, num_classes) one-hot, as TFMA's ``metric_util.one_hot``.

    Like TFMA, a label of -1 (a string label missing from the vocabulary) becomes all zeros. TFMA
    silently maps other out-of-range ids to zeros or to a wrapped-around class; we refuse them.
    """
    ids = labels[:, 0]
    valid = (ids == np.round(ids)) & (ids >= -1) & (ids < num_classes)
    if not valid.all():
        raise LabelDomainError(
            f"metric {metric!r}: label {float(ids[~valid][0])!r} is not a class id in [0, {num_classes}) "
            f"(or -1 for an unknown class) for predictions of {num_classes} classes"
        ).at_row(np.flatnonzero(~valid)[0])
    ids = ids.astype(np.int64)
    known = np.flatnonzero(ids >= 0)
    result = np.zeros((len(ids), num_classes))
    result[known, ids[known]] = 1.0
    return result


def check_broadcastable(labels: np.ndarray, predictions: np.ndarray, metric: str) -> None:
    """Per-example labels and predictions that a metric combines elementwise must broadcast."""
    try:
        np.broadcast_shapes(labels.shape, predictions.shape)
    except ValueError:
        raise ShapeError(
            f"metric {metric!r}: labels of width {labels.shape[1]} and predictions of width "
            f"{predictions.shape[1]} cannot be paired"
        ) from None


def _check_width(num_classes: int, needed: int, what: str, metric: str) -> None:
    if num_classes < needed:
        raise ShapeError(
            f"metric {metric!r}: {what} needs predictions of at least {needed} classes, got {num_classes}"
        )


def _top_columns(predictions: np.ndarray, count: int) -> np.ndarray:
    """Column indices of each row's ``count`` highest predictions, highest first (stable, as TFMA)."""
    return np.argsort(-predictions, axis=1, kind="stable")[:, :count]


def _select_class_id(labels, predictions, class_id: int, metric: str):
    """Binarizes by class id, as TFMA's ``metric_util.select_class_id``."""
    _check_width(predictions.shape[1], class_id + 1, f"class_id {class_id}", metric)
    if labels.shape[1] != predictions.shape[1]:  # sparse labels
        labels = (labels[:, :1] == class_id).astype(np.float64)
    else:
        labels = labels[:, class_id : class_id + 1]
    return labels, predictions[:, class_id : class_id + 1]


def _apply_sub_key(labels, predictions, options: LabelPredictionOptions):
    """k / top_k / class_id selection, in TFMA's order."""
    sub_key, metric = options.sub_key, options.metric
    rows = np.arange(len(predictions))[:, None]
    num_classes = predictions.shape[1]
    if sub_key.k is not None:
        _check_width(num_classes, sub_key.k, f"k={sub_key.k}", metric)
        columns = _top_columns(predictions, sub_key.k)[:, -1:]
        if labels.shape[1] != num_classes:
            labels = _one_hot(labels, num_classes, metric)
        return labels[rows, columns], predictions[rows, columns]
    if sub_key.top_k is not None:
        _check_width(num_classes, sub_key.top_k, f"top_k={sub_key.top_k}", metric)
        columns = np.sort(_top_columns(predictions, sub_key.top_k), axis=1)
        if options.aggregation_type is not None:  # keep only the top k classes
            if labels.shape[1] != num_classes:
                labels = _one_hot(labels, num_classes, metric)
            labels, predictions = labels[rows, columns], predictions[rows, columns]
        else:  # keep all classes, predictions outside the top k become -inf
            top = np.full(predictions.shape, -np.inf)
            top[rows, columns] = predictions[rows, columns]
            predictions = top
    if sub_key.class_id is not None:
        labels, predictions = _select_class_id(labels, predictions, sub_key.class_id, metric)
    return labels, predictions


def _flatten(
    labels, predictions, weights, options: LabelPredictionOptions
) -> LabelPredictionWeight:
    """One entry per class, as TFMA's ``flatten=True``; class weights apply by position, as TFMA."""
    n, width = predictions.shape
    if labels.shape[1] != width:
        if labels.shape[1] != 1:
            raise ShapeError(
                f"metric {options.metric!r}: cannot pair labels of width {labels.shape[1]} with "
                f"predictions of width {width}"
            )
        labels = _one_hot(labels, width, options.metric)
    per_class = np.ones(width)
    if options.class_weights:
        per_class = np.array([options.class_weights.get(i, 0.0) for i in range(width)])
    return LabelPredictionWeight(
        labels=labels.ravel(),
        predictions=predictions.ravel(),
        weights=(weights[:, None] * per_class).ravel(),
        rows=np.repeat(np.arange(n), width),
    )


def _split_fractional(flat: LabelPredictionWeight, metric: str) -> LabelPredictionWeight:
    """Label l -> (0, weight * (1 - l)) then (1, weight * l), dropping zero weights, as TFMA."""
    labels = flat.labels
    outside = ~((labels >= -_EPSILON) & (labels <= 1.0 + _EPSILON))
    if outside.any():
        raise LabelDomainError(
            f"metric {metric!r} splits fractional labels, which must lie in [0, 1]; "
            f"got label {float(labels[outside][0])!r}"
        ).at_row(flat.rows[outside][0])
    positive = labels == 1.0
    if np.all(positive | (labels == 0.0)) and np.isfinite(flat.weights).all():
        # Labels 0 and 1 split into themselves with their weight and a zero-weight entry, dropped.
        keep = flat.weights != 0.0
        return LabelPredictionWeight(
            labels=positive[keep].astype(np.float64),
            predictions=flat.predictions[keep],
            weights=flat.weights[keep],
            rows=flat.rows[keep],
        )
    weights = np.stack([flat.weights * (1.0 - labels), flat.weights * labels], axis=1).ravel()
    keep = weights != 0.0
    return LabelPredictionWeight(
        labels=np.tile([0.0, 1.0], len(labels))[keep],
        predictions=np.repeat(flat.predictions, 2)[keep],
        weights=weights[keep],
        rows=np.repeat(flat.rows, 2)[keep],
    )


def to_label_prediction_example_weight(
    labels: np.ndarray,
    predictions: np.ndarray,
    example_weights: np.ndarray,
    options: LabelPredictionOptions,
) -> LabelPredictionWeight:
    """The batch's (label, prediction, weight) entries exactly as TFMA yields them per example.

    Args:
      labels: (n,) or (n, lw) labels of one model.
      predictions: (n,) or (n, pw) predictions of that model.
      example_weights: (n,) weights; ignored (weight 1) unless ``options.example_weighted``.
      options: what the TFMA combiner asks for.
    """
    labels, predictions = _as_columns(labels), _as_columns(predictions)
    n = len(predictions)
    if labels.ndim != 2 or predictions.ndim != 2 or len(labels) != n:
        raise ShapeError(
            f"metric {options.metric!r}: labels {labels.shape} and predictions {predictions.shape} "
            "must be (n,) or (n, k) with the same n"
        )
    weights = (
        np.asarray(example_weights, dtype=np.float64) if options.example_weighted else np.ones(n)
    )
    if options.sub_key is not None:
        labels, predictions = _apply_sub_key(labels, predictions, options)
    if not options.flatten:
        return LabelPredictionWeight(labels, predictions, weights, np.arange(n))
    flat = _flatten(labels, predictions, weights, options)
    return _split_fractional(flat, options.metric) if options.fractional_labels else flat
