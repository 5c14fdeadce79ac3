"""Keys of the BaselineResolver's parameter, output and artifact properties."""

# Parameters: the pipeline whose blessed Models are looked up (its ML Metadata context's name).
PIPELINE_NAME_KEY = "pipeline_name"
# Outputs.
MODEL_KEY = "model"

# Custom properties of the output Model. With a baseline (a copy of the blessed Model): the blessed
# Model's URI and MLMD id and its ModelBlessing's id, as strings (KFP would store ints as doubles).
RESOLVED_MODEL_URI_PROPERTY = "resolved_model_uri"
RESOLVED_MODEL_ID_PROPERTY = "resolved_model_id"
RESOLVED_BLESSING_ID_PROPERTY = "resolved_blessing_id"
# Without one (nothing blessed yet): why not. A Model with this property holds no model; the
# glassbox Evaluator and Validator take it as no baseline (KFP cannot pass "no artifact").
NO_BASELINE_PROPERTY = "glassbox_no_baseline"
