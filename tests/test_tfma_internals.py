"""glassbox.tfma_internals against TFMA 0.52: each accessor reads what glassbox relies on from a
real TFMA object, and no other module reaches a private TFMA name (so a TFMA upgrade that moves one
fails here, by name, not deep in an evaluation)."""

import ast
import json
import pathlib

import apache_beam as beam
import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_specs, metric_types
from tensorflow_model_analysis.proto import config_pb2

from glassbox import tfma_internals
from glassbox.evaluation import combiners

ROOT = pathlib.Path(__file__).resolve().parents[1]
EVAL_CONFIG = """
model_specs { label_key: "label" }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "WeightedExampleCount" }
  metrics { class_name: "AUC" }
  metrics { class_name: "ConfusionMatrixAtThresholds" config: '"thresholds": [0.25, 0.75]' }
  metrics { class_name: "MeanLabel" }
  metrics { class_name: "MeanSquaredError" }
  metrics { class_name: "BinaryCrossEntropy" }
  metrics { class_name: "Hinge" module: "tf_keras.metrics" }
}
metrics_specs {
  metrics { class_name: "MultiClassConfusionMatrixAtThresholds" config: '"thresholds": [0.5]' }
  metrics { class_name: "CategoricalCrossEntropy" }
}
metrics_specs {
  metrics { class_name: "Precision" }
  aggregate { weighted_macro_average: true top_k_list { values: [2] } }
}
"""


@pytest.fixture(scope="module")
def eval_config():
    return text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())


@pytest.fixture(scope="module")
def computations(eval_config):
    return tfma_internals.separate_computations(
        metric_specs.to_computations(list(eval_config.metrics_specs), eval_config=eval_config)
    )


@pytest.fixture(scope="module")
def tfma_combiners(computations):
    return [c.combiner for c in computations.non_derived_computations]


def _of(tfma_combiners, cls):
    found = [c for c in tfma_combiners if isinstance(c, cls)]
    assert found, f"no {cls.__name__} among {[type(c).__name__ for c in tfma_combiners]}"
    return found[0]


def test_separate_computations_splits_primitives_from_derived(computations):
    assert computations.non_derived_computations and computations.derived_computations
    assert not computations.cross_slice_computations


def test_every_primitive_combiner_of_the_config_is_a_named_class(tfma_combiners):
    named = {
        value
        for name, value in vars(tfma_internals).items()
        if name.endswith("Combiner") and isinstance(value, type)
    }
    assert all(issubclass(cls, beam.CombineFn) for cls in named)
    assert {type(c) for c in tfma_combiners} <= named
    assert {type(c) for c in tfma_combiners} <= set(combiners._COUNTERPARTS)


def test_setting_reads_the_configured_values(tfma_combiners):
    matrices = tfma_internals.setting(
        _of(tfma_combiners, tfma_internals.BinaryConfusionMatrixCombiner),
        "binary_confusion_matrices",
    )
    assert list(tfma_internals.setting(matrices, "thresholds")) == [0.25, 0.75]
    assert tfma_internals.setting(matrices, "enable_fractional_labels") is True
    multi = _of(tfma_combiners, tfma_internals.MultiClassConfusionMatrixCombiner)
    assert list(tfma_internals.setting(multi, "thresholds")) == [0.5]
    histogram = _of(tfma_combiners, tfma_internals.CalibrationHistogramCombiner)
    assert tfma_internals.setting(histogram, "num_buckets") == 10000
    assert tfma_internals.setting(histogram, "key").name.startswith("_calibration_histogram")
    weights = _of(tfma_combiners, tfma_internals.ClassWeightsFromLabelsCombiner)
    assert list(tfma_internals.setting(weights, "class_ids")) == []


def _settings_read_in_glassbox():
    names = set()
    for path in (ROOT / "glassbox").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setting"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                names.add(node.args[1].value)
    return names


def test_every_setting_glassbox_reads_exists_on_a_tfma_combiner(tfma_combiners):
    names = _settings_read_in_glassbox()
    assert {"key", "example_weighted", "thresholds"} <= names
    holders = tfma_combiners + [
        tfma_internals.setting(c, "binary_confusion_matrices")
        for c in tfma_combiners
        if isinstance(c, tfma_internals.BinaryConfusionMatrixCombiner)
    ]
    missing = {n for n in names if not any(hasattr(h, "_" + n) for h in holders)}
    assert not missing


def test_confidence_interval_params(eval_config):
    config = config_pb2.EvalConfig()
    config.CopyFrom(eval_config)
    config.options.compute_confidence_intervals.value = True
    config.options.confidence_intervals.method = (
        config_pb2.ConfidenceIntervalOptions.POISSON_BOOTSTRAP
    )
    params = tfma_internals.confidence_interval_params(config, list(config.metrics_specs))
    assert (params.num_bootstrap_samples, params.num_jackknife_samples) == (20, 0)
    config.options.confidence_intervals.method = config_pb2.ConfidenceIntervalOptions.JACKKNIFE
    params = tfma_internals.confidence_interval_params(config, list(config.metrics_specs))
    assert params.num_jackknife_samples > 0 and params.num_bootstrap_samples == 0


def test_private_metrics_and_diffable_values():
    assert tfma_internals.is_private_metric(metric_types.MetricKey("_calibration_histogram"))
    assert not tfma_internals.is_private_metric(metric_types.MetricKey("auc"))
    assert tfma_internals.is_diffable(0.5) and tfma_internals.is_diffable(np.array([1.0, 2.0]))
    assert not tfma_internals.is_diffable("text")


def test_accumulators_and_bootstrap_combiner():
    totals = tfma_internals.WeightedLabelsPredictionsExamples()
    assert totals.total_weighted_labels == 0.0
    entry = tfma_internals.ThresholdEntry(None, [], [], [], [])
    assert len(entry) == 5
    combine = tfma_internals.BootstrapSampleCombineFn(num_bootstrap_samples=2)
    assert combine.create_accumulator() is not None
    assert isinstance(tfma_internals.FULL_SAMPLE_ID, int)
    assert 0 < tfma_internals.CONFUSION_MATRIX_EPSILON < 1e-3


def test_load_custom_objects_and_serialize_eval_run(eval_config):
    assert tfma_internals.load_custom_objects([]) == {}
    content = json.loads(
        tfma_internals.serialize_eval_run(eval_config, "data/*", "tfrecord", {"": "model"})
    )
    assert content["dataLocation"] == "data/*" and content["modelLocations"] == {"": "model"}
    assert content["evalConfig"]["modelSpecs"] == [{"labelKey": "label"}]


def _violations(path: pathlib.Path):
    """Private TFMA names reached in a module: `tfma_module._x`, `from tfma... import _x`, and,
    in the modules handling TFMA's objects (evaluation, data), `obj._x` on anything but self/cls."""
    tree = ast.parse(path.read_text())
    tfma_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "tensorflow_model_analysis"
        ):
            tfma_names.update(alias.asname or alias.name for alias in node.names)
            yield from (f"import {a.name}" for a in node.names if a.name.startswith("_"))
        elif isinstance(node, ast.Import):
            tfma_names.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name.startswith("tensorflow_model_analysis")
            )
    handles_tfma = path.parent.name in ("evaluation", "data")
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
        ):
            continue
        name = node.value.id
        if name in tfma_names or (
            handles_tfma and name not in ("self", "cls") and node.attr != "_replace"
        ):
            yield f"line {node.lineno}: {name}.{node.attr}"


def test_no_other_module_reaches_a_private_tfma_name():
    found = {
        str(path.relative_to(ROOT)): list(_violations(path))
        for folder in ("glassbox", "components", "pipelines")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "tfma_internals.py"
    }
    assert {path: hits for path, hits in found.items() if hits} == {}
