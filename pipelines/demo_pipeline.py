"""The example pipeline: one factory for every runner.

    CsvExampleGen -> Trainer -> Evaluator -> Validator -> Pusher
                                   ^            ^
    latest_blessed_model_resolver -+------------+  (the baseline: the latest blessed Model)

Runners (``local_runner``, Kubeflow) differ only in the arguments they pass here.
"""

from __future__ import annotations

import json
import os
from typing import Optional, Sequence

from tensorflow_model_analysis.metrics import default_binary_classification_specs
from tensorflow_model_analysis.proto import config_pb2
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen
from tfx.components.pusher.component import Pusher
from tfx.orchestration import metadata, pipeline
from tfx.proto import example_gen_pb2, pusher_pb2

from glassbox import keys
from glassbox.components.evaluator.component import Evaluator
from glassbox.components.trainer.component import Trainer
from glassbox.components.validator.component import Validator
from glassbox.pipelines import baseline, data
from glassbox.protos import explain_config_pb2, validator_config_pb2
from glassbox.training.config import TrainingConfig
from glassbox.training.model import FEATURES_SIGNATURE_NAME, PREDICTION_KEY

DEFAULT_TRAINING = TrainingConfig(
    label=data.LABEL,
    numeric_features=data.NUMERIC_FEATURES,
    categorical_features=data.CATEGORICAL_FEATURES,
)
# The demo's thresholds on (ROC) AUC: an untrained model (about 0.42) fails them all, a logistic
# regression (0.71) passes, the default network (0.73) passes against it as the baseline.
AUC = "auc"
MIN_AUC = 0.65
MIN_SLICE_AUC = 0.6
MAX_AUC_DROP = 0.01
# Where the Pusher copies blessed models, under the pipeline root unless given.
SERVING_DIR_NAME = "serving"
# The demo's explanations: exact Shapley values of the Trainer's raw features (8 of them: 256
# coalitions) for a seeded sample of eval rows, and permutation importance of AUC.
EXPLAINED_ROWS = 100
BACKGROUND_ROWS = 20
# The demo's attribution gate: the candidate's top TOP_K features share at least MIN_TOP_K_OVERLAP
# with the baseline's (it relies on much the same features as the model it replaces).
TOP_K = 3
MIN_TOP_K_OVERLAP = 2


def default_explain_config() -> explain_config_pb2.ExplainConfig:
    """The Evaluator's ExplainConfig: see `EXPLAINED_ROWS`."""
    config = explain_config_pb2.ExplainConfig(seed=7)
    config.model_output.signature_name = FEATURES_SIGNATURE_NAME
    config.background.size = BACKGROUND_ROWS
    config.explained_rows.count = EXPLAINED_ROWS
    config.methods.add().shapley.algorithm = explain_config_pb2.Shapley.EXACT
    config.methods.add().permutation_importance.metric = AUC
    return config


def default_validator_config() -> validator_config_pb2.ValidatorConfig:
    """The Validator's gate beyond the EvalConfig's thresholds: see `TOP_K`."""
    config = validator_config_pb2.ValidatorConfig()
    overlap = config.attribution_gates.add().top_k_overlap
    overlap.k, overlap.min_overlap = TOP_K, MIN_TOP_K_OVERLAP
    return config


def default_eval_config(
    label: str = data.LABEL, slice_features: Sequence[str] = data.SLICE_FEATURES
) -> config_pb2.EvalConfig:
    """TFMA's default binary-classification metrics, overall and sliced by each slice feature, and
    the thresholds the Validator checks on AUC: overall at least `MIN_AUC` and at most
    `MAX_AUC_DROP` below the baseline's; on each slice of the last slice feature at least
    `MIN_SLICE_AUC`. (A threshold outside per_slice_thresholds would apply to every slice.)"""
    metrics_specs = default_binary_classification_specs()
    (auc,) = [
        metric
        for spec in metrics_specs
        for metric in spec.metrics
        if metric.class_name == "AUC" and json.loads(metric.config).get("name") == AUC
    ]
    overall = auc.per_slice_thresholds.add(slicing_specs=[config_pb2.SlicingSpec()])
    overall.threshold.value_threshold.lower_bound.value = MIN_AUC
    overall.threshold.change_threshold.direction = config_pb2.MetricDirection.HIGHER_IS_BETTER
    overall.threshold.change_threshold.absolute.value = -MAX_AUC_DROP
    sliced = auc.per_slice_thresholds.add(
        slicing_specs=[config_pb2.SlicingSpec(feature_keys=[slice_features[-1]])]
    )
    sliced.threshold.value_threshold.lower_bound.value = MIN_SLICE_AUC
    return config_pb2.EvalConfig(
        model_specs=[config_pb2.ModelSpec(label_key=label, prediction_key=PREDICTION_KEY)],
        slicing_specs=[config_pb2.SlicingSpec()]
        + [config_pb2.SlicingSpec(feature_keys=[feature]) for feature in slice_features],
        metrics_specs=metrics_specs,
    )


def example_gen_of(data_root: str, input_pattern: Optional[str] = None) -> CsvExampleGen:
    """CsvExampleGen over data_root, or over the files matching input_pattern under it."""
    if input_pattern is None:
        return CsvExampleGen(input_base=data_root)
    return CsvExampleGen(
        input_base=data_root,
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=input_pattern)]
        ),
    )


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    training: TrainingConfig = DEFAULT_TRAINING,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    metadata_path: Optional[str] = None,
    beam_pipeline_args: Sequence[str] = (),
    serving_dir: Optional[str] = None,
    validator_config: Optional[validator_config_pb2.ValidatorConfig] = None,
    baseline_resolver: str = baseline.GENUINE_LATEST_BLESSED_MODEL,
    explain_config: Optional[explain_config_pb2.ExplainConfig] = None,
    honour_overrides: bool = False,
    enable_cache: bool = False,
    input_pattern: Optional[str] = None,
) -> pipeline.Pipeline:
    """The demo pipeline over the CSV files in data_root.

    Args:
      pipeline_name: name of the pipeline (its MLMD context).
      pipeline_root: where artifacts are written.
      data_root: directory of CSV files with a header row; CsvExampleGen splits them 2:1 into
        'train' and 'eval' by a hash of each row.
      training: what the Trainer trains (default: the Fair's affairs classifier).
      eval_config: the Evaluator's `tfma.EvalConfig`, whose thresholds the Validator checks;
        default `default_eval_config(training.label)`.
      metadata_path: SQLite MLMD file for local runs; None when the orchestrator provides MLMD.
      beam_pipeline_args: Beam options of the Beam-based components (ExampleGen, Evaluator).
      serving_dir: where the Pusher copies blessed models (a version dir each);
        default `pipeline_root/serving`.
      validator_config: the Validator's gates beyond the EvalConfig's thresholds;
        default `default_validator_config()`.
      baseline_resolver: how the latest blessed Model is found, one of `baseline.RESOLVERS`
        (`baseline.ML_METADATA_QUERY` on open-source Kubeflow Pipelines).
      explain_config: the Evaluator's explanations; default `default_explain_config()`.
      honour_overrides: the Validator applies `glassbox override`'s approvals and vetoes.
      enable_cache: TFX's caching: a run on unchanged inputs reuses the earlier outputs (the
        same Model, so that an override of it applies on the next run).
      input_pattern: the CSV files under data_root, e.g. 'span-{SPAN}/*.csv' (TFX's spans: the
        latest span is read, and its Examples record it); default every file of data_root.
    """
    example_gen = example_gen_of(data_root, input_pattern)
    examples = example_gen.outputs[keys.EXAMPLES_KEY]
    trainer = Trainer(examples=examples, config=training)
    model = trainer.outputs[keys.MODEL_KEY]
    resolver_nodes, baseline_model = baseline.latest_blessed_model(pipeline_name, baseline_resolver)
    evaluator = Evaluator(
        examples=examples,
        model=model,
        baseline_model=baseline_model,
        eval_config=eval_config or default_eval_config(training.label),
        explain_config=explain_config or default_explain_config(),
    )
    validator = Validator(
        evaluation=evaluator.outputs[keys.EVALUATION_KEY],
        model=model,
        baseline_model=baseline_model,
        config=validator_config or default_validator_config(),
        honour_overrides=honour_overrides,
    )
    pusher = Pusher(
        model=model,
        model_blessing=validator.outputs[keys.BLESSING_KEY],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(
                base_directory=serving_dir or os.path.join(pipeline_root, SERVING_DIR_NAME)
            )
        ),
    )
    return pipeline.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, trainer, *resolver_nodes, evaluator, validator, pusher],
        metadata_connection_config=(
            metadata.sqlite_metadata_connection_config(metadata_path) if metadata_path else None
        ),
        beam_pipeline_args=list(beam_pipeline_args),
        enable_cache=enable_cache,
    )
