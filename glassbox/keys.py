"""Every name glassbox shares with TFX, TFMA, ML Metadata and itself, in one import-free place.

Channel keys, parameter keys, custom property names, artifact type names and file names, as
TFX's ``types/standard_component_specs.py`` keeps its own. Importing this module imports nothing,
so the CLI, ML Metadata readers and reports use the names without loading TensorFlow, TFX or TFMA.
Where a name is TFX's or TFMA's, it is spelt as they spell it (tests/test_keys.py checks it).
"""

# Channel keys of the Evaluator, Validator, Trainer, BaselineResolver and the stock Pusher.
EXAMPLES_KEY = "examples"
MODEL_KEY = "model"
BASELINE_MODEL_KEY = "baseline_model"
SCHEMA_KEY = "schema"
EVALUATION_KEY = "evaluation"
BLESSING_KEY = "blessing"
VALIDATION_KEY = "validation"
# The stock Pusher's input of the blessing.
MODEL_BLESSING_KEY = "model_blessing"

# Parameter keys.
EVAL_CONFIG_KEY = "eval_config"
EXAMPLE_SPLITS_KEY = "example_splits"
EXPLAIN_CONFIG_KEY = "explain_config"
VALIDATOR_CONFIG_KEY = "config"
PIPELINE_NAME_KEY = "pipeline_name"

# The split the stock Evaluator evaluates when it is given none.
DEFAULT_EXAMPLE_SPLITS = ("eval",)
# The Trainer trains on this split of its examples.
TRAIN_SPLIT = "train"

# Artifact type names: TFX's standard artifacts and glassbox's own.
EXAMPLES_TYPE = "Examples"
MODEL_TYPE = "Model"
SCHEMA_TYPE = "Schema"
MODEL_EVALUATION_TYPE = "ModelEvaluation"
MODEL_BLESSING_TYPE = "ModelBlessing"
PUSHED_MODEL_TYPE = "PushedModel"
VALIDATION_RESULT_TYPE = "glassbox.ValidationResult"

# Files of an evaluation (TFMA's names where TFMA reads them).
EVAL_CONFIG_FILE = "eval_config.json"
EXPLANATIONS_FILE = "explanations.json"
EXPLANATION_SUMMARY_FILE = "explanation_summary.json"
SURROGATE_FILE = "surrogate.json"
# Files of a validation: TFMA's ValidationResult, and the decision.
VALIDATIONS_FILE = "validations.tfrecord"
DECISION_JSON_FILE = "decision.json"
DECISION_MARKDOWN_FILE = "decision.md"
# The HTML report of an evaluation or a validation, in its directory.
REPORT_FILE = "report.html"
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

# Custom properties of the stock Pusher's PushedModel.
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
