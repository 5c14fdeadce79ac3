"""Shapley values as an ExplainConfig's ``Shapley`` method asks: exact when the groups are few,
paired KernelSHAP beyond."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from glassbox.explain import exact_shapley, kernel_shap
from glassbox.explain.attributions import Attributions
from glassbox.explain.errors import ExplanationError
from glassbox.explain.masking import FeatureGroups, feature_groups
from glassbox.explain.model_function import Columns, ModelFunction
from glassbox.protos.explain_config_pb2 import Shapley

DEFAULT_MAX_EXACT_FEATURES = 12


def shapley_values(
    model: ModelFunction,
    rows: Columns,
    background: Columns,
    groups: FeatureGroups = (),
    config: Optional[Shapley] = None,
    seed: int = 0,
    background_weights: Optional[np.ndarray] = None,
    features: Sequence[str] = (),
) -> Attributions:
    """Shapley values of each row by config's algorithm (default: AUTO, 2048 coalitions) over the
    groups and features attributed (see masking.feature_groups).

    Raises:
      ExplanationError: a config field out of range (named), or bad groups/columns.
    """
    config = config if config is not None else Shapley()
    max_exact = config.max_exact_features or DEFAULT_MAX_EXACT_FEATURES
    if max_exact > exact_shapley.MAX_GROUPS:
        raise ExplanationError(
            f"Shapley.max_exact_features is {max_exact}; at most {exact_shapley.MAX_GROUPS}"
        )
    algorithm = config.algorithm
    if algorithm in (Shapley.ALGORITHM_UNSPECIFIED, Shapley.AUTO):
        exact = len(feature_groups(rows, groups, features)) <= max_exact
        algorithm = Shapley.EXACT if exact else Shapley.KERNEL
    if algorithm == Shapley.EXACT:
        return exact_shapley.exact_shapley(
            model, rows, background, groups, background_weights, features
        )
    return kernel_shap.kernel_shap(
        model,
        rows,
        background,
        groups,
        config.num_coalitions or kernel_shap.DEFAULT_NUM_COALITIONS,
        seed,
        background_weights,
        features,
    )
