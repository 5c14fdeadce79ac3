"""TFMA 0.52's `metric_specs.metric_thresholds_from_metrics_specs` without TensorFlow: each
threshold of an EvalConfig by the metric key it applies to, in TFMA's order.

TFMA builds every metric of the config to learn its name (the keys' name), which imports
TensorFlow, Keras and Beam (seconds). For the metric classes of `tfma_metric_table` the name
follows from the config, as their constructors make it: the config's "name", else the class's
default (for Keras' metrics, TFMA's snake case of the class name). The config's arguments must be
the constructor's (else TFMA raises); their values are not checked, as those constructors do not
check them (a Keras dtype must be a float's). Any other metric (a class of the user's module, or
of the table but with other versions of TFMA or tf_keras installed) is built by TFMA, which then
reads all the config's thresholds.
"""

from __future__ import annotations

import collections
import functools
import importlib.metadata
import json
import re
from typing import Dict, List, Optional, Tuple, Union

from tensorflow_model_analysis.proto import config_pb2

from glassbox.tfma_keys import AggregationType, MetricKey, SubKey
from glassbox.validation import slices, tfma_metric_table

SlicingSpec = Optional[Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]]
TfmaThreshold = Union[config_pb2.GenericValueThreshold, config_pb2.GenericChangeThreshold]
Thresholds = Dict[MetricKey, List[Tuple[SlicingSpec, TfmaThreshold]]]
_TFMA_PACKAGE = "tensorflow-model-analysis"
# The dtypes a Keras metric of the table is built with (others are left to TFMA, which checks them).
_KERAS_DTYPES = (None, "float16", "bfloat16", "float32", "float64")


class _LeftToTfma(Exception):
    """A metric whose name the table cannot vouch for."""


def metric_thresholds(
    metrics_specs: List[config_pb2.MetricsSpec], eval_config: config_pb2.EvalConfig
) -> Thresholds:
    """What TFMA's metric_thresholds_from_metrics_specs returns (equal keys, the same lists).

    Raises:
      What TFMA raises on a config it cannot read (ValueError, TypeError, ...).
    """
    try:
        names = [[_metric_name(metric) for metric in spec.metrics] for spec in metrics_specs]
    except _LeftToTfma:
        return _tfma_thresholds(metrics_specs, eval_config)
    result: Thresholds = collections.defaultdict(list)
    seen = set()

    def add(key: MetricKey, spec: SlicingSpec, threshold: config_pb2.MetricThreshold) -> None:
        for field in ("value_threshold", "change_threshold"):
            if threshold.HasField(field):
                keyed = key.make_diff_key() if field == "change_threshold" else key
                value = getattr(threshold, field)
                identity = (
                    keyed,
                    slices.identity(spec) if spec else None,
                    value.SerializeToString(),
                )
                if identity not in seen:
                    seen.add(identity)
                    result[keyed].append((spec, value))

    for spec in metrics_specs:  # thresholds by metric name
        for aggregation_type, sub_keys in _sub_keys(spec).items():
            for key in _keys(spec, aggregation_type, sub_keys, [None], spec.thresholds):
                add(key, None, spec.thresholds[key.name])
            for key in _keys(spec, aggregation_type, sub_keys, [None], spec.per_slice_thresholds):
                for per_slice in spec.per_slice_thresholds[key.name].thresholds:
                    for slicing_spec in per_slice.slicing_specs:
                        add(key, slicing_spec, per_slice.threshold)
            for key in _keys(spec, aggregation_type, sub_keys, [None], spec.cross_slice_thresholds):
                for cross in spec.cross_slice_thresholds[key.name].thresholds:
                    for cross_slicing_spec in cross.cross_slicing_specs:
                        add(key, cross_slicing_spec, cross.threshold)
    for spec, spec_names in zip(metrics_specs, names):  # thresholds of MetricConfigs
        weights = _example_weight_options(eval_config, spec)
        for aggregation_type, sub_keys in _sub_keys(spec).items():
            for metric, name in zip(spec.metrics, spec_names):
                for key in _keys(spec, aggregation_type, sub_keys, weights, [name]):
                    if metric.HasField("threshold"):
                        add(key, None, metric.threshold)
                    for per_slice in metric.per_slice_thresholds:
                        for slicing_spec in per_slice.slicing_specs:
                            add(key, slicing_spec, per_slice.threshold)
                    for cross in metric.cross_slice_thresholds:
                        for cross_slicing_spec in cross.cross_slicing_specs:
                            add(key, cross_slicing_spec, cross.threshold)
    return result


def _tfma_thresholds(
    metrics_specs: List[config_pb2.MetricsSpec], eval_config: config_pb2.EvalConfig
) -> Thresholds:
    from tensorflow_model_analysis.metrics import metric_specs  # TensorFlow: only here

    from glassbox.evaluation import fairness  # noqa: F401 (registers FairnessIndicators with TFMA)

    return metric_specs.metric_thresholds_from_metrics_specs(metrics_specs, eval_config=eval_config)


def _metric_name(metric: config_pb2.MetricConfig) -> Optional[str]:
    """The name TFMA's metric_specs.metric_instance gives the metric; _LeftToTfma if unsure."""
    try:
        config = _config(metric.config)
    except ValueError:
        raise _LeftToTfma from None
    if "name" in config and not (isinstance(config["name"], str) and config["name"]):
        raise _LeftToTfma  # Keras makes a name of its own
    if not _installed(_TFMA_PACKAGE, tfma_metric_table.TFMA_VERSION):
        raise _LeftToTfma
    if metric.class_name in tfma_metric_table.TFMA:  # TFMA's class, whatever the module
        default, parameters, any_keyword = tfma_metric_table.TFMA[metric.class_name]
        _check_arguments(config, parameters, any_keyword)
        return config.get("name", default)
    module, parameters = tfma_metric_table.KERAS.get(metric.class_name, (None, ""))
    if (
        module is not None
        and metric.module in ("", "tf_keras.metrics", module)
        and config.get("dtype") in _KERAS_DTYPES
        and _installed("tf-keras", tfma_metric_table.TF_KERAS_VERSION)
    ):
        _check_arguments(config, parameters, False)
        return config.get("name") or _snake_case(metric.class_name)
    raise _LeftToTfma


def _check_arguments(config: dict, parameters: str, any_keyword: bool) -> None:
    """_LeftToTfma unless the constructor takes the config's arguments (else TFMA raises)."""
    names = {p.rstrip("!") for p in parameters.split()}
    required = {p[:-1] for p in parameters.split() if p.endswith("!")}
    if not required <= set(config) or not (any_keyword or set(config) <= names):
        raise _LeftToTfma


@functools.lru_cache(maxsize=None)
def _installed(package: str, version: str) -> bool:
    """Whether the package's installed version is the table's (its metrics may differ else)."""
    try:
        return importlib.metadata.version(package) == version
    except importlib.metadata.PackageNotFoundError:
        return False


def _config(text: str) -> dict:
    """TFMA's metric_specs._metric_config: a MetricConfig's config as JSON, braces optional."""
    return json.loads("{" + text + "}" if text and text[0] != "{" else text or "{}")


def _snake_case(class_name: str) -> str:
    """TFMA's metric_specs._maybe_add_name_to_config: the default name of a Keras metric."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def _sub_keys(spec: config_pb2.MetricsSpec) -> Dict[Optional[AggregationType], List]:
    """TFMA's metric_specs._create_sub_keys."""
    result = {}
    if spec.HasField("binarize"):
        sub_keys = [SubKey(class_id=v) for v in spec.binarize.class_ids.values]
        sub_keys += [SubKey(k=v) for v in spec.binarize.k_list.values]
        sub_keys += [SubKey(top_k=v) for v in spec.binarize.top_k_list.values]
        if sub_keys:
            result[None] = sub_keys
    if spec.HasField("aggregate"):
        sub_keys = [SubKey(top_k=v) for v in spec.aggregate.top_k_list.values] or [None]
        result[_aggregation_type(spec.aggregate)] = sub_keys
    return result or {None: [None]}


def _aggregation_type(aggregate: config_pb2.AggregationOptions) -> Optional[AggregationType]:
    for field in AggregationType._fields:
        if getattr(aggregate, field):
            return AggregationType(**{field: True})
    return None


def _example_weight_options(
    eval_config: config_pb2.EvalConfig, spec: config_pb2.MetricsSpec
) -> List[bool]:
    """TFMA's metric_specs._example_weight_options."""
    if spec.HasField("example_weights"):
        return [True] * spec.example_weights.weighted + [False] * spec.example_weights.unweighted

    def weighted(model_spec: Optional[config_pb2.ModelSpec]) -> bool:
        if model_spec is None:
            return False
        return bool(model_spec.example_weight_key) or any(
            name in model_spec.example_weight_keys for name in spec.output_names
        )

    if not spec.model_names:
        return [any(weighted(m) for m in eval_config.model_specs)]
    return [any(weighted(_model_spec(eval_config, name)) for name in spec.model_names)]


def _model_spec(eval_config: config_pb2.EvalConfig, name: str) -> Optional[config_pb2.ModelSpec]:
    """TFMA's model_util.get_model_spec."""
    if len(eval_config.model_specs) == 1 and not name:
        return eval_config.model_specs[0]
    return next((spec for spec in eval_config.model_specs if spec.name == name), None)


def _keys(
    spec: config_pb2.MetricsSpec,
    aggregation_type: Optional[AggregationType],
    sub_keys: List[Optional[SubKey]],
    example_weights: List[Optional[bool]],
    names,
):
    """TFMA's metric_specs._keys_for_metric, for each name in turn (a map's keys in its order)."""
    for name in names:
        for model_name in spec.model_names or [""]:
            for output_name in spec.output_names or [""]:
                for sub_key in sub_keys:
                    for example_weighted in example_weights:
                        yield MetricKey(
                            name=name,
                            model_name=model_name,
                            output_name=output_name,
                            sub_key=sub_key,
                            aggregation_type=aggregation_type,
                            example_weighted=example_weighted,
                        )
