"""What if: each model's prediction of a row and of the row with some features changed, for any
values and any number of changes at once (the report's what-if control offers one feature at a
time, at the grid values of partial dependence, from scores computed in the evaluation).

Each model is scored through the same model function as the explanations (SavedModelFunction:
the serving signature, a tf.Example-parsing one fed encoded rows), one call for both rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Optional

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import SavedModelFunction


@dataclasses.dataclass(frozen=True)
class WhatIf:
    """A row, the row changed, and each model's score of both, by the names the models were given."""

    row: Dict[str, Any]
    changed: Dict[str, Any]
    original: Dict[str, float]
    predictions: Dict[str, float]

    @property
    def change(self) -> Dict[str, float]:
        """Each model's score of the changed row less its score of the row."""
        return {name: self.predictions[name] - self.original[name] for name in self.predictions}


def what_if(
    models: Mapping[str, str],
    row: Mapping[str, Any],
    changes: Mapping[str, Any],
    signature_name: str = "",
    output_key: str = "",
    class_index: Optional[int] = None,
) -> WhatIf:
    """Each model's score of row and of row with changes applied.

    Args:
      models: model directories (a SavedModel or a TFX Model artifact's URI) by name, e.g.
        ``{"candidate": ..., "baseline": ...}``.
      row: the raw feature values of one example (numbers, str or bytes), e.g. a row's
        ``"features"`` in explanations.json.
      changes: the features to change and their new values.
      signature_name, output_key, class_index: the score, as ExplainConfig.model_output names it.

    Raises:
      ExplanationError: no model, a change naming a feature the row lacks, a feature a model
        takes that the row lacks, a value that is not a number, str or bytes, or a score that is
        not one number per row.
      ModelLoadError / SignatureError / MissingFeatureError / FeatureTypeError: see
        SavedModelFunction.
    """
    if not models:
        raise ExplanationError("what_if needs at least one model directory")
    unknown = sorted(set(changes) - set(row))
    if unknown:
        raise ExplanationError(
            f"what_if changes {unknown}, which the row does not hold; it has {sorted(row)}"
        )
    changed = {**row, **changes}
    for name, value in changed.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str, bytes, np.generic)):
            raise ExplanationError(
                f"what_if: feature {name!r} is {value!r}; a value is a number, str or bytes"
            )
    columns = {name: _column(row[name], changed[name]) for name in row}
    scores = {}
    for name, model_dir in models.items():
        function = SavedModelFunction(model_dir, signature_name, output_key, class_index)
        missing = sorted(set(function.features or ()) - set(columns))
        if missing:
            raise ExplanationError(
                f"what_if: model {name!r} ({model_dir}) takes features {missing}, which the row "
                "does not hold"
            )
        own = columns if function.features is None else {f: columns[f] for f in function.features}
        scores[name] = function(own)
    return WhatIf(
        dict(row),
        changed,
        {name: float(s[0]) for name, s in scores.items()},
        {name: float(s[1]) for name, s in scores.items()},
    )


def _column(before: Any, after: Any) -> np.ndarray:
    """The two values as one column (the row's, then the changed row's)."""
    values = [v.encode("utf-8") if isinstance(v, str) else v for v in (before, after)]
    return np.array(values, dtype=object) if isinstance(values[0], bytes) else np.array(values)
