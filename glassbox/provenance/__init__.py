"""A pipeline's record read back from ML Metadata: the metric history of its evaluations
(`history`) and the decision trail of a model, from its training data to its push (`trail`)."""
