"""Batch counterparts of TFMA's own primitive combiners: calibration histogram, binary and
multi-class confusion matrices, example counts, weighted labels and predictions, regression
errors, cross entropies and class weights from labels.

Each class takes the TFMA combiner it replaces and reads its settings from it (TFMA 0.52 keeps
them in private attributes; pyproject pins TFMA below 0.53), so it serves whatever keys and
options TFMA's ``to_computations`` chose. Accumulator layouts are documented on each ``zeros``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import numpy as np
from tensorflow_model_analysis.contrib.aggregates import (
    binary_confusion_matrices as bcm_computations,
)
from tensorflow_model_analysis.metrics import (
    calibration_histogram,
    metric_types,
    metric_util,
)
from tensorflow_model_analysis.metrics import (
    multi_class_confusion_matrix_metrics as mcm,
)

from glassbox import tfma_internals
from glassbox.data.types import Batch
from glassbox.evaluation import histogram_matrices
from glassbox.evaluation.batch_combiner import BatchCombiner, Elements, model_inputs
from glassbox.evaluation.errors import LabelDomainError, ShapeError, UnsupportedMetricError
from glassbox.evaluation.label_prediction import (
    LabelPredictionOptions,
    LabelPredictionWeight,
    check_broadcastable,
    to_label_prediction_example_weight,
)
from glassbox.tfma_internals import setting


def _options(key: metric_types.MetricKey, combiner, **overrides) -> LabelPredictionOptions:
    """The label/prediction options a TFMA combiner uses, read from its settings."""
    settings = dict(
        metric=key.name,
        sub_key=key.sub_key,
        aggregation_type=setting(combiner, "aggregation_type"),
        class_weights=setting(combiner, "class_weights"),
        example_weighted=setting(combiner, "example_weighted"),
    )
    settings.update(overrides)
    return LabelPredictionOptions(**settings)


def _require_default_extraction(combiner, key: metric_types.MetricKey) -> None:
    if (
        setting(combiner, "extract_label_prediction_and_weight")
        is not metric_util.to_label_prediction_example_weight
    ):
        raise UnsupportedMetricError(
            f"metric {key.name!r} extracts labels and predictions with a custom function "
            f"({setting(combiner, 'extract_label_prediction_and_weight').__name__})"
        )


def _require_distinct(thresholds, key: metric_types.MetricKey) -> None:
    if len(set(thresholds)) != len(thresholds):
        raise UnsupportedMetricError(
            f"metric {key.name!r} repeats a threshold in {list(thresholds)}; TFMA counts repeated "
            "thresholds several times, depending on how Beam merges, so we refuse them"
        )


class _LabelPredictionCombiner(BatchCombiner):
    """A combiner over TFMA's (label, prediction, example weight) entries of one model."""

    def __init__(self, key: metric_types.MetricKey, options: LabelPredictionOptions):
        self._key = key
        self._options = options

    def _inputs(self, batch: Batch) -> LabelPredictionWeight:
        labels, predictions, weights = model_inputs(batch, self._key.model_name)
        return to_label_prediction_example_weight(labels, predictions, weights, self._options)


def _scalar_elements(rows: np.ndarray, *values: np.ndarray) -> Elements:
    """Elements adding ``values`` (one array per accumulator column) to a single cell."""
    return Elements(
        rows=rows,
        cells=np.zeros(len(rows), dtype=np.int64),
        values=np.stack(values, axis=-1),
        shape=(1, len(values)),
    )


class CalibrationHistogram(_LabelPredictionCombiner):
    """``calibration_histogram._CalibrationHistogramCombiner``."""

    def __init__(self, combiner: tfma_internals.CalibrationHistogramCombiner):
        key = setting(combiner, "key")
        fractional = setting(combiner, "fractional_labels")
        super().__init__(key, _options(key, combiner, fractional_labels=fractional))
        self._num_buckets = setting(combiner, "num_buckets")
        self._left = setting(combiner, "left")
        self._range = setting(combiner, "range")
        self._by_prediction = setting(combiner, "prediction_based_bucketing")

    def zeros(self) -> np.ndarray:
        """Per bucket (num_buckets + 2, as TFMA): weighted labels, weighted predictions, weighted
        examples, and how many entries landed there (TFMA lists only the buckets it saw)."""
        return np.zeros((self._num_buckets + 2, 4))

    def _bucket_index(self, values: np.ndarray) -> np.ndarray:
        """TFMA's ``_bucket_index``: truncated, with under- and overflow buckets at the ends."""
        if np.isnan(values).any():
            raise LabelDomainError(
                f"metric {self._key.name!r}: cannot bucket NaN labels or predictions"
            )
        index = (values - self._left) / self._range * self._num_buckets + 1
        return np.clip(index, 0, self._num_buckets + 1).astype(np.int64)

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        weights = entries.weights
        bucketed = entries.predictions if self._by_prediction else entries.labels
        values = np.stack(
            [
                entries.labels * weights,
                entries.predictions * weights,
                weights,
                np.ones_like(weights),
            ],
            axis=-1,
        )
        return Elements(entries.rows, self._bucket_index(bucketed), values, self.zeros().shape)

    @property
    def key(self) -> metric_types.PlotKey:
        return self._key

    def bucket_sums(self, acc: np.ndarray) -> histogram_matrices.BucketSums:
        """The histogram as arrays (its Buckets are ``extract_output``'s)."""
        seen = np.flatnonzero(acc[:, 3] > 0)
        return histogram_matrices.BucketSums(seen, acc[seen, :3])

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.PlotKey, Any]:
        ids, sums = self.bucket_sums(acc)
        return {
            self._key: [
                calibration_histogram.Bucket(i, *bucket)
                for i, bucket in zip(ids.tolist(), sums.tolist())
            ]
        }


class BinaryConfusionMatrices(_LabelPredictionCombiner):
    """``binary_confusion_matrices._BinaryConfusionMatrixCombiner``: exact counts at thresholds.

    Like TFMA, an entry is a predicted positive at threshold t when prediction > t, and a positive
    when its (fractionally split) label is 1.
    """

    def __init__(self, combiner: tfma_internals.BinaryConfusionMatrixCombiner):
        key = setting(combiner, "key")
        matrices = setting(combiner, "binary_confusion_matrices")
        _require_default_extraction(combiner, key)
        example_id_key = setting(combiner, "example_id_key")
        if example_id_key:
            raise UnsupportedMetricError(
                f"metric {key.name!r} samples example ids ({example_id_key!r}), which glassbox does not do"
            )
        if not setting(matrices, "enable_fractional_labels"):
            raise UnsupportedMetricError(
                f"metric {key.name!r} compares labels to thresholds (fractional_labels=False)"
            )
        _require_distinct(setting(matrices, "thresholds"), key)
        super().__init__(key, _options(key, combiner, fractional_labels=True))
        self._thresholds = list(setting(matrices, "thresholds"))
        self._sorted = np.sort(self._thresholds)

    def zeros(self) -> np.ndarray:
        """Negative and positive weight, by how many thresholds lie below the prediction."""
        return np.zeros((len(self._thresholds) + 1, 2))

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        positive = entries.labels == 1.0
        values = np.stack([entries.weights * ~positive, entries.weights * positive], axis=-1)
        below = np.searchsorted(self._sorted, entries.predictions, side="left")
        return Elements(entries.rows, below, values, self.zeros().shape)

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        at_or_below = np.cumsum(acc, axis=0)  # predictions <= sorted threshold i
        above = np.cumsum(acc[::-1], axis=0)[::-1]  # [i + 1]: predictions > sorted threshold i
        result = {}
        for threshold in self._thresholds:
            i = int(np.searchsorted(self._sorted, threshold))
            (fp, tp), (tn, fn) = above[i + 1], at_or_below[i]
            matrix = bcm_computations.Matrix(tp=float(tp), tn=float(tn), fp=float(fp), fn=float(fn))
            result[threshold] = tfma_internals.ThresholdEntry(matrix, [], [], [], [])
        return {self._key: result}


class WeightedLabelsPredictionsExamples(_LabelPredictionCombiner):
    """``calibration._WeightedLabelsPredictionsExamplesCombiner`` (mean label, mean prediction,
    calibration)."""

    def __init__(self, combiner: tfma_internals.WeightedLabelsPredictionsExamplesCombiner):
        key = setting(combiner, "key")
        if key.sub_key and key.sub_key.top_k not in (None, 1):
            raise UnsupportedMetricError(
                f"metric {key.name!r} with top_k={key.sub_key.top_k}: TFMA's combiner fails on it "
                "(it indexes past each flattened label)"
            )
        super().__init__(key, _options(key, combiner))

    def zeros(self) -> np.ndarray:
        """Total weighted labels, weighted predictions and weighted examples."""
        return np.zeros((1, 3))

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        w = entries.weights
        return _scalar_elements(entries.rows, entries.labels * w, entries.predictions * w, w)

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        totals = tfma_internals.WeightedLabelsPredictionsExamples()
        labels, predictions, examples = map(float, acc[0])
        totals.total_weighted_labels = labels
        totals.total_weighted_predictions = predictions
        totals.total_weighted_examples = examples
        return {self._key: totals}


class ExampleCount(BatchCombiner):
    """``example_count._ExampleCountCombiner`` (ExampleCount, and WeightedExampleCount when
    example weighted)."""

    def __init__(self, combiner: tfma_internals.ExampleCountCombiner):
        output_name = setting(combiner, "output_name")
        if output_name:
            raise UnsupportedMetricError(
                f"example counts per output ({output_name!r}) are not supported"
            )
        self._keys = setting(combiner, "keys")
        self._model_name = setting(combiner, "model_name")
        self._example_weighted = setting(combiner, "example_weighted")

    def zeros(self) -> np.ndarray:
        """Total (weighted) examples."""
        return np.zeros((1, 1))

    def elements(self, batch: Batch) -> Elements:
        weights = model_inputs(batch, self._model_name)[2]
        counted = (
            np.asarray(weights, dtype=np.float64)
            if self._example_weighted
            else np.ones(batch.num_rows)
        )
        return Elements(
            np.arange(batch.num_rows),
            np.zeros(batch.num_rows, dtype=np.int64),
            counted[:, None],
            self.zeros().shape,
        )

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        return {key: np.float64(acc[0, 0]) for key in self._keys}


# TFMA's _regression_error of each mean_regression_error combiner, per (label, prediction) entry.
_REGRESSION_ERRORS: Dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    tfma_internals.MeanAbsoluteErrorCombiner: lambda y, p: np.abs(y - p),
    tfma_internals.MeanSquaredErrorCombiner: lambda y, p: (y - p) ** 2,
    tfma_internals.MeanAbsolutePercentageErrorCombiner: lambda y, p: np.where(
        y == 0, np.nan, 100 * np.abs((y - p) / y)
    ),
    tfma_internals.MeanSquaredLogarithmicErrorCombiner: lambda y, p: (
        (np.log(y + 1) - np.log(p + 1)) ** 2
    ),
}


class MeanRegressionError(_LabelPredictionCombiner):
    """``mean_regression_error``'s combiners: the weighted mean of a per-entry error, skipping
    entries whose error is NaN (e.g. percentage error at label 0), as TFMA."""

    def __init__(self, combiner: tfma_internals.MeanRegressionErrorCombiner):
        key = setting(combiner, "metric_key")
        super().__init__(key, _options(key, combiner))
        self._error = _REGRESSION_ERRORS[type(combiner)]

    def zeros(self) -> np.ndarray:
        """Total weighted error and total weight."""
        return np.zeros((1, 2))

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        with np.errstate(invalid="ignore", divide="ignore"):
            error = self._error(entries.labels, entries.predictions)
        kept = ~np.isnan(error)
        weights = entries.weights[kept]
        return _scalar_elements(entries.rows[kept], error[kept] * weights, weights)

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        total, weight = map(float, acc[0])
        return {self._key: total / weight if weight != 0.0 else float("nan")}


def _binary_cross_entropy(labels, predictions, from_logits: bool):
    if from_logits:
        return (
            np.maximum(predictions, 0)
            - predictions * labels
            + np.log(1 + np.exp(-np.abs(predictions)))
        )
    return -labels * np.log(predictions) - (1 - labels) * np.log(1 - predictions)


class CrossEntropy(_LabelPredictionCombiner):
    """``cross_entropy_metrics``' binary and categorical combiners: the weighted mean over
    examples of each example's cross entropy, with TFMA's formulas (no clipping)."""

    def __init__(self, combiner: tfma_internals.CrossEntropyCombiner):
        key = setting(combiner, "metric_key")
        super().__init__(key, _options(key, combiner, flatten=False))
        self._categorical = isinstance(combiner, tfma_internals.CategoricalCrossEntropyCombiner)
        self._from_logits = setting(combiner, "from_logits")
        self._label_smoothing = setting(combiner, "label_smoothing")

    def zeros(self) -> np.ndarray:
        """Total weighted cross entropy and total weight."""
        return np.zeros((1, 2))

    def _per_example(self, labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
        smoothing = self._label_smoothing
        if self._categorical:
            labels = labels * (1.0 - smoothing) + smoothing / predictions.shape[1]
            if self._from_logits:
                predictions = np.exp(predictions)
            predictions = predictions / predictions.sum(axis=1, keepdims=True)
            # As TFMA, np.ma.log: classes predicted 0 drop out of the sum.
            return -np.sum(labels * np.ma.log(predictions).filled(0.0), axis=1)
        labels = labels * (1.0 - smoothing) + 0.5 * smoothing
        return np.mean(_binary_cross_entropy(labels, predictions, self._from_logits), axis=1)

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        check_broadcastable(entries.labels, entries.predictions, self._key.name)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            per_example = self._per_example(entries.labels, entries.predictions)
        return _scalar_elements(entries.rows, per_example * entries.weights, entries.weights)

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return {self._key: np.divide(acc[0, 0], acc[0, 1])}


class MultiClassConfusionMatrices(_LabelPredictionCombiner):
    """``multi_class_confusion_matrix_metrics._MultiClassConfusionMatrixCombiner``.

    Per threshold, weighted counts of (actual class, top predicted class); the predicted class is
    NO_PREDICTED_CLASS_ID (-1) when the top prediction is <= the threshold, and, as in TFMA, stays
    -1 for the thresholds listed after one where it was.
    """

    def __init__(self, combiner: tfma_internals.MultiClassConfusionMatrixCombiner):
        key = setting(combiner, "key")
        _require_default_extraction(combiner, key)
        _require_distinct(setting(combiner, "thresholds"), key)
        super().__init__(
            key,
            LabelPredictionOptions(
                metric=key.name,
                example_weighted=setting(combiner, "example_weighted"),
                flatten=False,
            ),
        )
        self._thresholds = list(setting(combiner, "thresholds"))

    def zeros(self) -> np.ndarray:
        """Per threshold, actual class + 1 and predicted class + 1: weight, and number of entries
        (TFMA lists only the pairs it saw). The class axes grow with the classes seen."""
        return np.zeros((len(self._thresholds), 0, 0, 2))

    def _actual_classes(self, labels: np.ndarray) -> np.ndarray:
        if labels.shape[1] > 1:
            return np.argmax(labels, axis=1)
        ids = labels[:, 0]
        valid = (ids == np.round(ids)) & (ids >= -1)
        if not valid.all():
            raise LabelDomainError(
                f"metric {self._key.name!r}: label {float(ids[~valid][0])!r} is not a class id"
            )
        return ids.astype(np.int64)

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        predictions = entries.predictions
        n, num_classes = predictions.shape
        if num_classes < 2:
            raise ShapeError(
                f"metric {self._key.name!r} needs predictions of at least 2 classes, got {num_classes}"
            )
        actual = self._actual_classes(entries.labels)
        predicted = np.argmax(predictions, axis=1)
        top = predictions[np.arange(n), predicted]
        none = np.logical_or.accumulate(
            top[:, None] <= np.asarray(self._thresholds)[None, :], axis=1
        )
        predicted = np.where(none, mcm.NO_PREDICTED_CLASS_ID, predicted[:, None])
        num_actual = int(actual.max()) + 2 if n else 0
        shape = (len(self._thresholds), num_actual, num_classes + 1, 2)
        threshold_index = np.arange(len(self._thresholds))[None, :]
        cells = (
            (threshold_index * num_actual + actual[:, None] + 1) * (num_classes + 1) + predicted + 1
        )
        values = np.stack([entries.weights, np.ones(n)], axis=-1)
        return Elements(
            np.repeat(entries.rows, len(self._thresholds)),
            cells.ravel(),
            np.repeat(values, len(self._thresholds), axis=0),
            shape,
        )

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        matrices = mcm.Matrices()
        if acc[..., 1].sum() > 0:
            for i, threshold in enumerate(self._thresholds):
                actual, predicted = np.nonzero(acc[i, :, :, 1])
                matrices[threshold] = {
                    mcm.MatrixEntryKey(int(a) - 1, int(p) - 1): float(acc[i, a, p, 0])
                    for a, p in zip(actual, predicted)
                }
        return {self._key: matrices}


class ClassWeightsFromLabels(_LabelPredictionCombiner):
    """``aggregation._ClassWeightsFromLabelsCombiner``: each class's share of the weighted labels,
    which weights the per-class metrics of a weighted macro average."""

    def __init__(self, combiner: tfma_internals.ClassWeightsFromLabelsCombiner):
        key = setting(combiner, "key")
        super().__init__(
            key,
            LabelPredictionOptions(
                metric=key.name,
                example_weighted=setting(combiner, "example_weighted"),
                flatten=False,
            ),
        )
        self._class_ids = list(setting(combiner, "class_ids"))

    def zeros(self) -> np.ndarray:
        """Weighted label total per class id."""
        return np.zeros((len(self._class_ids), 1))

    def elements(self, batch: Batch) -> Elements:
        entries = self._inputs(batch)
        labels = entries.labels
        if labels.shape[1] == 1:  # a class id (TFMA: any single-valued label)
            per_class = labels == np.asarray(self._class_ids)[None, :]
        else:
            _check_class_ids(self._key, self._class_ids, labels.shape[1])
            per_class = labels[:, self._class_ids]
        num_classes = len(self._class_ids)
        return Elements(
            np.repeat(entries.rows, num_classes),
            np.tile(np.arange(num_classes), len(labels)),
            (per_class * entries.weights[:, None]).reshape(-1, 1),
            self.zeros().shape,
        )

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        totals = dict(zip(self._class_ids, map(float, acc[:, 0])))
        total = sum(totals.values())
        return {
            self._key: {
                class_id: value / total if total else 0.0 for class_id, value in totals.items()
            }
        }


def _check_class_ids(key: metric_types.MetricKey, class_ids, num_classes: int) -> None:
    if max(class_ids) >= num_classes:
        raise ShapeError(
            f"metric {key.name!r}: class_id {max(class_ids)} is outside labels of {num_classes} classes"
        )
