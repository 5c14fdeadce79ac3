"""Batch counterpart of TFMA's ``tf_metric_wrapper._CompilableMetricsCombiner`` for the Keras
metrics users name in EvalConfigs.

Each supported Keras metric is the weighted mean of a per-example value (RootMeanSquaredError:
the square root of one). Keras computes them in float32 on TF tensors; we apply Keras' formulas
(epsilon clipping, label smoothing, thresholds) in numpy to the inputs rounded to the metric's
dtype, and sum in float64, so results agree with Keras to float32 precision. Metrics whose value
depends on how examples are batched (losses, Hinge's label conversion) are refused.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Dict, List

import numpy as np
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.utils.keras_lib import tf_keras

from glassbox import tfma_internals
from glassbox.data.types import Batch
from glassbox.evaluation.batch_combiner import BatchCombiner, Elements, model_inputs
from glassbox.evaluation.errors import LabelDomainError, ShapeError, UnsupportedMetricError
from glassbox.evaluation.label_prediction import (
    LabelPredictionOptions,
    check_broadcastable,
    to_label_prediction_example_weight,
)
from glassbox.tfma_internals import setting

_EPSILON = 1e-7  # keras.backend.epsilon()
_DTYPES = {"float32": np.float32, "float64": np.float64}


def _mean_last(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=1, keepdims=True)


def _same_shape(labels: np.ndarray, predictions: np.ndarray, metric: str) -> None:
    if labels.shape != predictions.shape:
        raise ShapeError(
            f"Keras metric {metric!r} needs labels shaped like predictions, got labels of width "
            f"{labels.shape[1]} and predictions of width {predictions.shape[1]}"
        )


def _sparse_ids(labels: np.ndarray, metric: str) -> np.ndarray:
    if labels.shape[1] != 1:
        raise ShapeError(
            f"Keras metric {metric!r} needs sparse labels (one class id per example), "
            f"got labels of width {labels.shape[1]}"
        )
    return labels[:, 0]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _binary_crossentropy(labels, predictions, metric, from_logits=False, label_smoothing=0.0):
    labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:  # tf.nn.sigmoid_cross_entropy_with_logits
        return _mean_last(
            np.maximum(predictions, 0)
            - predictions * labels
            + np.log1p(np.exp(-np.abs(predictions)))
        )
    clipped = np.clip(predictions, _EPSILON, 1.0 - _EPSILON)
    return _mean_last(
        -(labels * np.log(clipped + _EPSILON) + (1 - labels) * np.log(1 - clipped + _EPSILON))
    )


def _categorical_crossentropy(labels, predictions, metric, from_logits=False, label_smoothing=0.0):
    _same_shape(labels, predictions, metric)
    labels = labels * (1.0 - label_smoothing) + label_smoothing / predictions.shape[1]
    if from_logits:  # tf.nn.softmax_cross_entropy_with_logits
        return -np.sum(labels * _log_softmax(predictions), axis=1, keepdims=True)
    normalized = predictions / predictions.sum(axis=1, keepdims=True)
    clipped = np.clip(normalized, _EPSILON, 1.0 - _EPSILON)
    return -np.sum(labels * np.log(clipped), axis=1, keepdims=True)


def _sparse_categorical_crossentropy(labels, predictions, metric, from_logits=False):
    ids = np.trunc(_sparse_ids(labels, metric))  # Keras casts labels to int64
    num_classes = predictions.shape[1]
    outside = (ids < 0) | (ids >= num_classes)
    if outside.any():
        raise LabelDomainError(
            f"Keras metric {metric!r}: label {float(ids[outside][0])!r} is not a class id in "
            f"[0, {num_classes})"
        )
    logits = predictions if from_logits else np.log(np.clip(predictions, _EPSILON, 1.0 - _EPSILON))
    log_probabilities = _log_softmax(logits)  # tf.nn.sparse_softmax_cross_entropy_with_logits
    return -log_probabilities[np.arange(len(ids)), ids.astype(np.int64)][:, None]


def _binary_accuracy(labels, predictions, metric, threshold=0.5):
    return _mean_last((labels == (predictions > threshold)).astype(np.float64))


def _accuracy(labels, predictions, metric):
    _same_shape(labels, predictions, metric)
    return (labels == predictions).astype(np.float64)


def _categorical_accuracy(labels, predictions, metric):
    return (np.argmax(labels, axis=1) == np.argmax(predictions, axis=1)).astype(np.float64)[:, None]


def _sparse_categorical_accuracy(labels, predictions, metric):
    return (_sparse_ids(labels, metric) == np.argmax(predictions, axis=1)).astype(np.float64)[
        :, None
    ]


def _log_cosh(labels, predictions, metric):
    error = predictions - labels
    return _mean_last(error + np.logaddexp(0.0, -2.0 * error) - np.log(2.0))


@dataclasses.dataclass(frozen=True)
class _KerasMetric:
    """A Keras metric as ``values(labels, predictions, metric, **settings)``: (n, c) per-example
    values whose weighted mean (over examples and the c values) Keras reports, then ``finish``."""

    values: Callable[..., np.ndarray]
    settings: frozenset = frozenset()
    finish: Callable[[float], float] = float


KERAS_METRICS: Dict[str, _KerasMetric] = {
    "BinaryCrossentropy": _KerasMetric(
        _binary_crossentropy, frozenset({"from_logits", "label_smoothing"})
    ),
    "CategoricalCrossentropy": _KerasMetric(
        _categorical_crossentropy, frozenset({"from_logits", "label_smoothing"})
    ),
    "SparseCategoricalCrossentropy": _KerasMetric(
        _sparse_categorical_crossentropy, frozenset({"from_logits"})
    ),
    "BinaryAccuracy": _KerasMetric(_binary_accuracy, frozenset({"threshold"})),
    "Accuracy": _KerasMetric(_accuracy),
    "CategoricalAccuracy": _KerasMetric(_categorical_accuracy),
    "SparseCategoricalAccuracy": _KerasMetric(_sparse_categorical_accuracy),
    "MeanSquaredError": _KerasMetric(lambda y, p, metric: _mean_last((p - y) ** 2)),
    "MeanAbsoluteError": _KerasMetric(lambda y, p, metric: _mean_last(np.abs(p - y))),
    "MeanAbsolutePercentageError": _KerasMetric(
        lambda y, p, metric: 100.0 * _mean_last(np.abs(y - p) / np.maximum(np.abs(y), _EPSILON))
    ),
    "RootMeanSquaredError": _KerasMetric(lambda y, p, metric: (p - y) ** 2, finish=np.sqrt),
    "LogCoshError": _KerasMetric(_log_cosh),
}
# Settings that only pick the default computation.
_DEFAULT_SETTINGS = {"axis": -1, "ignore_class": None}


@dataclasses.dataclass
class _ConfiguredMetric:
    """A Keras metric with its settings applied: ``values(labels, predictions)`` as in ``_KerasMetric``."""

    name: str
    dtype: type
    values: Callable[[np.ndarray, np.ndarray], np.ndarray]
    finish: Callable[[float], float]


def configure(metric_config: Dict[str, Any]) -> _ConfiguredMetric:
    """A serialized Keras metric -> its per-example values, refusing settings we cannot honour."""
    class_name = metric_config["class_name"]
    settings = dict(metric_config["config"])
    name = settings.pop("name")
    dtype = settings.pop("dtype", "float32")
    if class_name not in KERAS_METRICS:
        raise UnsupportedMetricError(
            f"Keras metric class_name {class_name!r} (metric {name!r}) is not supported; "
            f"supported Keras metrics: {sorted(KERAS_METRICS)}"
        )
    if dtype not in _DTYPES:
        raise UnsupportedMetricError(
            f"Keras metric {name!r} ({class_name}) has dtype {dtype!r}; "
            f"supported: {sorted(_DTYPES)}"
        )
    for option, default in _DEFAULT_SETTINGS.items():
        if settings.pop(option, default) != default:
            raise UnsupportedMetricError(
                f"Keras metric {name!r} ({class_name}) setting {option!r} must be {default}"
            )
    spec = KERAS_METRICS[class_name]
    unknown = set(settings) - spec.settings
    if unknown:
        raise UnsupportedMetricError(
            f"Keras metric {name!r} ({class_name}) settings {sorted(unknown)} are not supported"
        )
    dtype = _DTYPES[dtype]
    # Keras casts float settings (threshold, label smoothing) to the metric's dtype, as its inputs.
    settings = {k: dtype(v) if isinstance(v, float) else v for k, v in settings.items()}
    return _ConfiguredMetric(
        name, dtype, functools.partial(spec.values, metric=name, **settings), spec.finish
    )


class KerasMetrics(BatchCombiner):
    """``tf_metric_wrapper._CompilableMetricsCombiner`` for the supported Keras metrics."""

    def __init__(self, combiner: tfma_internals.CompilableMetricsCombiner):
        losses = setting(combiner, "loss_configs")[0]
        if losses:
            raise UnsupportedMetricError(
                f"Keras losses {[loss['class_name'] for loss in losses]} are not supported (their value depends on "
                "how examples are batched); use the matching Keras metric class instead"
            )
        output_names = setting(combiner, "output_names")
        if output_names != [""]:
            raise UnsupportedMetricError(
                f"Keras metrics per model output {output_names} are not supported"
            )
        custom = [
            name
            for name, cls in tfma_internals.load_custom_objects(
                setting(combiner, "custom_objects")
            ).items()
            if getattr(tf_keras.metrics, name, None) is not cls
        ]
        if custom:
            raise UnsupportedMetricError(f"custom Keras metrics {custom} are not supported")
        if setting(combiner, "sub_key_in_config"):
            raise UnsupportedMetricError("Keras metrics configured with top_k are not supported")
        self._metrics: List[_ConfiguredMetric] = [
            configure(c) for c in setting(combiner, "metric_configs")[0]
        ]
        self._model_name = setting(combiner, "model_name")
        self._keys = [
            metric_types.MetricKey(
                name=m.name,
                model_name=self._model_name,
                sub_key=setting(combiner, "sub_key"),
                example_weighted=setting(combiner, "example_weighted"),
            )
            for m in self._metrics
        ]
        aggregation = setting(combiner, "aggregation_type")
        self._options = LabelPredictionOptions(
            metric=", ".join(m.name for m in self._metrics),
            sub_key=setting(combiner, "sub_key"),
            aggregation_type=aggregation,
            class_weights=setting(combiner, "class_weights"),
            example_weighted=setting(combiner, "example_weighted"),
            flatten=bool(aggregation and aggregation.micro_average),
        )

    def zeros(self) -> np.ndarray:
        """Per metric: total weighted value and total weight (Keras Mean's total and count)."""
        return np.zeros((1, 2 * len(self._metrics)))

    def elements(self, batch: Batch) -> Elements:
        labels, predictions, weights = model_inputs(batch, self._model_name)
        entries = to_label_prediction_example_weight(labels, predictions, weights, self._options)
        labels, predictions = entries.labels, entries.predictions
        if self._options.flatten:
            labels, predictions = labels[:, None], predictions[:, None]
        columns = []
        for metric in self._metrics:
            check_broadcastable(labels, predictions, metric.name)
            rounded = [x.astype(metric.dtype).astype(np.float64) for x in (labels, predictions)]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = metric.values(*rounded)
            columns += [values.sum(axis=1) * entries.weights, values.shape[1] * entries.weights]
        return Elements(
            entries.rows,
            np.zeros(len(entries.rows), dtype=np.int64),
            np.stack(columns, axis=-1),
            self.zeros().shape,
        )

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        result = {}
        for key, metric, (total, count) in zip(self._keys, self._metrics, acc[0].reshape(-1, 2)):
            mean = total / count if count else 0.0  # Keras divides with divide_no_nan
            result[key] = metric.dtype(metric.finish(mean))
        return result
