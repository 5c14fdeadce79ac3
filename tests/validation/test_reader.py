"""The evaluation reader (no TensorFlow, Beam nor TFMA's Python modules) against TFMA's own
loaders as the oracle, on real evaluations written by stock TFMA and by glassbox: the same slices
(cross slices too), metric keys and values, key texts and slice labels, the same plot and
attribution records; truncated and corrupt files refused where TensorFlow's reader refuses them."""

from __future__ import annotations

import math
import os
import shutil
import struct

import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox import tfrecords
from glassbox.validation.errors import EvaluationReadError
from glassbox.validation.reader import read_evaluation, read_records, slice_label
from tests.evaluation.test_parity_tfma import evaluate_both
from tests.support import saved_models

EVAL_CONFIG = """
model_specs { name: "candidate" label_key: "label" }
model_specs { name: "baseline" label_key: "label" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "category" }
slicing_specs { feature_keys: ["category", "count"] }
cross_slicing_specs { baseline_spec {} slicing_specs { feature_keys: "category" } }
metrics_specs {
  model_names: ["candidate", "baseline"]
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "WeightedExampleCount" }
  metrics { class_name: "AUC" }
  metrics { class_name: "Precision" }
  metrics { class_name: "ConfusionMatrixPlot" }
  metrics { class_name: "CalibrationPlot" }
}
"""
LOADERS = {
    "metrics": mpv_writer.load_and_deserialize_metrics,
    "plots": mpv_writer.load_and_deserialize_plots,
    "attributions": mpv_writer.load_and_deserialize_attributions,
}


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    """{writer: evaluation dir}: stock TFMA's and glassbox's evaluation of the same candidate,
    baseline and examples (cross slices, plots; TFMA 0.52 fails on cross slices with
    min_slice_size, so withheld slices are left to test_validate's hand-written evaluations)."""
    root = str(tmp_path_factory.mktemp("reader"))
    files = [
        saved_models.write_tfrecords(
            os.path.join(root, "examples", "data.gz"), saved_models.make_examples(300, seed=5)
        )
    ]
    models = {
        name: saved_models.export_model(os.path.join(root, name), seed=seed)
        for name, seed in (("candidate", 0), ("baseline", 1))
    }
    config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    tfma_dir, ours_dir = evaluate_both(root, config, models, files)
    return {"tfma": tfma_dir, "glassbox": ours_dir}


def _comparable(value: float):
    return "NaN" if math.isnan(value) else value  # (NaN != NaN)


def _tfma_reading(path: str):
    """({slice key: {metric key: value or error}}, {cross slice key: ...}, {slice key: {attributions
    key: {feature: value}}}) as TFMA's loaders, metric_types and slicer_lib read them."""
    slices, cross = {}, {}
    for record in mpv_writer.load_and_deserialize_metrics(path):
        if record.HasField("cross_slice_key"):
            key, found = slicer_lib.deserialize_cross_slice_key(record.cross_slice_key), cross
        else:
            key, found = slicer_lib.deserialize_slice_key(record.slice_key), slices
        values = found.setdefault(key, {})
        if "__ERROR__" in record.metrics:
            values["error"] = record.metrics["__ERROR__"].debug_message
        for entry in record.metric_keys_and_values:
            if entry.value.HasField("double_value"):
                values[metric_types.MetricKey.from_proto(entry.key)] = _comparable(
                    entry.value.double_value.value
                )
    attributions = {}
    for record in mpv_writer.load_and_deserialize_attributions(path):
        by_key = attributions.setdefault(slicer_lib.deserialize_slice_key(record.slice_key), {})
        for entry in record.attributions_keys_and_values:
            by_key[metric_types.AttributionsKey.from_proto(entry.key)] = {
                feature: value.double_value.value
                for feature, value in entry.values.items()
                if not math.isnan(value.double_value.value)
            }
    return slices, cross, attributions


def _ours(found):
    return {
        key: {
            **({"error": sliced.error} if sliced.error else {}),
            **{metric: _comparable(m.value) for metric, m in sliced.metrics.items()},
        }
        for key, sliced in found.items()
    }


def _assert_same_reading(path: str) -> None:
    evaluation = read_evaluation(path)
    slices, cross, attributions = _tfma_reading(path)
    assert _ours(evaluation.slices) == slices
    assert _ours(evaluation.cross_slices) == cross
    assert evaluation.attributions == attributions
    # Keys and labels print as TFMA's: the report's columns and the checks' sentences use them.
    for found in (*evaluation.slices.values(), *evaluation.cross_slices.values()):
        for key in found.metrics:
            tfma_key = metric_types.MetricKey(*key)
            assert (str(key), hash(key), key) == (str(tfma_key), hash(tfma_key), tfma_key)
            assert str(key.sub_key) == str(tfma_key.sub_key)
    for key in evaluation.slices:
        assert slice_label(key) == slicer_lib.stringify_slice_key(key)
    for key in evaluation.cross_slices:
        assert slicer_lib.is_cross_slice_key(key)
        assert slice_label(key) == " minus ".join(map(slicer_lib.stringify_slice_key, key))
    for kind, load in LOADERS.items():
        assert list(read_records(path, kind, required=False)) == list(load(path)), kind


@pytest.mark.parametrize("writer", ["tfma", "glassbox"])
def test_an_evaluation_reads_as_tfma_reads_it(evaluations, writer):
    path = evaluations[writer]
    _assert_same_reading(path)
    evaluation = read_evaluation(path)
    # What the evaluation holds, so that the comparison above covers it.
    assert evaluation.cross_slices
    assert any(len(key) == 2 for key in evaluation.slices)  # a slice of two features
    keys = {k for s in evaluation.slices.values() for k in s.metrics}
    assert {k.model_name for k in keys} == {"candidate", "baseline"} and any(
        k.is_diff for k in keys
    )
    assert list(read_records(path, "plots"))


def test_attributions_read_as_tfma_reads_them(demo_runs):
    """The demo's evaluations: attributions of a candidate and its baseline, drift, examples."""
    for run in demo_runs.runs:
        _assert_same_reading(run.evaluation_uri)
    assert read_evaluation(demo_runs.runs[-1].evaluation_uri).attributions


def test_records_read_as_tensorflow_writes_them(tmp_path):
    records = [b"", b"x", os.urandom(70_000), b"\x00" * 12]
    path = str(tmp_path / "r.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    assert list(tfrecords.read_records(path)) == records
    open(str(tmp_path / "empty"), "wb").close()
    assert list(tfrecords.read_records(str(tmp_path / "empty"))) == []


def test_records_written_as_tensorflow_writes_them(tmp_path):
    records = [b"", b"x", os.urandom(70_000), b"\x00" * 12]
    with tf.io.TFRecordWriter(str(tmp_path / "tf.tfrecord")) as writer:
        for record in records:
            writer.write(record)
    tfrecords.write_records(str(tmp_path / "ours.tfrecord"), records)
    assert (tmp_path / "ours.tfrecord").read_bytes() == (tmp_path / "tf.tfrecord").read_bytes()
    tfrecords.write_records(str(tmp_path / "empty"), [])
    assert (tmp_path / "empty").read_bytes() == b""


def _damaged(data: bytes, how: str) -> bytes:
    if how == "truncated in the data":
        return data[:-9]
    if how == "truncated in a header":  # 5 bytes into the second record
        return data[: 16 + struct.unpack("<Q", data[:8])[0] + 5]
    position = 2 if how == "length flipped" else len(data) - 7
    return data[:position] + bytes([data[position] ^ 0x10]) + data[position + 1 :]


@pytest.mark.parametrize(
    "how",
    ["truncated in the data", "truncated in a header", "length flipped", "data flipped"],
)
def test_a_damaged_file_is_refused_naming_it(evaluations, tmp_path, how):
    """Where TensorFlow's reader refuses it too, but for a file cut within a record's header:
    TensorFlow's stops there as at the end of the file (the records after are lost)."""
    path = str(tmp_path / "evaluation")
    shutil.copytree(evaluations["glassbox"], path)
    metrics = os.path.join(path, "metrics-00000-of-00001.tfrecord")
    with open(metrics, "rb") as f:
        data = f.read()
    with open(metrics, "wb") as f:
        f.write(_damaged(data, how))
    if how == "truncated in a header":
        assert len(list(tf.compat.v1.io.tf_record_iterator(metrics))) == 1
    else:
        with pytest.raises(tf.errors.DataLossError):
            list(tf.compat.v1.io.tf_record_iterator(metrics))
    with pytest.raises(EvaluationReadError, match=f"{metrics} is truncated or corrupt"):
        read_evaluation(path)
