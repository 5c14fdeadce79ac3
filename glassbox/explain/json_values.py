"""Numbers as the explanations' JSON holds them: JSON has no NaN or infinity, so an undefined value
(e.g. a metric on a slice with one class) is null."""

from __future__ import annotations

from typing import Optional

import numpy as np


def finite_or_none(value: float) -> Optional[float]:
    """value as a Python float, or None when it is NaN or infinite."""
    return float(value) if np.isfinite(value) else None
