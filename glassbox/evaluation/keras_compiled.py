"""A tf_keras model's compiled loss and metrics (``options.include_default_metrics``, true unless
set false) on the vectorised engine: what TFMA's ``keras_util._KerasCompiledMetricsCombiner``
computes by running the loaded model's ``compiled_metrics`` and ``compiled_loss`` on its batches,
from ``keras_combiners``' per-example formulas.

As Keras does: 'accuracy' and 'crossentropy' resolve by the widths of the labels and predictions
(binary, sparse or categorical); ``metrics`` ignore example weights, ``weighted_metrics`` and the
loss use them; the loss metric, each batch's sum(weight * loss) / batch size averaged with the
batch sizes as weights, is sum(weight * loss) / count over all examples, whatever the batching.
A compiled loss or metric without a formula here sends the evaluation to TFMA's exact path.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.keras_metadata import LOSS_NAME, training_config
from glassbox.data.model_runs import model_name
from glassbox.data.types import Batch
from glassbox.evaluation.batch_combiner import BatchCombiner, Elements, model_inputs
from glassbox.evaluation.errors import UnsupportedMetricError
from glassbox.evaluation.keras_combiners import KERAS_METRICS, configure
from glassbox.evaluation.label_prediction import (
    LabelPredictionOptions,
    to_label_prediction_example_weight,
)

# Keras' string shorthands (metrics.get, losses.get) -> the metric class computing the same values.
_SHORTHANDS = {
    "binary_accuracy": "BinaryAccuracy",
    "categorical_accuracy": "CategoricalAccuracy",
    "sparse_categorical_accuracy": "SparseCategoricalAccuracy",
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    **dict.fromkeys(("mse", "MSE", "mean_squared_error"), "MeanSquaredError"),
    **dict.fromkeys(("mae", "MAE", "mean_absolute_error"), "MeanAbsoluteError"),
    **dict.fromkeys(
        ("mape", "MAPE", "mean_absolute_percentage_error"), "MeanAbsolutePercentageError"
    ),
    **dict.fromkeys(("logcosh", "log_cosh"), "LogCoshError"),
}
# Resolved by the shapes Keras first sees: (binary, sparse, categorical).
_BY_SHAPE = {
    **dict.fromkeys(
        ("accuracy", "acc"),
        ("BinaryAccuracy", "SparseCategoricalAccuracy", "CategoricalAccuracy"),
    ),
    **dict.fromkeys(
        ("crossentropy", "ce"),
        ("BinaryCrossentropy", "SparseCategoricalCrossentropy", "CategoricalCrossentropy"),
    ),
}
# Loss classes -> the metric class with the same per-example values.
_LOSS_CLASSES = {"LogCosh": "LogCoshError"}
# Reductions under which the loss metric is batch-independent.
_MEAN_REDUCTIONS = ("auto", "sum_over_batch_size")


@dataclasses.dataclass(frozen=True)
class CompiledMetric:
    """One compiled metric (or the loss) as TFMA keys it.

    Attributes:
      name: TFMA's metric name ('loss', or the name Keras gives the metric).
      spec: a Keras shorthand resolved by shape ('accuracy'), or a serialized metric config
        (JSON of {"class_name", "config"}) that ``keras_combiners.configure`` takes.
      weighted: whether example weights apply.
      loss: the loss metric (a mean over examples, not over weights).
    """

    name: str
    spec: str
    weighted: bool
    loss: bool = False


def _class_config(class_name: str, name: str, settings: Mapping[str, Any] = ()) -> str:
    return json.dumps({"class_name": class_name, "config": {"name": name, **dict(settings)}})


def _metric(entry: Any, weighted: bool, where: str) -> CompiledMetric:
    """A compile() metric entry (a string or a serialized metric) -> its CompiledMetric."""
    if isinstance(entry, str):
        if entry.lower() in _BY_SHAPE:
            return CompiledMetric(entry, entry.lower(), weighted)
        class_name = _SHORTHANDS.get(entry, entry)
        if class_name not in KERAS_METRICS:
            raise UnsupportedMetricError(f"{where}: compiled metric {entry!r} has no formula here")
        # A shorthand keeps its string as the name; a class name gets the class's default name.
        name = entry if entry in _SHORTHANDS else _snake_case(class_name)
        return CompiledMetric(name, _class_config(class_name, name), weighted)
    if isinstance(entry, dict) and "class_name" in entry:
        config = dict(entry.get("config") or {})
        class_name = entry["class_name"]
        if class_name == "MeanMetricWrapper":  # a function Keras wrapped (strings, once built)
            function = config.pop("fn", "")
            class_name = _SHORTHANDS.get(function, function)
            entry = {"class_name": class_name, "config": config}
        if class_name not in KERAS_METRICS:
            raise UnsupportedMetricError(
                f"{where}: compiled metric {config.get('name', class_name)!r} ({class_name}) has "
                "no formula here"
            )
        return CompiledMetric(config["name"], json.dumps(entry), weighted)
    raise UnsupportedMetricError(f"{where}: compiled metrics per model output are not covered")


def _snake_case(class_name: str) -> str:
    """Keras' default metric name of a class (e.g. SparseCategoricalAccuracy ->
    sparse_categorical_accuracy)."""
    out = []
    for i, char in enumerate(class_name):
        if char.isupper() and i and not class_name[i - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def _loss(entry: Any, where: str) -> CompiledMetric:
    """compile()'s loss -> the 'loss' CompiledMetric, if its value does not depend on batching."""
    if isinstance(entry, str):
        class_name = _SHORTHANDS.get(entry, entry)
        settings: Dict[str, Any] = {}
    elif isinstance(entry, dict) and "class_name" in entry:
        settings = dict(entry.get("config") or {})
        class_name = _LOSS_CLASSES.get(entry["class_name"], entry["class_name"])
        reduction = settings.pop("reduction", "auto")
        settings.pop("name", None)
        settings.pop("fn", None)  # a LossFunctionWrapper's function: the class's own
        if reduction not in _MEAN_REDUCTIONS:
            raise UnsupportedMetricError(
                f"{where}: the compiled loss's reduction {reduction!r} makes its value depend on "
                "how examples are batched"
            )
    else:
        raise UnsupportedMetricError(f"{where}: compiled losses per model output are not covered")
    if class_name not in KERAS_METRICS:
        raise UnsupportedMetricError(f"{where}: compiled loss {entry!r} has no formula here")
    return CompiledMetric(LOSS_NAME, _class_config(class_name, LOSS_NAME, settings), True, True)


def compiled_metrics(training: Mapping[str, Any], where: str) -> Tuple[CompiledMetric, ...]:
    """The compiled loss and metrics of a Keras training config, as TFMA names them.

    Raises:
      UnsupportedMetricError: one of them has no formula here (where names the model).
    """
    if training.get("loss_weights") is not None:
        raise UnsupportedMetricError(f"{where}: compiled loss_weights are not covered")
    found = [_loss(training["loss"], where)] if training.get("loss") else []
    for field, weighted in (("metrics", False), ("weighted_metrics", True)):
        found += [
            _metric(entry, weighted, where) for entry in _single_output(training, field, where)
        ]
    names = [metric.name for metric in found]
    if len(set(names)) != len(names):
        raise UnsupportedMetricError(f"{where}: compiled metric names {names} repeat")
    return tuple(found)


def _single_output(training: Mapping[str, Any], field: str, where: str) -> list:
    """compile()'s metrics as serialized for a single-output model: a list, or once built a list
    holding one list (per output); per-output dicts or lists are refused."""
    entries = training.get(field) or []
    if isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], list):
        entries = entries[0]
    if not isinstance(entries, list) or any(isinstance(e, list) for e in entries):
        raise UnsupportedMetricError(
            f"{where}: compiled {field} per model output are not covered ({entries!r})"
        )
    return entries


def compiled_metrics_by_model(
    eval_config: config_pb2.EvalConfig, model_dirs: Mapping[str, Optional[str]]
) -> Dict[str, Tuple[CompiledMetric, ...]]:
    """Per model (named as TFMA keys its metrics) the compiled loss and metrics TFMA adds, unless
    options.include_default_metrics is false; models without Keras metadata add none.

    Raises:
      UnsupportedMetricError: a compiled loss or metric has no formula here.
    """
    options = eval_config.options
    if options.HasField("include_default_metrics") and not options.include_default_metrics.value:
        return {}
    found = {}
    for spec in eval_config.model_specs:
        model_dir = model_dirs.get(spec.name)
        training = training_config(model_dir) if model_dir else None
        if training:
            found[model_name(spec, eval_config)] = compiled_metrics(
                training, f"model {spec.name or 'candidate'!r} ({model_dir})"
            )
    return found


class KerasCompiledMetrics(BatchCombiner):
    """One model's compiled loss and metrics, as TFMA's ``_KerasCompiledMetricsCombiner``."""

    def __init__(self, model: str, metrics: Tuple[CompiledMetric, ...]):
        self._model_name = model
        self._metrics = metrics
        self.keys = [
            metric_types.MetricKey(name=m.name, model_name=model, example_weighted=None)
            for m in metrics
        ]
        # RootMeanSquaredError's square root; a metric resolved by shape needs none.
        self._finish = [
            float if m.spec in _BY_SHAPE else configure(json.loads(m.spec)).finish for m in metrics
        ]
        self._options = LabelPredictionOptions(
            metric=", ".join(m.name for m in metrics), example_weighted=True, flatten=False
        )

    def zeros(self) -> np.ndarray:
        """Per metric: total value and total count (Keras Mean's total and count)."""
        return np.zeros((1, 2 * len(self._metrics)))

    def _configured(self, metric: CompiledMetric, labels: np.ndarray, predictions: np.ndarray):
        if metric.spec in _BY_SHAPE:
            binary, sparse, categorical = _BY_SHAPE[metric.spec]
            width = predictions.shape[1]
            class_name = binary if width == 1 else sparse if labels.shape[1] == 1 else categorical
            return configure(json.loads(_class_config(class_name, metric.name)))
        return configure(json.loads(metric.spec))

    def elements(self, batch: Batch) -> Elements:
        labels, predictions, weights = model_inputs(batch, self._model_name)
        entries = to_label_prediction_example_weight(labels, predictions, weights, self._options)
        columns = []
        for metric in self._metrics:
            configured = self._configured(metric, entries.labels, entries.predictions)
            rounded = [
                x.astype(configured.dtype).astype(np.float64)
                for x in (entries.labels, entries.predictions)
            ]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = configured.values(*rounded)
            weight = entries.weights if metric.weighted else np.ones(len(entries.rows))
            if metric.loss:
                columns += [values.mean(axis=1) * weight, np.ones(len(entries.rows))]
            else:
                columns += [values.sum(axis=1) * weight, values.shape[1] * weight]
        return Elements(
            entries.rows,
            np.zeros(len(entries.rows), dtype=np.int64),
            np.stack(columns, axis=-1),
            self.zeros().shape,
        )

    def extract_output(self, acc: np.ndarray) -> Dict[metric_types.MetricKey, Any]:
        return {
            key: np.float32(finish(total / count if count else 0.0))  # Keras' divide_no_nan
            for key, finish, (total, count) in zip(self.keys, self._finish, acc[0].reshape(-1, 2))
        }
