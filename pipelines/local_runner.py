"""Runs the demo pipeline under TFX's LocalDagRunner, everything under one root directory:
``data/`` (the CSV), ``pipeline/`` (artifacts) and ``metadata.sqlite`` (ML Metadata)."""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, Optional, Sequence

from ml_metadata.metadata_store import metadata_store
from tensorflow_model_analysis.proto import config_pb2
from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.types import standard_artifacts

from glassbox.components.evaluator import constants as evaluator_constants
from glassbox.pipelines import data
from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING, create_pipeline
from glassbox.pipelines.lineage import latest_artifact, producer_inputs
from glassbox.training.config import TrainingConfig

PIPELINE_NAME = "glassbox-demo"
METADATA_FILE_NAME = "metadata.sqlite"


@dataclasses.dataclass(frozen=True)
class DemoRun:
    """Where a run's artifacts are, and its evaluation's overall metrics (e.g. 'auc')."""

    metadata_path: str
    examples_uri: str
    model_uri: str
    evaluation_uri: str
    overall_metrics: Dict[str, float]


def run_demo(root: str, training: TrainingConfig = DEFAULT_TRAINING,
             eval_config: Optional[config_pb2.EvalConfig] = None,
             beam_pipeline_args: Sequence[str] = ()) -> DemoRun:
    """Writes the dataset under root, runs the pipeline on it and reads the results from MLMD."""
    root = os.path.abspath(root)
    data_root = os.path.dirname(data.write_fair_csv(os.path.join(root, "data")))
    metadata_path = os.path.join(root, METADATA_FILE_NAME)
    LocalDagRunner().run(create_pipeline(
        PIPELINE_NAME, os.path.join(root, "pipeline"), data_root, training=training,
        eval_config=eval_config, metadata_path=metadata_path, beam_pipeline_args=beam_pipeline_args))

    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))
    evaluation = latest_artifact(store, standard_artifacts.ModelEvaluation.TYPE_NAME)
    inputs = producer_inputs(store, evaluation)
    (examples,) = inputs[evaluator_constants.EXAMPLES_KEY]
    (model,) = inputs[evaluator_constants.MODEL_KEY]
    prefix = evaluator_constants.OVERALL_METRIC_PROPERTY_PREFIX
    return DemoRun(
        metadata_path=metadata_path,
        examples_uri=examples.uri,
        model_uri=model.uri,
        evaluation_uri=evaluation.uri,
        overall_metrics={name[len(prefix):]: value.double_value
                         for name, value in evaluation.custom_properties.items() if name.startswith(prefix)})
