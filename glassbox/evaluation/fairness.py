"""``FairnessIndicators``: the fairness metrics TFMA 0.52 no longer ships, under their old names.

TFMA up to 0.46 (``tensorflow_model_analysis.addons.fairness``) shipped a metric class
``FairnessIndicators``; the Fairness Indicators tutorials and many pipelines still configure it as
``metrics { class_name: "FairnessIndicators" config: '{"thresholds": [0.5]}' }``. Importing this
module registers the class with TFMA's metric registry, so those configs resolve unchanged.

For every threshold t it reports, from TFMA's binary confusion matrices (so binarization, top-k,
aggregation, example weights, models and outputs apply as to TFMA's own metrics), under
``fairness_indicators_metrics/<rate>@<t>``: false_positive_rate, false_negative_rate,
true_positive_rate, true_negative_rate, positive_rate, negative_rate, false_discovery_rate,
false_omission_rate, precision and recall (the last two added in TFMA 0.46). A rate whose
denominator is zero is NaN. Thresholds are printed with as many decimals as the longest one
configured has (at least one), e.g. ``@0.5`` for [0.1, 0.5] and ``@0.5000`` next to 0.4125.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
from tensorflow_model_analysis.metrics import binary_confusion_matrices, metric_types, metric_util
from tensorflow_model_analysis.proto import config_pb2

NAME = "fairness_indicators_metrics"
RATES = (
    "false_positive_rate",
    "false_negative_rate",
    "true_positive_rate",
    "true_negative_rate",
    "positive_rate",
    "negative_rate",
    "false_discovery_rate",
    "false_omission_rate",
    "precision",
    "recall",
)
DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class FairnessIndicators(metric_types.Metric):
    """Confusion-matrix rates at each threshold (see the module docstring)."""

    def __init__(self, thresholds: Sequence[float] = DEFAULT_THRESHOLDS, name: str = NAME):
        super().__init__(
            metric_util.merge_per_key_computations(_computations),
            thresholds=list(thresholds),
            name=name,
        )


def threshold_decimals(thresholds: Sequence[float]) -> int:
    """Decimals that show every threshold as written (``len(str(t)) - 2``), at least one."""
    return max(1, max(len(str(t)) - 2 for t in thresholds))


def metric_name(rate: str, threshold: float, decimals: int, name: str = NAME) -> str:
    """E.g. ``fairness_indicators_metrics/false_positive_rate@0.5``."""
    return f"{name}/{rate}@{threshold:.{decimals}f}"


def rates(tp: float, fp: float, tn: float, fn: float) -> Dict[str, float]:
    """Every rate of RATES from one confusion matrix; NaN where the denominator is zero."""

    def ratio(numerator: float, denominator: float) -> float:
        return numerator / denominator if denominator else float("nan")

    positives, negatives, predicted_positive = tp + fn, tn + fp, tp + fp
    return {
        "false_positive_rate": ratio(fp, negatives),
        "false_negative_rate": ratio(fn, positives),
        "true_positive_rate": ratio(tp, positives),
        "true_negative_rate": ratio(tn, negatives),
        "positive_rate": ratio(predicted_positive, positives + negatives),
        "negative_rate": ratio(tn + fn, positives + negatives),
        "false_discovery_rate": ratio(fp, predicted_positive),
        "false_omission_rate": ratio(fn, fn + tn),
        "precision": ratio(tp, predicted_positive),
        "recall": ratio(tp, positives),
    }


def _computations(
    thresholds: List[float],
    name: str = NAME,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    model_name: str = "",
    output_name: str = "",
    aggregation_type: Optional[metric_types.AggregationType] = None,
    sub_key: Optional[metric_types.SubKey] = None,
    class_weights: Optional[Dict[int, float]] = None,
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    decimals = threshold_decimals(thresholds)
    keys = {
        (i, rate): metric_types.MetricKey(
            name=metric_name(rate, threshold, decimals, name),
            model_name=model_name,
            output_name=output_name,
            sub_key=sub_key,
            example_weighted=example_weighted,
        )
        for i, threshold in enumerate(thresholds)
        for rate in RATES
    }
    computations = binary_confusion_matrices.binary_confusion_matrices(
        thresholds=list(thresholds),
        eval_config=eval_config,
        model_name=model_name,
        output_name=output_name,
        sub_key=sub_key,
        aggregation_type=aggregation_type,
        class_weights=class_weights,
        example_weighted=example_weighted,
    )
    matrices_key = computations[-1].keys[-1]

    def result(
        metrics: Dict[metric_types.MetricKey, object],
    ) -> Dict[metric_types.MetricKey, float]:
        matrices = metrics[matrices_key]
        computed = np.asarray(matrices.thresholds)
        output = {}
        for i, threshold in enumerate(thresholds):
            j = int(np.argmin(np.abs(computed - threshold)))  # the matrix at this threshold
            values = rates(matrices.tp[j], matrices.fp[j], matrices.tn[j], matrices.fn[j])
            output.update({keys[i, rate]: values[rate] for rate in RATES})
        return output

    computations.append(
        metric_types.DerivedMetricComputation(keys=list(keys.values()), result=result)
    )
    return computations


metric_types.register_metric(FairnessIndicators)
