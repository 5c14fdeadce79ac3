"""Attributions over a model's raw input features (Shapley values, integrated gradients, local and
global surrogates, permutation importance), on a shared model-function contract:
``f(columns: Mapping[str, np.ndarray]) -> np.ndarray`` of one float score per row."""
