"""Mergeable sketches of one feature's (or the predictions') values, and their summaries.

Numeric values go into tfx_bsl's QuantilesSketch (weighted quantiles, rank error at most
QUANTILES_EPSILON times the count), categorical ones into its Misra-Gries sketch (the top values'
counts, each within count / num_top_values of the true count; exact when a feature has no more
values than num_top_values). Both merge in any order, so Beam may combine them as it likes.
"""

from __future__ import annotations

from typing import Dict, Optional, Union

import numpy as np
import pyarrow as pa
from tfx_bsl import sketches

from glassbox.drift.distances import CATEGORICAL, NUMERIC

# The quantile sketch's rank error, as a fraction of the values counted.
QUANTILES_EPSILON = 1e-3
# The quantile sketch's bound on the values it may count (its memory grows with the log of it).
MAX_VALUES = 1 << 40

Values = Union[np.ndarray, pa.Array]


class Sketch:
    """One feature's values in one slice: ``add`` values, ``merge`` another, then ``summary``."""

    def __init__(self, kind: str, num_quantiles: int, num_top_values: int):
        self.kind = kind
        self.count = 0
        self._num_quantiles = num_quantiles
        if kind == NUMERIC:
            self._sketch = sketches.QuantilesSketch(QUANTILES_EPSILON, MAX_VALUES, 1)
        else:
            self._sketch = sketches.MisraGriesSketch(num_top_values)

    def add(self, values: Values) -> "Sketch":
        """Counts values: float64 numbers (numeric) or an Arrow array of strings (categorical)."""
        if len(values):
            self._sketch.AddValues(pa.array(values) if self.kind == NUMERIC else values)
            self.count += len(values)
        return self

    def merge(self, other: "Sketch") -> "Sketch":
        self._sketch.Merge(other._sketch)
        self.count += other.count
        return self

    def compact(self) -> "Sketch":
        if self.kind == NUMERIC:
            self._sketch.Compact()
        return self

    def summary(self) -> Optional[Dict]:
        """{kind, count, points (numeric: the quantiles at (i + 0.5) / K, an array) or values
        (categorical: top value -> count) and other (the rest's count)}; None if nothing counted."""
        if not self.count:
            return None
        if self.kind == NUMERIC:
            # Quantiles at j / 2K: the odd j are (i + 0.5) / K.
            quantiles = self._sketch.GetQuantiles(2 * self._num_quantiles).flatten()
            points = np.asarray(quantiles)[1::2]
            return {"kind": NUMERIC, "count": self.count, "points": points}
        estimate = self._sketch.Estimate()
        values = {
            value.decode("utf-8", "replace"): int(count)
            for value, count in zip(
                estimate.field("values").to_pylist(), estimate.field("counts").to_pylist()
            )
        }
        return {
            "kind": CATEGORICAL,
            "count": self.count,
            "values": values,
            "other": max(self.count - sum(values.values()), 0),
        }
