"""An evaluation directory's contents as plain values, read as a user's tools read them.

``evaluation_values`` reads the metrics, plots and attributions with TFMA's own loaders, keyed by
slice and by metric or plot key (file order and sharding do not matter), and the explanation
files as JSON; `tfma_reference.assert_equivalent` compares two such readings value by value.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Iterable

from google.protobuf import json_format, text_format
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox import keys


def _proto_value(entry: Any) -> Any:
    return json_format.MessageToDict(entry.value)


def _attribution_values(entry: Any) -> Dict[str, float]:
    return {feature: value.double_value.value for feature, value in entry.values.items()}


# Per TFMA output: its loader, the field listing a slice's entries, an entry's value.
_TFMA_OUTPUTS = {
    "metrics": (
        mpv_writer.load_and_deserialize_metrics,
        "metric_keys_and_values",
        _proto_value,
    ),
    "plots": (mpv_writer.load_and_deserialize_plots, "plot_keys_and_values", _proto_value),
    "attributions": (
        mpv_writer.load_and_deserialize_attributions,
        "attributions_keys_and_values",
        _attribution_values,
    ),
}
EXPLANATION_FILES = (keys.EXPLANATIONS_FILE, keys.EXPLANATION_SUMMARY_FILE, keys.SURROGATE_FILE)


def _by_slice(
    records: Iterable[Any], field: str, value: Callable[[Any], Any]
) -> Dict[str, Dict[str, Any]]:
    result: Dict[str, Dict[str, Any]] = {}
    for record in records:
        name = slicer_lib.stringify_slice_key(slicer_lib.deserialize_slice_key(record.slice_key))
        assert name not in result, f"slice {name} written twice"
        entries = {
            text_format.MessageToString(entry.key, as_one_line=True): value(entry)
            for entry in getattr(record, field)
        }
        assert len(entries) == len(getattr(record, field)), f"{name}: a key written twice"
        result[name] = entries
    return result


def evaluation_values(evaluation_dir: str) -> Dict[str, Any]:
    """{'metrics' | 'plots' | 'attributions': {slice: {key: value}}, explanation file: JSON}."""
    values: Dict[str, Any] = {}
    for output, (load, field, value) in _TFMA_OUTPUTS.items():
        values[output] = _by_slice(load(evaluation_dir), field, value)
    for name in EXPLANATION_FILES:
        with open(os.path.join(evaluation_dir, name)) as f:
            values[name] = json.load(f)
    return values
