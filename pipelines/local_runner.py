"""Runs the demo pipeline under TFX's LocalDagRunner, everything under one root directory:
``data/`` (the CSV), ``pipeline/`` (artifacts), ``serving/`` (pushed models) and
``metadata.sqlite`` (ML Metadata). Runs on the same root share ML Metadata, so each run's
baseline is the latest model blessed by an earlier one."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, Optional, Sequence

from ml_metadata.metadata_store import metadata_store
from tensorflow_model_analysis.proto import config_pb2
from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from glassbox import keys
from glassbox.errors import GlassboxError
from glassbox.pipelines import baseline, data
from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING, SERVING_DIR_NAME, create_pipeline
from glassbox.provenance.lineage import consumer_outputs, latest_artifact, producer_inputs
from glassbox.training.config import TrainingConfig

PIPELINE_NAME = "glassbox-demo"
METADATA_FILE_NAME = "metadata.sqlite"
# `glassbox demo`'s story, run after run on one root: (what is trained, how).
DEMO_RUNS = (
    (
        "a first model, a logistic regression (1 epoch)",
        dataclasses.replace(DEFAULT_TRAINING, hidden_units=(), epochs=1),
    ),
    (
        f"a better model, a hidden layer of {DEFAULT_TRAINING.hidden_units[0]} units "
        f"({DEFAULT_TRAINING.epochs} epochs)",
        DEFAULT_TRAINING,
    ),
    ("an untrained model (0 epochs)", dataclasses.replace(DEFAULT_TRAINING, epochs=0)),
)


class DemoRootInUseError(GlassboxError):
    """The demo's root already holds ML Metadata of earlier runs."""


def check_fresh_root(root: str) -> None:
    """Raises DemoRootInUseError unless root holds no ML Metadata yet (the first run has no baseline)."""
    path = os.path.join(root, METADATA_FILE_NAME)
    if os.path.exists(path):
        raise DemoRootInUseError(
            f"{path} exists: {root} holds earlier runs; remove it or pass another --root"
        )


@dataclasses.dataclass(frozen=True)
class DemoRun:
    """Where a run's artifacts are, its evaluation's overall metrics (e.g. 'auc') and its decision.

    baseline_model_uri is None on a first run (no blessed model yet); pushed_destination is where
    the Pusher copied the model, None when it was not blessed; decision is the Validator's
    decision.json.
    """

    metadata_path: str
    examples_uri: str
    model_id: int
    model_uri: str
    evaluation_uri: str
    overall_metrics: Dict[str, float]
    baseline_model_uri: Optional[str]
    validation_uri: str
    blessing_uri: str
    blessed: bool
    decision: Dict[str, Any]
    pushed_destination: Optional[str]


def run_demo(
    root: str,
    training: TrainingConfig = DEFAULT_TRAINING,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    beam_pipeline_args: Sequence[str] = (),
    baseline_resolver: str = baseline.GENUINE_LATEST_BLESSED_MODEL,
) -> DemoRun:
    """Writes the dataset under root, runs the pipeline on it and reads the results from MLMD."""
    root = os.path.abspath(root)
    data_root = os.path.dirname(data.write_fair_csv(os.path.join(root, "data")))
    metadata_path = os.path.join(root, METADATA_FILE_NAME)
    LocalDagRunner().run(
        create_pipeline(
            PIPELINE_NAME,
            os.path.join(root, "pipeline"),
            data_root,
            training=training,
            eval_config=eval_config,
            metadata_path=metadata_path,
            beam_pipeline_args=beam_pipeline_args,
            serving_dir=os.path.join(root, SERVING_DIR_NAME),
            baseline_resolver=baseline_resolver,
        )
    )

    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))
    evaluation = latest_artifact(store, keys.MODEL_EVALUATION_TYPE)
    inputs = producer_inputs(store, evaluation)
    (examples,) = inputs[keys.EXAMPLES_KEY]
    (model,) = inputs[keys.MODEL_KEY]
    baselines = inputs.get(keys.BASELINE_MODEL_KEY, [])
    validator_outputs = consumer_outputs(store, evaluation)
    (blessing,) = validator_outputs[keys.BLESSING_KEY]
    (validation,) = validator_outputs[keys.VALIDATION_KEY]
    (pushed,) = consumer_outputs(store, blessing)[keys.PUSHED_MODEL_KEY]
    with open(os.path.join(validation.uri, keys.DECISION_JSON_FILE)) as f:
        decision = json.load(f)
    prefix = keys.OVERALL_METRIC_PREFIX
    return DemoRun(
        metadata_path=metadata_path,
        examples_uri=examples.uri,
        model_id=model.id,
        model_uri=model.uri,
        evaluation_uri=evaluation.uri,
        overall_metrics={
            name[len(prefix) :]: value.double_value
            for name, value in evaluation.custom_properties.items()
            if name.startswith(prefix)
        },
        baseline_model_uri=baselines[0].uri if baselines else None,
        validation_uri=validation.uri,
        blessing_uri=blessing.uri,
        blessed=blessing.custom_properties[keys.BLESSED_PROPERTY].int_value == 1,
        decision=decision,
        pushed_destination=(
            pushed.custom_properties[keys.PUSHED_DESTINATION_PROPERTY].string_value
            if pushed.custom_properties[keys.PUSHED_PROPERTY].int_value == 1
            else None
        ),
    )
