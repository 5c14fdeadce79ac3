"""The demo pipeline, run for real: LocalDagRunner, SQLite MLMD, CsvExampleGen -> Trainer -> Evaluator."""

import dataclasses
import os
import re

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from ml_metadata.metadata_store import metadata_store
from tfx.orchestration import metadata

from glassbox.cli import main
from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING
from glassbox.pipelines.lineage import producer_inputs
from glassbox.pipelines.local_runner import run_demo


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return run_demo(str(root), training=dataclasses.replace(DEFAULT_TRAINING, epochs=2))


@pytest.fixture(scope="module")
def store(run):
    return metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(run.metadata_path))


def test_trainer_model_is_in_mlmd_with_a_serving_saved_model(run, store):
    (model,) = store.get_artifacts_by_type("Model")
    assert model.uri == run.model_uri
    assert tf.saved_model.contains_saved_model(os.path.join(model.uri, "Format-Serving"))
    (examples,) = producer_inputs(store, model)["examples"]
    assert examples.uri == run.examples_uri


def test_evaluation_consumed_the_trainers_model_and_the_examples(run, store):
    (evaluation,) = store.get_artifacts_by_type("ModelEvaluation")
    (model,) = store.get_artifacts_by_type("Model")
    (examples,) = store.get_artifacts_by_type("Examples")
    inputs = producer_inputs(store, evaluation)
    assert [a.id for a in inputs["model"]] == [model.id]
    assert [a.id for a in inputs["examples"]] == [examples.id]
    (execution,) = store.get_executions_by_id(
        [e.execution_id for e in store.get_events_by_artifact_ids([evaluation.id])])
    assert store.get_execution_types_by_id([execution.type_id])[0].name.endswith("Evaluator")
    assert evaluation.uri == run.evaluation_uri


def test_tfma_reads_the_evaluation_overall_and_by_slice_feature(run):
    result = tfma.load_eval_result(run.evaluation_uri)
    overall = result.get_metrics_for_slice()
    assert overall["auc"]["doubleValue"] == pytest.approx(run.overall_metrics["auc"])
    assert 0.6 < run.overall_metrics["auc"] <= 1
    # CsvExampleGen's hash split puts a third of the 6,366 rows into 'eval'.
    assert 1900 < run.overall_metrics["example_count"] < 2350
    slice_features = {key for slice_key, _ in result.slicing_metrics for key, _ in slice_key}
    assert slice_features == {"occupation", "religious"}
    occupations = {value for slice_key, _ in result.slicing_metrics for key, value in slice_key if key == "occupation"}
    assert occupations == {"student", "unskilled", "white_collar", "skilled", "managerial", "professional"}


def test_glassbox_demo_prints_the_artifacts_and_metrics_an_untrained_model_scores_worse(run, tmp_path, capsys):
    assert main(["demo", "--root", str(tmp_path), "--epochs", "0"]) == 0

    out = capsys.readouterr().out
    assert f"ML Metadata:  {tmp_path / 'metadata.sqlite'}" in out
    for line in ("Examples:", "Model:", "Evaluation:"):
        assert re.search(rf"^{line}\s+{re.escape(str(tmp_path))}/pipeline/\S+$", out, re.M)
    untrained_auc = float(re.search(r"^  auc\s+(\S+)$", out, re.M).group(1))
    assert untrained_auc < run.overall_metrics["auc"] - 0.05
