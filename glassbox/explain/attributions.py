"""Attributions of explained rows' scores to feature groups, as every local method returns them."""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Attributions:
    """Per-row attributions.

    Attributes:
      method: how they were computed, e.g. 'exact_shapley', 'kernel_shap'.
      groups: the attributed feature groups' names, in column order of ``values``.
      values: (rows, groups) attributions.
      predictions: (rows,) the model's scores of the rows.
      base_value: the background's mean score; for Shapley values, each row's values sum to
        predictions - base_value (with features held at the rows' values, to predictions minus
        the row's own empty-coalition value, whose mean base_value then is).
      standard_errors: (rows, groups) estimated standard error of each value, for sampling
        methods; zeros where the value is exact.
    """

    method: str
    groups: Tuple[str, ...]
    values: np.ndarray
    predictions: np.ndarray
    base_value: float
    standard_errors: Optional[np.ndarray] = None
