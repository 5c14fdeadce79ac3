"""Keys of the Evaluator's channels, parameters and artifact properties."""

# Inputs.
EXAMPLES_KEY = "examples"
MODEL_KEY = "model"
BASELINE_MODEL_KEY = "baseline_model"
SCHEMA_KEY = "schema"
# Parameters.
EVAL_CONFIG_KEY = "eval_config"
EXAMPLE_SPLITS_KEY = "example_splits"
EXPLAIN_CONFIG_KEY = "explain_config"
DEFAULT_EXAMPLE_SPLITS = ("eval",)
# Outputs.
EVALUATION_KEY = "evaluation"
# The evaluation's HTML report, written into the ModelEvaluation's dir once the evaluation is complete.
REPORT_FILE_NAME = "report.html"

# Custom properties of the ModelEvaluation artifact: the overall slice's scalar metrics of the
# candidate, queryable in MLMD as e.g. custom_properties.overall_auc.
OVERALL_METRIC_PROPERTY_PREFIX = "overall_"
EXAMPLE_SPLITS_PROPERTY = "example_splits"
# Custom properties recording which models were evaluated (the Validator checks that the evaluation
# is of the models it is given); named as the stock Evaluator names them on its ModelBlessing.
CANDIDATE_MODEL_URI_PROPERTY = "current_model"
CANDIDATE_MODEL_ID_PROPERTY = "current_model_id"
BASELINE_MODEL_URI_PROPERTY = "baseline_model"
BASELINE_MODEL_ID_PROPERTY = "baseline_model_id"
