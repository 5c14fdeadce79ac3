"""Drift in the evaluation's Beam pipeline: sketched from the metrics' batches, compared with a
reference (example files or a previous evaluation), written with the evaluation or not at all."""

import json
import os

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.engine.branches import DriftReference
from glassbox.engine.pipeline import run_evaluation
from glassbox.errors import ConfigError
from glassbox.evaluation import writer
from glassbox.protos.drift_config_pb2 import DriftConfig
from tests.support import saved_models

N = 1000  # at most the summary's points: the sketches are exact
EVAL_CONFIG = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "ExampleCount" } }
slicing_specs {}
slicing_specs { feature_keys: "category" }
"""
CONFIG = DriftConfig(categorical_features=["count"])


def _shifted(examples, feature, by):
    for example in examples:
        example.features.feature[feature].float_list.value[0] += by
    return examples


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    examples = saved_models.make_examples(N, seed=1)
    order = np.random.default_rng(0).permutation(N)
    return {
        "root": root,
        "model": saved_models.export_model(str(root / "model")),
        "reference": [saved_models.write_tfrecords(str(root / "ref.gz"), examples)],
        # the same examples, shuffled, in three files
        "shuffled": [
            saved_models.write_tfrecords(str(root / f"same-{i}.gz"), [examples[j] for j in part])
            for i, part in enumerate(np.array_split(order, 3))
        ],
        "shifted": [
            saved_models.write_tfrecords(
                str(root / "shifted.gz"),
                _shifted(saved_models.make_examples(N, seed=1), "x1", 1.5),
            )
        ],
    }


def _evaluate(data, files, output, reference):
    eval_config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    run_evaluation(
        eval_config,
        data["model"],
        files,
        str(output),
        drift_config=CONFIG,
        drift_reference=reference,
    )
    path = os.path.join(output, keys.DRIFT_FILE)
    return json.load(open(path)) if os.path.exists(path) else None


def _overall(drift):
    return next(s for s in drift["slices"] if s["slice"] == [])


def test_a_shifted_feature_is_found_and_ranked_first_with_the_predictions_shift(data, tmp_path):
    reference = DriftReference("eval split of span 1", example_files=data["reference"])
    drift = _evaluate(data, data["shifted"], tmp_path, reference)
    assert drift["reference"] == "eval split of span 1"
    overall = _overall(drift)
    assert overall["features"][0]["name"] == "x1"
    assert overall["features"][0]["wasserstein"] == pytest.approx(1.5, abs=1e-6)
    assert all(f["jensen_shannon"] == 0 for f in overall["features"][1:])
    [prediction] = overall["predictions"]
    assert prediction["name"] == "prediction" and prediction["kolmogorov_smirnov"] > 0.1
    assert {s["slice_name"] for s in drift["slices"]} == {
        "Overall",
        "category:a",
        "category:b",
        "category:c",
    }
    assert all(s["features"][0]["name"] == "x1" for s in drift["slices"])
    # the metrics of the same read, beside it
    assert writer.overall_scalar_metrics(str(tmp_path))["example_count"] == N


def test_the_same_examples_shuffled_have_no_drift_from_their_evaluation(data, tmp_path):
    """Order independence: other files, another order, the reference an earlier evaluation's
    sketches; every distance of every slice is 0."""
    assert _evaluate(data, data["reference"], tmp_path / "first", None) is None
    assert os.path.exists(tmp_path / "first" / keys.DRIFT_SKETCHES_FILE)
    reference = DriftReference("previous", evaluation_dir=str(tmp_path / "first"))
    drift = _evaluate(data, data["shuffled"], tmp_path / "again", reference)
    entries = [e for s in drift["slices"] for e in s["features"] + s["predictions"]]
    assert len(entries) == 4 * (len(saved_models.make_examples(1)[0].features.feature) + 1)
    for entry in entries:
        assert entry["count"] == entry["reference_count"]
        assert max(v for k, v in entry.items() if isinstance(v, float)) == pytest.approx(
            0, abs=1e-9
        )


def test_a_reference_without_sketches_is_refused_naming_it(data, tmp_path):
    reference = DriftReference("nothing", evaluation_dir=str(tmp_path / "no-evaluation"))
    with pytest.raises(ConfigError, match="no-evaluation.*drift_sketches.json"):
        _evaluate(data, data["reference"], tmp_path / "out", reference)
    assert not os.path.exists(tmp_path / "out" / keys.EVAL_CONFIG_FILE)
