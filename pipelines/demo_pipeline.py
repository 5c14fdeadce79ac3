"""The example pipeline, CsvExampleGen -> Trainer -> Evaluator: one factory for every runner.

Runners (``local_runner`` now, Kubeflow later) differ only in the arguments they pass here.
"""

from __future__ import annotations

from typing import Optional, Sequence

from tensorflow_model_analysis.metrics import default_binary_classification_specs
from tensorflow_model_analysis.proto import config_pb2
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen
from tfx.orchestration import metadata, pipeline
from tfx.types import standard_component_specs

from glassbox.components.evaluator.component import Evaluator
from glassbox.components.trainer import constants as trainer_constants
from glassbox.components.trainer.component import Trainer
from glassbox.pipelines import data
from glassbox.training.config import TrainingConfig
from glassbox.training.model import PREDICTION_KEY

DEFAULT_TRAINING = TrainingConfig(label=data.LABEL, numeric_features=data.NUMERIC_FEATURES,
                                  categorical_features=data.CATEGORICAL_FEATURES)


def default_eval_config(label: str = data.LABEL,
                        slice_features: Sequence[str] = data.SLICE_FEATURES) -> config_pb2.EvalConfig:
    """TFMA's default binary-classification metrics, overall and sliced by each slice feature."""
    return config_pb2.EvalConfig(
        model_specs=[config_pb2.ModelSpec(label_key=label, prediction_key=PREDICTION_KEY)],
        slicing_specs=[config_pb2.SlicingSpec()] + [
            config_pb2.SlicingSpec(feature_keys=[feature]) for feature in slice_features],
        metrics_specs=default_binary_classification_specs())


def create_pipeline(pipeline_name: str, pipeline_root: str, data_root: str,
                    training: TrainingConfig = DEFAULT_TRAINING,
                    eval_config: Optional[config_pb2.EvalConfig] = None,
                    metadata_path: Optional[str] = None,
                    beam_pipeline_args: Sequence[str] = ()) -> pipeline.Pipeline:
    """The demo pipeline over the CSV files in data_root.

    Args:
      pipeline_name: name of the pipeline (its MLMD context).
      pipeline_root: where artifacts are written.
      data_root: directory of CSV files with a header row; CsvExampleGen splits them 2:1 into
        'train' and 'eval' by a hash of each row.
      training: what the Trainer trains (default: the Fair's affairs classifier).
      eval_config: the Evaluator's `tfma.EvalConfig`; default `default_eval_config(training.label)`.
      metadata_path: SQLite MLMD file for local runs; None when the orchestrator provides MLMD.
      beam_pipeline_args: Beam options of the Beam-based components (ExampleGen, Evaluator).
    """
    example_gen = CsvExampleGen(input_base=data_root)
    examples = example_gen.outputs[standard_component_specs.EXAMPLES_KEY]
    trainer = Trainer(examples=examples, config=training)
    evaluator = Evaluator(examples=examples, model=trainer.outputs[trainer_constants.MODEL_KEY],
                          eval_config=eval_config or default_eval_config(training.label))
    return pipeline.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, trainer, evaluator],
        metadata_connection_config=(
            metadata.sqlite_metadata_connection_config(metadata_path) if metadata_path else None),
        beam_pipeline_args=list(beam_pipeline_args))
