"""Hundreds of slices of a few examples each (a user-id-like slice feature), whose accumulators are
held sparse, get exactly the metrics and plots TFMA computes (TFMA is the oracle, as in
test_parity_tfma)."""

import os
import statistics

import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import config_pb2

from benchmarks import synthetic
from glassbox.evaluation import slice_table
from tests.evaluation.test_parity_tfma import (
    _write,
    assert_parity,
    evaluate_both,
    load_both,
    model_spec,
    names,
    slice_keys,
)

NUM_EXAMPLES, NUM_USERS = 600, 200


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["default", "nothing"])
def test_hundreds_of_small_slices_match_tfma(budget, tmp_path, monkeypatch):
    """Also when every batch's sums outgrow the budget and leave as a run of their own."""
    if budget == "nothing":
        monkeypatch.setattr(slice_table, "BUDGET_BYTES", 0)
        monkeypatch.setattr(slice_table, "BATCHES_PER_COUNT", 1)
    dataset = synthetic.with_users(
        synthetic.synthetic(synthetic.BINARY, NUM_EXAMPLES, seed=4), NUM_USERS, seed=4
    )
    files, model_dir = _write(str(tmp_path), dataset)
    spec = model_spec()
    spec.inference_batch_size = NUM_EXAMPLES // 4  # several batches
    eval_config = config_pb2.EvalConfig(
        model_specs=[spec],
        metrics_specs=tfma.metrics.default_binary_classification_specs(),
        slicing_specs=[
            config_pb2.SlicingSpec(),
            config_pb2.SlicingSpec(feature_keys=[synthetic.USER_KEY]),
        ],
    )
    expected, actual = load_both(
        evaluate_both(os.path.join(str(tmp_path), "out"), eval_config, {"": model_dir}, files)
    )
    assert_parity(expected, actual)
    users = {key for key in slice_keys(actual) if key}
    assert len(users) > 0.9 * NUM_USERS
    counts = [
        value
        for (kind, key, metric, *_), value in actual.items()
        if kind == "metrics" and key and metric.name == "example_count"
    ]
    assert len(counts) == len(users) and statistics.median(counts) <= 4
    assert {"auc", "precision", "calibration"} <= names(actual)
    plot_slices = {
        k[1] for k in actual if k[0] == "plots" and k[4] == "calibrationHistogramBuckets"
    }
    assert users <= plot_slices
