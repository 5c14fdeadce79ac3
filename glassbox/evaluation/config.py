"""Reading and checking `tfma.EvalConfig`s.

Users hand us the EvalConfig they already wrote for TFMA. ``check_eval_config`` refuses what is
wrong in any case, naming the field; ``check_fast_path`` names what the vectorised engine does not
cover (e.g. ``slicing_specs[0].slice_keys_sql``), which then runs on TFMA's exact path
(``exact_path``), never ignored. Metric-level checks (class names, binarization, ...) happen when
the metrics plan is built.
"""

from __future__ import annotations

from google.protobuf import message
from tensorflow_model_analysis.proto import config_pb2

from glassbox import config_files
from glassbox.errors import ConfigError
from glassbox.evaluation.errors import UnsupportedMetricError
from glassbox.evaluation.thresholds import check_thresholds

# Fields the vectorised engine honours, per message type. Anything else that is set goes to TFMA.
_SUPPORTED_FIELDS = {
    "EvalConfig": {
        "model_specs",
        "slicing_specs",
        "cross_slicing_specs",
        "metrics_specs",
        "options",
    },
    "ModelSpec": {
        "name",
        "model_type",
        "signature_name",
        "label_key",
        "prediction_key",
        "example_weight_key",
        "is_baseline",
        "inference_batch_size",
        "preprocessing_function_names",
    },
    "SlicingSpec": {"feature_keys", "feature_values"},
    "CrossSlicingSpec": {"baseline_spec", "slicing_specs"},
    # Thresholds are read by the Validator; they do not change what the Evaluator computes.
    "MetricsSpec": {
        "metrics",
        "model_names",
        "binarize",
        "aggregate",
        "example_weights",
        "thresholds",
        "per_slice_thresholds",
        "cross_slice_thresholds",
    },
    "MetricConfig": {
        "class_name",
        "module",
        "config",
        "threshold",
        "per_slice_thresholds",
        "cross_slice_thresholds",
    },
    "Options": {
        "include_default_metrics",
        "compute_confidence_intervals",
        "confidence_intervals",
        "min_slice_size",
        "disabled_outputs",
    },
    "ConfidenceIntervalOptions": {"method"},
    "RepeatedStringValue": {"values"},  # disabled_outputs
}
# Submessages whose content is checked elsewhere (metric level) or is free-form.
_OPAQUE = {
    "BinarizationOptions",
    "AggregationOptions",
    "ExampleWeightOptions",
    "MetricThreshold",
    "PerSliceMetricThreshold",
    "CrossSliceMetricThreshold",
    "GenericValueThreshold",
    "GenericChangeThreshold",
    "BoolValue",
    "Int32Value",
    "DoubleValue",
    "StringValue",
}
# SavedModels are called through their serving signature, whatever produced them.
_SUPPORTED_MODEL_TYPES = {"", "tf_generic", "tf_keras"}
_BOOTSTRAP = config_pb2.ConfidenceIntervalOptions.POISSON_BOOTSTRAP
_UNKNOWN_CI_METHOD = config_pb2.ConfidenceIntervalOptions.UNKNOWN_CONFIDENCE_INTERVAL_METHOD
_WHAT = "eval config"


def load_eval_config(path: str) -> config_pb2.EvalConfig:
    """Reads an EvalConfig from a text-proto or JSON file."""
    return config_files.load_config(path, config_pb2.EvalConfig, _WHAT, ConfigError)


def parse_eval_config(content: str, source: str = "<string>") -> config_pb2.EvalConfig:
    """Parses an EvalConfig given as JSON (if it starts with '{') or text proto."""
    return config_files.parse_config(content, config_pb2.EvalConfig, _WHAT, ConfigError, source)


def _check_fields(msg: message.Message, path: str = "") -> None:
    name = msg.DESCRIPTOR.name
    if name in _OPAQUE:
        return
    supported = _SUPPORTED_FIELDS[name]
    for field, value in msg.ListFields():
        field_path = f"{path}.{field.name}" if path else field.name
        if field.name not in supported:
            raise UnsupportedMetricError(
                f"EvalConfig field {field_path!r} is not covered by glassbox's vectorised engine"
            )
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            for i, sub in enumerate(value):
                _check_fields(sub, f"{field_path}[{i}]")
        else:
            _check_fields(value, field_path)


def check_eval_config(eval_config: config_pb2.EvalConfig) -> None:
    """Refuses what is wrong whichever engine computes it, naming the field."""
    if not eval_config.model_specs:
        raise ConfigError(
            "EvalConfig field 'model_specs' is empty: at least one ModelSpec is required"
        )
    for i, spec in enumerate(eval_config.model_specs):
        if spec.inference_batch_size < 0:
            raise ConfigError(
                f"EvalConfig field 'model_specs[{i}].inference_batch_size' is "
                f"{spec.inference_batch_size}; it must be positive (or unset for the default)"
            )
    for i, spec in enumerate(eval_config.slicing_specs):
        duplicate = set(spec.feature_keys) & set(spec.feature_values)
        if duplicate:
            raise ConfigError(
                f"EvalConfig field 'slicing_specs[{i}]' names {sorted(duplicate)} in both "
                "feature_keys and feature_values"
            )


def check_fast_path(eval_config: config_pb2.EvalConfig) -> None:
    """Refuses, naming the field, what the vectorised engine does not cover (TFMA's exact path
    computes it instead).

    Raises:
      UnsupportedMetricError: the first field or setting not covered.
    """
    _check_fields(eval_config)
    for i, spec in enumerate(eval_config.model_specs):
        if spec.model_type not in _SUPPORTED_MODEL_TYPES:
            raise UnsupportedMetricError(
                f"EvalConfig field 'model_specs[{i}].model_type' is {spec.model_type!r}; the "
                "vectorised engine calls SavedModels through their signature (model_type one of "
                f"{sorted(_SUPPORTED_MODEL_TYPES)})"
            )
        if not spec.label_key:
            raise UnsupportedMetricError(
                f"EvalConfig field 'model_specs[{i}].label_key' is empty; the vectorised engine "
                "needs a label"
            )
    options = eval_config.options
    method = options.confidence_intervals.method
    if method not in (_UNKNOWN_CI_METHOD, _BOOTSTRAP):
        raise UnsupportedMetricError(
            "EvalConfig field 'options.confidence_intervals.method' is "
            f"{config_pb2.ConfidenceIntervalOptions.ConfidenceIntervalMethod.Name(method)}; "
            "the vectorised engine computes confidence intervals by Poisson bootstrap"
        )


def check_written_eval_config(eval_config: config_pb2.EvalConfig) -> None:
    """Checks a config as the user wrote it (before TFMA's defaults): its fields and, whether or not
    there will be a baseline, every threshold (``thresholds.check_thresholds``)."""
    check_eval_config(eval_config)
    check_thresholds(eval_config)


def prepare_eval_config(
    eval_config: config_pb2.EvalConfig, has_baseline: bool
) -> config_pb2.EvalConfig:
    """Checks the config and applies TFMA's defaults, as TFMA records them in eval_config.json.

    With a baseline, TFMA names the models 'candidate' and 'baseline'; confidence intervals, when
    asked for without a method, are computed by Poisson bootstrap.
    """
    from tensorflow_model_analysis.utils import config_util  # TensorFlow: only here

    check_written_eval_config(eval_config)
    try:
        prepared = config_util.update_eval_config_with_defaults(
            eval_config, has_baseline=has_baseline, rubber_stamp=not has_baseline
        )
    except (RuntimeError, ValueError) as e:
        raise ConfigError(f"invalid EvalConfig: {e}") from e
    written = eval_config.options.confidence_intervals.method
    if prepared.options.compute_confidence_intervals.value and written == _UNKNOWN_CI_METHOD:
        prepared.options.confidence_intervals.method = _BOOTSTRAP  # TFMA's default: JACKKNIFE
    return prepared


def baseline_name(eval_config: config_pb2.EvalConfig) -> str | None:
    for spec in eval_config.model_specs:
        if spec.is_baseline:
            return spec.name
    return None
