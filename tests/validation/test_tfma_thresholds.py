"""The thresholds of an EvalConfig read without TensorFlow (glassbox.validation.tfma_thresholds)
against TFMA's `metric_thresholds_from_metrics_specs` as the oracle: the same keys with the same
(slicing spec, threshold) lists in the same order, or the same error, for every EvalConfig of the
corpus (tests/data/eval_configs), the pipelines' and the validation tests' (as written and with
TFMA's defaults, with and without a baseline), and for every metric class of the table; the
table is what tests.support.tfma_metric_table finds in the installed TFMA and tf_keras. The slice
matching, slice key protos and attribution names that replace TFMA's are checked against TFMA's."""

from __future__ import annotations

import ast
import glob
import importlib.metadata
import itertools
import json
import os

import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import attributions as tfma_attributions
from tensorflow_model_analysis.metrics import metric_specs
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.utils import config_util

import glassbox.evaluation.fairness  # noqa: F401 (registers FairnessIndicators, as validate does)
from glassbox import tfma_keys
from glassbox.validation import attributions, slices, tfma_metric_table, tfma_thresholds
from tests.support import REPO_ROOT
from tests.support.eval_config_cases import CONFIG_DIR
from tests.support.tfma_metric_table import table

FIXTURE_FILES = ("tests/validation/*.py", "tests/commands/test_validate.py")
MODEL_SPECS = 'model_specs { label_key: "label" } slicing_specs {} '
# A value for each required constructor argument of the table's classes.
REQUIRED = {
    "thresholds": [0.5],
    "feature_key": "f",
    "sample_size": 2,
    "gain_key": "g",
    "class_ids": [0, 1],
    "ground_truth_key": "g",
    "prediction_key": "p",
    "specificity": 0.5,
    "sensitivity": 0.5,
}
THRESHOLD = "threshold { value_threshold { lower_bound { value: 0.5 } } }"


def _fixture_configs():
    """The EvalConfigs written as text in the validation tests (alone or after MODEL_SPECS)."""
    for pattern in FIXTURE_FILES:
        for path in sorted(glob.glob(os.path.join(REPO_ROOT, pattern))):
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and "metrics_specs" in str(node.value):
                    for text in (node.value, MODEL_SPECS + node.value):
                        try:
                            yield text_format.Parse(text, config_pb2.EvalConfig())
                            break
                        except text_format.ParseError:
                            pass


def _configs():
    """(name, EvalConfig) of the corpus, the pipelines and the validation tests' fixtures."""
    from pipelines.demo_pipeline import default_eval_config
    from pipelines.monitoring import monitor_eval_config

    found = [
        (os.path.basename(path), text_format.Parse(open(path).read(), config_pb2.EvalConfig()))
        for path in sorted(glob.glob(os.path.join(CONFIG_DIR, "*.pbtxt")))
    ]
    found += [("demo", default_eval_config()), ("monitoring", monitor_eval_config())]
    found += [(f"fixture {i}", config) for i, config in enumerate(_fixture_configs())]
    return found


def _outcome(function, eval_config):
    """The thresholds as (key tuple, [(spec, threshold)]) pairs in order, or the error raised."""
    try:
        result = function(list(eval_config.metrics_specs), eval_config)
    except Exception as e:  # noqa: BLE001 (the oracle's error is the expected outcome)
        return "raised", type(e).__name__, str(e)
    return [(tuple(key), list(entries)) for key, entries in result.items()]


def _tfma(metrics_specs, eval_config):
    return metric_specs.metric_thresholds_from_metrics_specs(metrics_specs, eval_config=eval_config)


def _assert_as_tfma(eval_config, what):
    theirs = _outcome(_tfma, eval_config)
    assert _outcome(tfma_thresholds.metric_thresholds, eval_config) == theirs, what
    return theirs


@pytest.fixture
def tfma_calls(monkeypatch):
    """How often tfma_thresholds gave a config to TFMA."""
    calls = []
    original = tfma_thresholds._tfma_thresholds
    monkeypatch.setattr(
        tfma_thresholds, "_tfma_thresholds", lambda *a: calls.append(a) or original(*a)
    )
    return calls


def _left_to_tfma(eval_config) -> bool:
    """Whether a metric of the config is a class of the user's module (TFMA must build it)."""
    return any(
        m.module and m.module.split(".")[0] not in ("tf_keras", "tensorflow_model_analysis")
        for spec in eval_config.metrics_specs
        for m in spec.metrics
    )


def test_every_config_has_the_thresholds_tfma_reads(tfma_calls):
    configs = _configs()
    assert len(configs) > 50
    with_thresholds = 0
    for name, config in configs:
        variants = [("as written", config)]
        for has_baseline in (False, True):
            try:
                defaults = config_util.update_eval_config_with_defaults(
                    config, has_baseline=has_baseline
                )
            except (ValueError, RuntimeError):
                continue
            variants.append((f"TFMA's defaults, has_baseline={has_baseline}", defaults))
        for variant, eval_config in variants:
            del tfma_calls[:]
            outcome = _assert_as_tfma(eval_config, (name, variant))
            accepted = not outcome or outcome[0] != "raised"
            with_thresholds += accepted and bool(outcome)
            # TFMA builds the metrics of the user's module, and those it refuses.
            assert bool(tfma_calls) == (_left_to_tfma(eval_config) or not accepted), (name, variant)
    assert with_thresholds > 60


def _metric(class_name, config=None, module=""):
    text = f'class_name: "{class_name}" module: "{module}" {THRESHOLD}'
    if config is not None:
        text += f" config: {json.dumps(json.dumps(config))}"
    return f"metrics {{ {text} }}"


def _eval_config(metrics, specs_extra=""):
    return text_format.Parse(
        'model_specs { name: "candidate" label_key: "label" example_weight_key: "w" } '
        'model_specs { name: "baseline" label_key: "label" is_baseline: true } '
        f"metrics_specs {{ model_names: ['candidate', 'baseline'] {specs_extra} {' '.join(metrics)} }}",
        config_pb2.EvalConfig(),
    )


def test_every_metric_class_of_the_table_is_named_as_tfma_names_it(tfma_calls):
    metrics = []
    for class_name, (_, parameters, _) in tfma_metric_table.TFMA.items():
        required = {p[:-1]: REQUIRED[p[:-1]] for p in parameters.split() if p.endswith("!")}
        metrics.append(_metric(class_name, required))
        if "name" in parameters.split():
            metrics.append(_metric(class_name, {**required, "name": f"my_{class_name}"}))
    for class_name, (module, _) in tfma_metric_table.KERAS.items():
        metrics += [
            _metric(class_name),
            _metric(class_name, {"name": f"k_{class_name}", "dtype": "float64"}, module),
            _metric(class_name, {}, "tf_keras.metrics"),
        ]
    for specs_extra in (
        "",
        "binarize { class_ids { values: [0, 2] } } example_weights { weighted: true unweighted: true }",
        "aggregate { macro_average: true top_k_list { values: [1, 3] } } output_names: ['a', 'b']",
    ):
        outcome = _assert_as_tfma(_eval_config(metrics, specs_extra), specs_extra)
        assert outcome and outcome[0] != "raised", outcome
    assert not tfma_calls


@pytest.mark.parametrize(
    "metric",
    [
        _metric("Mean", {"feature_key_path": ["a", "b"]}),
        _metric("Rouge", {"rouge_type": "rouge1"}),
        _metric("PrecisionAtRecall", {"recall": 0.5}),
        _metric("PrecisionAtRecall", {"recall": 2.0}),  # TFMA refuses it
        _metric("AUC", {"num_threshold": 5}),  # a misspelt argument
        _metric("NDCG", {"top_k_list": [1]}),  # no gain_key
        _metric("NoSuchMetric"),
        _metric("AUC", {"name": ""}),
        _metric("Accuracy", {"dtype": "int32"}),
        _metric("Accuracy", {"dtype": "no such dtype"}),
        _metric("BinaryCrossentropy", {}, "keras.metrics"),
        _metric("MyMetric", {}, "tests.support.custom_metrics"),
        'metrics { class_name: "AUC" config: "not json" }',
    ],
)
def test_a_metric_the_table_cannot_vouch_for_is_left_to_tfma(metric, tfma_calls):
    _assert_as_tfma(_eval_config([metric, _metric("AUC")]), metric)
    assert tfma_calls


@pytest.mark.parametrize(
    "thresholds",
    [
        # The same threshold twice on one slice, its features in another order: kept once.
        "per_slice_thresholds { key: 'auc' value { thresholds { slicing_specs { feature_keys: ['a', 'b'] "
        "feature_values { key: 'c' value: '1' } } threshold { value_threshold { lower_bound { value: 0.5 } } } } "
        "thresholds { slicing_specs { feature_keys: ['b', 'a'] feature_values { key: 'c' value: '1' } } "
        "threshold { value_threshold { lower_bound { value: 0.5 } } } } } }",
        # A feature both sliced by and fixed: TFMA's ValueError.
        "per_slice_thresholds { key: 'auc' value { thresholds { slicing_specs { feature_keys: 'a' "
        "feature_values { key: 'a' value: '1' } } threshold { value_threshold { lower_bound { value: 0.5 } } } } } }",
        "cross_slice_thresholds { key: 'auc' value { thresholds { cross_slicing_specs { baseline_spec {} "
        "slicing_specs { feature_keys: 'a' } slicing_specs { feature_keys: 'a' } } "
        "threshold { change_threshold { direction: LOWER_IS_BETTER absolute { value: 0.1 } } } } } }",
        "thresholds { key: 'auc' value { change_threshold { direction: HIGHER_IS_BETTER relative { value: 1 } } } }",
    ],
)
def test_thresholds_by_metric_name_are_keyed_and_deduplicated_as_tfma_does(thresholds, tfma_calls):
    _assert_as_tfma(_eval_config([_metric("AUC")], thresholds), thresholds)
    assert not tfma_calls


def test_the_table_holds_what_tfma_and_tf_keras_say():
    tfma, _, keras = table()
    assert tfma_metric_table.TFMA == tfma
    assert tfma_metric_table.KERAS == keras
    assert tfma_metric_table.TFMA_VERSION == importlib.metadata.version("tensorflow-model-analysis")
    assert tfma_metric_table.TF_KERAS_VERSION == importlib.metadata.version("tf-keras")
    assert len(tfma) > 80 and {"AUC", "ExampleCount", "FairnessIndicators"} <= set(tfma)
    assert {"BinaryCrossentropy", "SparseCategoricalAccuracy"} <= set(keras)


SPECS = [
    config_pb2.SlicingSpec(),
    config_pb2.SlicingSpec(feature_keys=["a"]),
    config_pb2.SlicingSpec(feature_keys=["a", "b"]),
    config_pb2.SlicingSpec(feature_values={"a": "1"}),
    config_pb2.SlicingSpec(feature_values={"a": "1.0", "b": "x"}),
    config_pb2.SlicingSpec(feature_keys=["b"], feature_values={"a": "x"}),
]
KEYS = [
    (),
    (("a", 1),),
    (("a", 1.0),),
    (("a", "1"),),
    (("a", "x"), ("b", "x")),
    (("b", 2), ("a", 1)),
]


def test_slices_match_as_tfma_matches_them():
    for spec, key in itertools.product(SPECS, KEYS):
        expected = slicer_lib.SingleSliceSpec(spec=spec).is_slice_applicable(key)
        assert slices.applies_to(spec)(key) == expected, (spec, key)
    for baseline, comparison, key in itertools.product(SPECS[:3], SPECS, KEYS[:3]):
        cross = config_pb2.CrossSlicingSpec(baseline_spec=baseline, slicing_specs=[comparison])
        for pair in itertools.product(KEYS[:3], [key]):
            expected = slicer_lib.is_cross_slice_applicable(pair, cross)
            assert slices._cross_applies(cross, pair) == expected, (cross, pair)


def test_slice_keys_serialize_as_tfma_serializes_them():
    keys = [(), (("a", "x"),), (("a", 1), ("b", 2.5)), (("c", b"y"), ("d", -3))]
    for key in keys:
        assert tfma_keys.slice_key_proto(key) == slicer_lib.serialize_slice_key(key)
    for pair in itertools.product(keys, keys):
        assert tfma_keys.cross_slice_key_proto(pair) == slicer_lib.serialize_cross_slice_key(pair)


def test_attribution_names_are_tfma_s():
    assert attributions.ABSOLUTE_ATTRIBUTIONS == (
        tfma_attributions.MEAN_ABSOLUTE_ATTRIBUTIONS_NAME,
        tfma_attributions.TOTAL_ABSOLUTE_ATTRIBUTIONS_NAME,
    )
