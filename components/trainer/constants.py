"""Keys of the Trainer's channels and parameters."""

# Inputs.
EXAMPLES_KEY = "examples"
# The split of `examples` the model is trained on.
TRAIN_SPLIT = "train"
# Parameters: the fields of glassbox.training.config.TrainingConfig.
LABEL_KEY = "label"
NUMERIC_FEATURES_KEY = "numeric_features"
CATEGORICAL_FEATURES_KEY = "categorical_features"
HIDDEN_UNITS_KEY = "hidden_units"
EPOCHS_KEY = "epochs"
BATCH_SIZE_KEY = "batch_size"
LEARNING_RATE_KEY = "learning_rate"
SEED_KEY = "seed"
# Outputs.
MODEL_KEY = "model"
