"""Exact interventional Shapley values, by enumerating every coalition of the feature groups.

phi_i = sum over coalitions S without i of |S|! (d - |S| - 1)! / d! * (v(S + i) - v(S)), with
v(S) the mean score over the background of the row's values on S (masking.Masker). All 2^d
coalitions of all rows are evaluated in large batched model calls: 2^d x background rows
evaluations per row, so d is kept small (MAX_GROUPS).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from glassbox.explain.attributions import Attributions
from glassbox.explain.errors import ExplanationError
from glassbox.explain.masking import FeatureGroups, Masker, feature_groups
from glassbox.explain.model_function import Columns, ModelFunction

# 2^16 coalitions x 100 background rows = 6.6M model evaluations per explained row.
MAX_GROUPS = 16


def all_coalitions(d: int) -> np.ndarray:
    """(2^d, d) booleans: coalition k holds group i iff bit i of k is set."""
    return (np.arange(2**d)[:, None] >> np.arange(d)) & 1 == 1


def shapley_from_values(values: np.ndarray) -> np.ndarray:
    """(rows, d) Shapley values from (rows, 2^d) values of all_coalitions(d)."""
    d = int(math.log2(values.shape[1]))
    sizes = all_coalitions(d).sum(axis=1)
    weight_of_size = np.array(
        [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)]
    )
    result = np.empty((values.shape[0], d))
    for i in range(d):
        without = np.flatnonzero((np.arange(2**d) >> i) & 1 == 0)
        result[:, i] = (values[:, without | (1 << i)] - values[:, without]) @ weight_of_size[
            sizes[without]
        ]
    return result


def exact_shapley(
    model: ModelFunction,
    rows: Columns,
    background: Columns,
    groups: FeatureGroups = (),
    background_weights: Optional[np.ndarray] = None,
    features: Sequence[str] = (),
) -> Attributions:
    """Exact Shapley values of each row's score over the feature groups (groups and features: see
    masking.feature_groups).

    Each row's values sum to its score minus the background's mean score (exactly: the empty and
    full coalitions are those two numbers); with columns in no group (held at the row's values),
    minus the mean score of the background with the row's held values.

    Raises:
      ExplanationError: more than MAX_GROUPS groups (use kernel_shap), or bad groups/columns.
    """
    groups = feature_groups(rows, groups, features)
    if len(groups) > MAX_GROUPS:
        raise ExplanationError(
            f"exact Shapley values over {len(groups)} feature groups need 2^{len(groups)} "
            f"coalitions per row; at most {MAX_GROUPS} groups, or use KernelSHAP"
        )
    masker = Masker(model, background, groups, background_weights)
    d = len(groups)
    predictions = masker.scores(rows)
    values = np.empty((len(predictions), 2**d))
    values[:, 1:-1] = masker.values(rows, all_coalitions(d)[1:-1])
    values[:, 0] = masker.empty_values(rows) @ masker.weights
    values[:, -1] = predictions
    return Attributions(
        "exact_shapley",
        tuple(name for name, _ in groups),
        shapley_from_values(values),
        predictions,
        float(values[:, 0].mean()),
        np.zeros((len(predictions), d)),
    )
