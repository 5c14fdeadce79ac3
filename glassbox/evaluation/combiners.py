"""Which batch combiner replaces which TFMA primitive combiner.

TFMA's ``metric_specs.to_computations`` turns an EvalConfig into primitive ``MetricComputation``s
(per-example Beam CombineFns) and derived computations. ``batch_combiner_for`` swaps each
primitive for its vectorised counterpart and refuses, naming it, any primitive or preprocessor
we do not reproduce exactly.
"""

from __future__ import annotations

from typing import Callable, Dict

from tensorflow_model_analysis import constants
from tensorflow_model_analysis.metrics import (
    metric_types,
)
from tensorflow_model_analysis.proto import config_pb2

from glassbox import tfma_internals
from glassbox.evaluation import keras_combiners, tfma_combiners
from glassbox.evaluation.batch_combiner import BatchCombiner
from glassbox.evaluation.errors import UnsupportedMetricError

__all__ = ["BatchCombiner", "batch_combiner_for"]

_COUNTERPARTS: Dict[type, Callable[..., BatchCombiner]] = {
    tfma_internals.CalibrationHistogramCombiner: tfma_combiners.CalibrationHistogram,
    tfma_internals.BinaryConfusionMatrixCombiner: tfma_combiners.BinaryConfusionMatrices,
    tfma_internals.WeightedLabelsPredictionsExamplesCombiner: tfma_combiners.WeightedLabelsPredictionsExamples,
    tfma_internals.ExampleCountCombiner: tfma_combiners.ExampleCount,
    tfma_internals.MeanAbsoluteErrorCombiner: tfma_combiners.MeanRegressionError,
    tfma_internals.MeanSquaredErrorCombiner: tfma_combiners.MeanRegressionError,
    tfma_internals.MeanAbsolutePercentageErrorCombiner: tfma_combiners.MeanRegressionError,
    tfma_internals.MeanSquaredLogarithmicErrorCombiner: tfma_combiners.MeanRegressionError,
    tfma_internals.BinaryCrossEntropyCombiner: tfma_combiners.CrossEntropy,
    tfma_internals.CategoricalCrossEntropyCombiner: tfma_combiners.CrossEntropy,
    tfma_internals.MultiClassConfusionMatrixCombiner: tfma_combiners.MultiClassConfusionMatrices,
    tfma_internals.CompilableMetricsCombiner: keras_combiners.KerasMetrics,
    tfma_internals.ClassWeightsFromLabelsCombiner: tfma_combiners.ClassWeightsFromLabels,
}
# The inputs our batches carry: a StandardMetricInputsPreprocessor may select among these only.
_BATCH_INPUTS = {constants.LABELS_KEY, constants.PREDICTIONS_KEY, constants.EXAMPLE_WEIGHTS_KEY}


def _describe(computation: metric_types.MetricComputation) -> str:
    return (
        f"{type(computation.combiner).__name__} (metrics {[key.name for key in computation.keys]})"
    )


def _check_preprocessors(computation: metric_types.MetricComputation) -> None:
    for preprocessor in computation.preprocessors:
        if (
            type(preprocessor) is not metric_types.StandardMetricInputsPreprocessor
            or not set(preprocessor.include_filter) <= _BATCH_INPUTS
        ):
            raise UnsupportedMetricError(
                f"{_describe(computation)} uses preprocessor {preprocessor.name!r}, which needs inputs other than "
                "labels, predictions and example weights"
            )


def batch_combiner_for(
    computation: metric_types.MetricComputation, eval_config: config_pb2.EvalConfig
) -> BatchCombiner:
    """The batch combiner computing what ``computation``'s TFMA combiner computes.

    ``eval_config`` is accepted for symmetry with TFMA's computations; everything our combiners
    need is read from the TFMA combiner, which TFMA built from that config.
    """
    del eval_config
    counterpart = _COUNTERPARTS.get(type(computation.combiner))
    if counterpart is None:
        raise UnsupportedMetricError(f"{_describe(computation)} has no glassbox counterpart")
    _check_preprocessors(computation)
    return counterpart(computation.combiner)
