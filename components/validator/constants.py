"""Keys of the Validator's channels, parameters and artifact properties."""

# Inputs. The candidate is under `model`, as for the stock Evaluator, so that lineage-based
# resolvers (LatestPolicyModel) find the blessing through it.
EVALUATION_KEY = "evaluation"
MODEL_KEY = "model"
BASELINE_MODEL_KEY = "baseline_model"
# Parameters.
EVAL_CONFIG_KEY = "eval_config"
CONFIG_KEY = "config"
# Outputs.
BLESSING_KEY = "blessing"
VALIDATION_KEY = "validation"
# The HTML report of the evaluation with the decision, written into the ValidationResult's dir
# after the validation and before the blessing.
REPORT_FILE_NAME = "report.html"

# The exec property of an Evaluator (ours or the stock one) holding its tfma.EvalConfig.
PRODUCER_EVAL_CONFIG_KEY = "eval_config"

# The ModelBlessing, as the stock Evaluator writes it (tfx.components.evaluator.constants; the
# Pusher and resolvers read these; a test checks they agree, importing them here would load TFMA):
# an empty BLESSED or NOT_BLESSED file and these custom properties ...
BLESSED_FILE_NAME = "BLESSED"
NOT_BLESSED_FILE_NAME = "NOT_BLESSED"
BLESSED_PROPERTY = "blessed"
CURRENT_MODEL_URI_PROPERTY = "current_model"
CURRENT_MODEL_ID_PROPERTY = "current_model_id"
BASELINE_MODEL_URI_PROPERTY = "baseline_model"
BASELINE_MODEL_ID_PROPERTY = "baseline_model_id"
# ... and glassbox's own: the decision in brief (decision.json in `validation` has it all).
VALIDATION_OK_PROPERTY = "validation_ok"
RUBBER_STAMP_PROPERTY = "rubber_stamp"
FAILURES_PROPERTY = "failures"
REASON_PROPERTY = "reason"
