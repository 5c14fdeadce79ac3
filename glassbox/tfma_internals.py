"""TFMA 0.52's private API that glassbox relies on, behind named accessors: the only module that
reaches into it.

glassbox runs TFMA's metric computations with its own per-batch combiners in place of TFMA's
primitive ones, so it must name the combiner classes TFMA keeps private, read their constructor
settings, build two of TFMA's private accumulators and call a few of its evaluator's helpers.
pyproject pins TFMA below 0.53; tests/test_tfma_internals.py checks every accessor against TFMA
and that no other module reaches a private TFMA name, so a TFMA upgrade fails there, by name.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping

from tensorflow_model_analysis.contrib.aggregates import (
    binary_confusion_matrices as _bcm_computations,
)
from tensorflow_model_analysis.evaluators import (
    metrics_plots_and_validations_evaluator as _evaluator,
)
from tensorflow_model_analysis.evaluators import poisson_bootstrap as _poisson_bootstrap
from tensorflow_model_analysis.metrics import (
    aggregation as _aggregation,
)
from tensorflow_model_analysis.metrics import (
    binary_confusion_matrices as _binary_confusion_matrices,
)
from tensorflow_model_analysis.metrics import (
    calibration as _calibration,
)
from tensorflow_model_analysis.metrics import (
    calibration_histogram as _calibration_histogram,
)
from tensorflow_model_analysis.metrics import (
    cross_entropy_metrics as _cross_entropy,
)
from tensorflow_model_analysis.metrics import (
    example_count as _example_count,
)
from tensorflow_model_analysis.metrics import (
    mean_regression_error as _mean_regression_error,
)
from tensorflow_model_analysis.metrics import (
    metric_types,
)
from tensorflow_model_analysis.metrics import (
    multi_class_confusion_matrix_metrics as _multi_class,
)
from tensorflow_model_analysis.metrics import (
    tf_metric_wrapper as _tf_metric_wrapper,
)
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.writers import eval_config_writer as _eval_config_writer

# The primitive combiners glassbox replaces (glassbox.evaluation.combiners names each counterpart).
CalibrationHistogramCombiner = _calibration_histogram._CalibrationHistogramCombiner
BinaryConfusionMatrixCombiner = _binary_confusion_matrices._BinaryConfusionMatrixCombiner
WeightedLabelsPredictionsExamplesCombiner = _calibration._WeightedLabelsPredictionsExamplesCombiner
ExampleCountCombiner = _example_count._ExampleCountCombiner
MeanRegressionErrorCombiner = _mean_regression_error._MeanRegressionErrorCombiner
MeanAbsoluteErrorCombiner = _mean_regression_error._MeanAbsoluteErrorCombiner
MeanSquaredErrorCombiner = _mean_regression_error._MeanSquaredErrorCombiner
MeanAbsolutePercentageErrorCombiner = _mean_regression_error._MeanAbsolutePercentageErrorCombiner
MeanSquaredLogarithmicErrorCombiner = _mean_regression_error._MeanSquaredLogarithmicErrorCombiner
CrossEntropyCombiner = _cross_entropy._CrossEntropyCombiner
BinaryCrossEntropyCombiner = _cross_entropy._BinaryCrossEntropyCombiner
CategoricalCrossEntropyCombiner = _cross_entropy._CategoricalCrossEntropyCombiner
MultiClassConfusionMatrixCombiner = _multi_class._MultiClassConfusionMatrixCombiner
CompilableMetricsCombiner = _tf_metric_wrapper._CompilableMetricsCombiner
ClassWeightsFromLabelsCombiner = _aggregation._ClassWeightsFromLabelsCombiner

# What glassbox builds as TFMA's own code would.
ThresholdEntry = _bcm_computations._ThresholdEntry  # a binary confusion matrix's entry
WeightedLabelsPredictionsExamples = _calibration._WeightedLabelsPredictionsExamples
BootstrapSampleCombineFn = _poisson_bootstrap._BootstrapSampleCombineFn
FULL_SAMPLE_ID = _poisson_bootstrap._FULL_SAMPLE_ID  # the point estimate's sample id
CONFUSION_MATRIX_EPSILON = _binary_confusion_matrices._EPSILON  # added below the first threshold


def setting(combiner: Any, name: str) -> Any:
    """A TFMA combiner's (or computation's) constructor setting, e.g. ``setting(c, 'key')``.

    TFMA keeps each in the attribute ``'_' + name``.
    """
    return getattr(combiner, "_" + name)


def separate_computations(computations: metric_types.MetricComputations) -> Any:
    """TFMA's evaluator's split of computations: non-derived, derived, CI-derived, cross-slice."""
    return _evaluator._filter_and_separate_computations(computations)


def confidence_interval_params(eval_config: config_pb2.EvalConfig, metrics_specs: list) -> Any:
    """TFMA's evaluator's confidence interval settings (bootstrap or jackknife samples, and the
    metric keys that skip intervals) for an EvalConfig."""
    return _evaluator._get_confidence_interval_params(eval_config, metrics_specs)


def is_private_metric(key: metric_types.MetricKey) -> bool:
    """Whether TFMA's evaluator leaves the metric out of its output (a name starting with '_')."""
    return _evaluator._is_private_metrics(key)


def is_diffable(value: Any) -> bool:
    """Whether TFMA's evaluator computes a baseline diff of the value."""
    return _evaluator._is_metric_diffable(value)


def load_custom_objects(custom_objects: Any) -> Dict[str, type]:
    """The Keras classes a CompilableMetricsCombiner's custom objects name, loaded as TFMA does."""
    return _tf_metric_wrapper._load_custom_objects(custom_objects)


def serialize_eval_run(
    eval_config: config_pb2.EvalConfig,
    data_location: str,
    file_format: str,
    model_locations: Mapping[str, str],
) -> str:
    """eval_config.json's content, as TFMA's eval config writer serialises it."""
    return _eval_config_writer._serialize_eval_run(
        eval_config, data_location, file_format, dict(model_locations)
    )
