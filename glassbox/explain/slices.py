"""Slices of the explained rows, as the global explanations (permutation importance, global
surrogate) report per slice: boolean row masks keyed by TFMA's slice strings."""

from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np

from glassbox.explain.errors import ExplanationError

# TFMA's string for the overall slice (slicer_lib.stringify_slice_key(())).
OVERALL = "Overall"


def slice_masks(slices: Optional[Mapping[str, np.ndarray]], num_rows: int) -> Dict[str, np.ndarray]:
    """The slices as boolean masks of num_rows rows; None: the overall slice alone.

    Raises:
      ExplanationError: a mask that is not boolean or not of num_rows rows (named by its slice).
    """
    if slices is None:
        return {OVERALL: np.ones(num_rows, dtype=bool)}
    masks = {}
    for name, mask in slices.items():
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != (num_rows,):
            raise ExplanationError(
                f"slice {name!r}: its mask must be a boolean array of shape ({num_rows},) "
                f"(one entry per row), got {mask.dtype} of shape {mask.shape}"
            )
        masks[name] = mask
    return masks
