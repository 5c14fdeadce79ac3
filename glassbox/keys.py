"""Every name glassbox shares with TFX, TFMA, ML Metadata and itself, in one import-free place.

Channel keys, parameter keys, custom property names, artifact type names and file names, as
TFX's ``types/standard_component_specs.py`` keeps its own. Importing this module imports nothing,
so the CLI, ML Metadata readers and reports use the names without loading TensorFlow, TFX or TFMA.
Where a name is TFX's or TFMA's, it is spelt as they spell it (tests/test_keys.py checks it).
"""

# Channel keys of the Evaluator, Validator, Trainer, BaselineResolver and the stock Pusher. The
# candidate is under `model`, as for the stock Evaluator, so that lineage-based resolvers
# (LatestPolicyModel) find the blessing through it.
EXAMPLES_KEY = "examples"
MODEL_KEY = "model"
BASELINE_MODEL_KEY = "baseline_model"
SCHEMA_KEY = "schema"
EVALUATION_KEY = "evaluation"
BLESSING_KEY = "blessing"
VALIDATION_KEY = "validation"
# The Evaluator's and Validator's HTML report, for the Kubeflow Pipelines UI (HTML_TYPE).
REPORT_KEY = "report"
# The stock Pusher's input of the blessing (and TFX's Resolver's output of it).
MODEL_BLESSING_KEY = "model_blessing"
# The stock Pusher's output.
PUSHED_MODEL_KEY = "pushed_model"

# Parameter keys of the Evaluator and Validator. EVAL_CONFIG_KEY is also the exec property in
# which an Evaluator (ours or the stock one) keeps its tfma.EvalConfig, as JSON.
EVAL_CONFIG_KEY = "eval_config"
EXAMPLE_SPLITS_KEY = "example_splits"
EXPLAIN_CONFIG_KEY = "explain_config"
SIMPLE_MODEL_CONFIG_KEY = "simple_model_config"
# The Evaluator's optional TensorBoard log dir (each run's summaries in a subdir named after the run).
TENSORBOARD_DIR_KEY = "tensorboard_dir"
# The Evaluator's drift: its DriftConfig, and its reference, a split of its Examples or a previous
# ModelEvaluation (holding drift_sketches.json) as an input channel.
DRIFT_CONFIG_KEY = "drift_config"
DRIFT_REFERENCE_SPLIT_KEY = "drift_reference_split"
DRIFT_REFERENCE_KEY = "drift_reference"
VALIDATOR_CONFIG_KEY = "config"
# The Evaluator's parameter set when a Validator decides on its evaluation (its blessing then
# leaves the decision to the Validator's).
DEFERS_TO_VALIDATOR_KEY = "defers_to_validator"
# Parameters of the stock Evaluator that the glassbox Evaluator takes and refuses (with the reason).
FEATURE_SLICING_SPEC_KEY = "feature_slicing_spec"
FAIRNESS_INDICATOR_THRESHOLDS_KEY = "fairness_indicator_thresholds"
MODULE_FILE_KEY = "module_file"
MODULE_PATH_KEY = "module_path"
# The BaselineResolver's parameter: the pipeline whose blessed Models are looked up.
PIPELINE_NAME_KEY = "pipeline_name"
# The Trainer's parameters: the fields of glassbox.training.config.TrainingConfig (lists as JSON).
LABEL_KEY = "label"
NUMERIC_FEATURES_KEY = "numeric_features"
CATEGORICAL_FEATURES_KEY = "categorical_features"
HIDDEN_UNITS_KEY = "hidden_units"
EPOCHS_KEY = "epochs"
BATCH_SIZE_KEY = "batch_size"
LEARNING_RATE_KEY = "learning_rate"
SEED_KEY = "seed"

# The split the stock Evaluator evaluates when it is given none.
DEFAULT_EXAMPLE_SPLITS = ("eval",)
# The Trainer trains on this split of its examples.
TRAIN_SPLIT = "train"
# A TFX Examples artifact holds each split in a directory named so, e.g. Split-eval/.
SPLIT_DIR_PREFIX = "Split-"

# Artifact type names: TFX's standard artifacts and glassbox's own.
EXAMPLES_TYPE = "Examples"
MODEL_TYPE = "Model"
SCHEMA_TYPE = "Schema"
MODEL_EVALUATION_TYPE = "ModelEvaluation"
MODEL_BLESSING_TYPE = "ModelBlessing"
PUSHED_MODEL_TYPE = "PushedModel"
VALIDATION_RESULT_TYPE = "glassbox.ValidationResult"
# KFP's type of an HTML file (its `dsl.HTML`). The KFP v2 UI shows an output artifact of this
# type with a non-empty DISPLAY_NAME_PROPERTY in the task's Visualization tab, reading the file
# at its URI (kubeflow/pipelines frontend/src/components/viewers/MetricsVisualizations.tsx).
HTML_TYPE = "system.HTML"
DISPLAY_NAME_PROPERTY = "display_name"
# A person's approval or veto of one Model (`glassbox override`), and the ML Metadata execution
# type that records it: inputs the Model (MODEL_KEY) and the blessing it overrides (BLESSING_KEY),
# output the Override (OVERRIDE_KEY), in the pipeline's context.
OVERRIDE_TYPE = "glassbox.Override"
OVERRIDE_EXECUTION_TYPE = "glassbox.RecordOverride"
OVERRIDE_KEY = "override"
# The Validator's optional input: every Override of its pipeline.
OVERRIDES_KEY = "overrides"
# A monitoring of a pushed model on a data span (`glassbox monitor`): inputs the Model
# (MODEL_KEY) and the span's Examples (EXAMPLES_KEY), outputs a ModelEvaluation (EVALUATION_KEY,
# with SPAN_PROPERTY) and a glassbox.ValidationResult (VALIDATION_KEY); the execution records the
# span and whether every check passed (PASSED_PROPERTY).
MONITOR_EXECUTION_TYPE = "glassbox.Monitor"
# ML Metadata context types: TFX's pipeline and run contexts, and the pipeline context Kubeflow
# Pipelines (KFP) records, where a TFX artifact type is named by its schema title, e.g. tfx.Model.
PIPELINE_CONTEXT_TYPE = "pipeline"
PIPELINE_RUN_CONTEXT_TYPE = "pipeline_run"
KFP_PIPELINE_CONTEXT_TYPE = "system.Pipeline"
# The ML Metadata execution type of a KFP v2 container task (what KFP's launcher records).
KFP_CONTAINER_EXECUTION_TYPE = "system.ContainerExecution"
KFP_TFX_TYPE_PREFIX = "tfx."
# The ML Metadata execution types (as TFX's local runners record a component: its class path) of
# the components that output a ModelBlessing as BLESSING_KEY: the glassbox Validator and Evaluator,
# and TFX's Evaluator. A blessing no completed execution of these output may be forged.
BLESSING_EXECUTION_TYPES = (
    "glassbox.components.validator.component.Validator",
    "glassbox.components.evaluator.component.Evaluator",
    "tfx.components.evaluator.component.Evaluator",
)

# Files of an evaluation (TFMA's names where TFMA reads them).
EVAL_CONFIG_FILE = "eval_config.json"
# How Beam's WriteToTFRecord, which TFMA's writer uses, names the single shard of an output.
TFMA_SINGLE_SHARD_SUFFIX = "-00000-of-00001.tfrecord"
EXPLANATIONS_FILE = "explanations.json"
EXPLANATION_SUMMARY_FILE = "explanation_summary.json"
SURROGATE_FILE = "surrogate.json"
IMAGE_EXPLANATIONS_FILE = "image_explanations.json"
IMAGE_MAPS_FILE = "image_maps.npz"
TEXT_EXPLANATIONS_FILE = "text_explanations.json"
# The ExplainConfig methods (Method's fields) whose results are those files' heat maps and token
# attributions (glassbox.explain.methods registers them; the attribution gates name them).
IMAGE_METHODS = (
    "image_integrated_gradients",
    "smooth_grad",
    "occlusion",
    "grad_cam",
    "superpixel_shapley",
)
TEXT_METHODS = ("token_occlusion", "token_shapley", "text_integrated_gradients")
PARTIAL_DEPENDENCE_FILE = "partial_dependence.json"
# Drift: the summaries of the evaluated data's features and predictions per slice (a later
# evaluation's reference), and their distances from a reference's.
DRIFT_SKETCHES_FILE = "drift_sketches.json"
DRIFT_FILE = "drift.json"
# The "simpler model" check: simple interpretable models against the candidate on held-out examples.
SIMPLE_MODEL_FILE = "simple_model.json"
# Records read from the example files and examples that reached the metrics (count reconciliation).
EXAMPLES_READ_FILE = "examples_read.json"
# Files of a validation: TFMA's ValidationResult, and the decision.
VALIDATIONS_FILE = "validations.tfrecord"
DECISION_JSON_FILE = "decision.json"
DECISION_MARKDOWN_FILE = "decision.md"
# The HTML report of an evaluation or a validation, in its directory.
REPORT_FILE = "report.html"
# Where a KFP v1 step writes the UI metadata that shows a report in the run's Visualizations tab.
KFP_UI_METADATA_PATH = "/mlpipeline-ui-metadata.json"
# A model card's files.
MODEL_CARD_JSON_FILE = "model_card.json"
MODEL_CARD_MARKDOWN_FILE = "model_card.md"
MODEL_CARD_HTML_FILE = "model_card.html"
# The Evaluator's blessing holds the validation it ran inline (with thresholds) in this directory.
EVALUATOR_VALIDATION_DIR = "validation"
# A ModelBlessing's verdict: an empty file of one of these names (the stock Pusher reads it).
BLESSED_FILE = "BLESSED"
NOT_BLESSED_FILE = "NOT_BLESSED"
# Staging directories of unfinished writes start so.
INCOMPLETE_PREFIX = ".incomplete-"

# Custom properties of a ModelEvaluation: the overall slice's scalar metrics of the candidate
# (e.g. overall_auc), the splits evaluated, and the models evaluated (named as the stock
# Evaluator names them on its ModelBlessing).
OVERALL_METRIC_PREFIX = "overall_"
EXAMPLE_SPLITS_PROPERTY = "example_splits"
# A TFX Examples artifact's data span; glassbox monitor's evaluations and executions record it too.
SPAN_PROPERTY = "span"
# Whether a monitoring's checks all passed (1) or not (0).
PASSED_PROPERTY = "passed"
CURRENT_MODEL_PROPERTY = "current_model"
CURRENT_MODEL_ID_PROPERTY = "current_model_id"
BASELINE_MODEL_PROPERTY = "baseline_model"
BASELINE_MODEL_ID_PROPERTY = "baseline_model_id"

# Custom properties of a ModelBlessing: TFX's (the Pusher and resolvers read `blessed`), the
# models (above), and glassbox's decision in brief (decision.json has it all).
BLESSED_PROPERTY = "blessed"
VALIDATION_OK_PROPERTY = "validation_ok"
RUBBER_STAMP_PROPERTY = "rubber_stamp"
FAILURES_PROPERTY = "failures"
REASON_PROPERTY = "reason"
# ... and whether a person's Override set `blessed` (1) or the checks did (0); with an Override,
# its author, reason and ML Metadata id (the checks stay in validation_ok, failures, decision.json).
OVERRIDDEN_PROPERTY = "overridden"
OVERRIDE_BY_PROPERTY = "override_by"
OVERRIDE_REASON_PROPERTY = "override_reason"
OVERRIDE_ID_PROPERTY = "override_id"

# Custom properties of an Override: the Model's id and URI, approved (1) or vetoed (0), why, by
# whom, when (ISO 8601, UTC), and the id of the ModelBlessing it overrides (absent: none yet).
OVERRIDE_MODEL_ID_PROPERTY = "model_id"
OVERRIDE_MODEL_URI_PROPERTY = "model_uri"
OVERRIDE_APPROVED_PROPERTY = "approved"
# (and REASON_PROPERTY)
OVERRIDE_AUTHOR_PROPERTY = "by"
OVERRIDE_TIME_PROPERTY = "time"
OVERRIDDEN_BLESSING_ID_PROPERTY = "overridden_blessing_id"

# Custom properties of the stock Pusher's PushedModel (private names of its executor).
PUSHED_PROPERTY = "pushed"
PUSHED_DESTINATION_PROPERTY = "pushed_destination"

# Custom properties of the BaselineResolver's Model. With a baseline (a copy of the blessed
# Model): the blessed Model's URI, MLMD id and its ModelBlessing's id, as strings (KFP would store
# ints as doubles). Without one: why not; such a Model holds no model, and the Evaluator and
# Validator take it as no baseline (KFP cannot pass "no artifact").
RESOLVED_MODEL_URI_PROPERTY = "resolved_model_uri"
RESOLVED_MODEL_ID_PROPERTY = "resolved_model_id"
RESOLVED_BLESSING_ID_PROPERTY = "resolved_blessing_id"
NO_BASELINE_PROPERTY = "glassbox_no_baseline"
# Set on the Model a local baseline step outputs in place of a baseline it refused (a Model with no
# model): why. The Evaluator and Validator then fail, naming the reason. (TFX's local runners go on
# after a failed resolver node, its consumers given no baseline, so the step cannot just fail.)
BASELINE_REFUSED_PROPERTY = "glassbox_baseline_refused"
