"""A user-defined Keras metric for configs that name one by ``MetricConfig.module``.

``MyMetric`` is the custom metric of TFMA's metrics guide (docs/metrics.md, "Custom Keras
Metrics"): the mean of the predictions, ignoring the labels.
"""

import tf_keras


class MyMetric(tf_keras.metrics.Mean):
    def __init__(self, name="my_metric", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(y_pred, sample_weight=sample_weight)
