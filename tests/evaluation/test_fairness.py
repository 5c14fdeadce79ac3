"""FairnessIndicators through TFMA's own evaluator, checked against scikit-learn's confusion counts.

Configs name it as the Fairness Indicators tutorials do (``class_name: "FairnessIndicators"``,
thresholds in ``config``); TFMA's MetricsPlotsAndValidationsEvaluator runs it on in-memory
extracts (labels, predictions, weights and a slice feature) with its slice key extractor, and
every rate of every slice and threshold must equal the one computed from
``sklearn.metrics.confusion_matrix`` of the same rows (a prediction above the threshold counts as
positive, as in TFMA's confusion matrices).
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
from typing import Dict, List

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from google.protobuf import text_format
from sklearn.metrics import confusion_matrix
from tensorflow_model_analysis import constants
from tensorflow_model_analysis.api import model_eval_lib
from tensorflow_model_analysis.evaluators import metrics_plots_and_validations_evaluator
from tensorflow_model_analysis.extractors import slice_key_extractor
from tensorflow_model_analysis.metrics import metric_specs, metric_types
from tensorflow_model_analysis.proto import config_pb2

from glassbox.beam_runner import with_default_runner
from glassbox.evaluation import fairness

GROUPS = ("a", "b", "c")
THRESHOLDS = [0.25, 0.5, 0.75]


def _rows(n: int = 600, seed: int = 0) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, len(GROUPS), n)
    # Scores on a 1/1024 grid shifted by half a step never equal a threshold.
    scores = (rng.integers(0, 1024, n) + 0.5) / 1024
    labels = (scores + rng.normal(0, 0.3, n) + 0.1 * group > 0.55).astype(float)
    return {
        "group": np.array(GROUPS)[group],
        "label": labels,
        "score": scores,
        "weight": rng.uniform(0.5, 2.0, n),
    }


def _extracts(rows: Dict[str, np.ndarray], multiclass: bool = False) -> List[dict]:
    extracts = []
    for i in range(len(rows["label"])):
        score = rows["score"][i]
        extracts.append(
            {
                constants.LABELS_KEY: np.array([rows["label"][i]]),
                constants.PREDICTIONS_KEY: (
                    np.array([(1 - score) / 2, score, (1 - score) / 2])
                    if multiclass
                    else np.array([score])
                ),
                constants.EXAMPLE_WEIGHTS_KEY: np.array([rows["weight"][i]]),
                constants.FEATURES_KEY: {"group": np.array([rows["group"][i].encode()])},
            }
        )
    return extracts


def _config(metrics_spec: str) -> config_pb2.EvalConfig:
    return text_format.Parse(
        f"""
        model_specs {{ label_key: "label" example_weight_key: "weight" }}
        slicing_specs {{}}
        slicing_specs {{ feature_keys: "group" }}
        metrics_specs {{ {metrics_spec} }}
        """,
        config_pb2.EvalConfig(),
    )


def _tfma_metrics(eval_config: config_pb2.EvalConfig, extracts: List[dict], tmp_path) -> Dict:
    """{slice key: {MetricKey: value}} from TFMA's slice key extractor and metrics evaluator."""
    path = os.path.join(tmp_path, "metrics.pickle")
    options = PipelineOptions(with_default_runner([]))
    with beam.Pipeline(options=options) as pipeline:
        evaluation = (
            pipeline
            | beam.Create(extracts, reshuffle=False)
            | model_eval_lib.ExtractAndEvaluate(
                extractors=[slice_key_extractor.SliceKeyExtractor(eval_config=eval_config)],
                evaluators=[
                    metrics_plots_and_validations_evaluator.MetricsPlotsAndValidationsEvaluator(
                        eval_config=eval_config
                    )
                ],
            )
        )
        _ = (
            evaluation[constants.METRICS_KEY]
            | beam.combiners.ToList()
            | beam.Map(lambda items: pickle.dump(dict(items), open(path, "wb")))
        )
    with open(path, "rb") as f:
        return pickle.load(f)


def _sklearn_rates(labels, predicted, weights) -> Dict[str, float]:
    (tn, fp), (fn, tp) = confusion_matrix(labels, predicted, labels=[0, 1], sample_weight=weights)
    return fairness.rates(tp=tp, fp=fp, tn=tn, fn=fn)


def _slices(rows) -> Dict[tuple, np.ndarray]:
    masks = {(): np.ones(len(rows["label"]), bool)}
    masks.update({(("group", g),): rows["group"] == g for g in GROUPS})
    return masks


def _assert_matches_sklearn(metrics, rows, weighted: bool, sub_key=None, positive=None) -> None:
    labels = rows["label"] if positive is None else (rows["label"] == positive).astype(float)
    for slice_key, mask in _slices(rows).items():
        assert slice_key in metrics, f"TFMA computed no slice {slice_key}"
        for threshold in THRESHOLDS:
            expected = _sklearn_rates(
                labels[mask],
                rows["score"][mask] > threshold,
                rows["weight"][mask] if weighted else None,
            )
            for rate, value in expected.items():
                key = metric_types.MetricKey(
                    name=fairness.metric_name(rate, threshold, 2),
                    sub_key=sub_key,
                    example_weighted=weighted,
                )
                got = metrics[slice_key][key]
                assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12), (
                    f"{slice_key} {key.name}: TFMA {got} != scikit-learn {value}"
                )


def test_the_class_name_resolves_through_tfmas_metric_registry():
    config = config_pb2.MetricConfig(
        class_name="FairnessIndicators", config='{"thresholds": [0.5]}'
    )
    metric = metric_specs.metric_instance(config)
    assert isinstance(metric, fairness.FairnessIndicators)
    assert metric.get_config()["thresholds"] == [0.5]
    assert metric_types.registered_metrics()["FairnessIndicators"] is fairness.FairnessIndicators


@pytest.mark.parametrize(
    "thresholds, expected",
    [
        ([0.5], "fairness_indicators_metrics/false_positive_rate@0.5"),
        ([0.1, 0.3, 0.5, 0.7, 0.9], "fairness_indicators_metrics/false_positive_rate@0.5"),
        ([0.25, 0.5, 0.75], "fairness_indicators_metrics/false_positive_rate@0.50"),
        ([0.4, 0.4125, 0.5], "fairness_indicators_metrics/false_positive_rate@0.5000"),
    ],
)
def test_names_print_thresholds_with_the_decimals_of_the_longest(thresholds, expected):
    decimals = fairness.threshold_decimals(thresholds)
    assert fairness.metric_name("false_positive_rate", 0.5, decimals) == expected


def test_a_rate_with_no_denominator_is_nan():
    values = fairness.rates(tp=0, fp=0, tn=3, fn=0)
    assert math.isnan(values["true_positive_rate"]) and math.isnan(values["precision"])
    assert values["false_positive_rate"] == 0 and values["negative_rate"] == 1
    assert set(values) == set(fairness.RATES)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_every_rate_per_slice_and_threshold_matches_sklearn(tmp_path, weighted):
    eval_config = _config(
        f"""metrics {{ class_name: "FairnessIndicators"
                      config: '{{"thresholds": {THRESHOLDS}}}' }}
            example_weights {{ {"weighted" if weighted else "unweighted"}: true }}"""
    )
    rows = _rows()
    metrics = _tfma_metrics(eval_config, _extracts(rows), tmp_path)
    _assert_matches_sklearn(metrics, rows, weighted)
    names = {key.name for key in metrics[()]}
    assert {fairness.metric_name(r, t, 2) for r in fairness.RATES for t in THRESHOLDS} <= names


def test_binarized_classes_get_one_versus_rest_rates(tmp_path):
    eval_config = _config(
        f"""metrics {{ class_name: "FairnessIndicators"
                      config: '{{"thresholds": {THRESHOLDS}}}' }}
            binarize {{ class_ids {{ values: [1] }} }}
            example_weights {{ unweighted: true }}"""
    )
    rows = _rows(seed=1)
    rows["label"] = np.where(rows["label"] > 0, 1.0, 2.0)  # classes 1 and 2; class 1's score
    metrics = _tfma_metrics(eval_config, _extracts(rows, multiclass=True), tmp_path)
    _assert_matches_sklearn(
        metrics, rows, weighted=False, sub_key=metric_types.SubKey(class_id=1), positive=1.0
    )


def test_every_evaluation_path_registers_the_class_without_importing_it():
    """Configs name FairnessIndicators by class name only: importing the engine (as glassbox
    evaluate, the Evaluator and the Validator do) must register it, not only the tests' import."""
    code = (
        "import glassbox.engine.evaluate\n"
        "from tensorflow_model_analysis.metrics import metric_types\n"
        "print('FairnessIndicators' in metric_types.registered_metrics())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
