"""TFMA-format evaluation outputs, read with TFMA's own loaders, as flat maps that compare key by key.

Two views of an output directory:
  ``load_flat``       every metric and plot value under its full TFMA key (MetricKey/PlotKey
                      fields), from the protos as TFMA's loaders deserialize them;
  ``load_view_flat``  what ``tfma.load_eval_result`` shows users, per model. That view is lossy
                      (e.g. plots of one sub key but different aggregation types overwrite each
                      other), so parity is judged on ``load_flat``; the view proves TFMA's loader
                      reads an output the way it reads its own.
"""

from __future__ import annotations

import math
from typing import Any, Dict, NamedTuple, Optional, Tuple

from google.protobuf import json_format, text_format

# (kind, slice key, Id, ...leaf path) for load_flat; kind is 'metrics' or 'plots'; the slice key
# of a cross slice is (baseline slice key, comparison slice key).
FlatKey = Tuple[Any, ...]
Flat = Dict[FlatKey, Any]


class Id(NamedTuple):
    """A MetricKey or PlotKey, hashable; sub_key and aggregation_type as one-line text protos."""

    name: str
    model_name: str
    output_name: str
    sub_key: str
    aggregation_type: str
    example_weighted: Optional[bool]
    is_diff: bool


def load_flat(output_dir: str) -> Flat:
    """Every metric and plot leaf of a TFMA-format output directory, keyed by TFMA's full keys.

    Leaves are protobuf JSON values: numbers, and strings for int64 fields and non-finite
    doubles ('NaN', 'Infinity').
    """
    from tensorflow_model_analysis.slicer import slicer_lib
    from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as writer

    flat: Flat = {}
    for kind, records, entries in (
        ("metrics", writer.load_and_deserialize_metrics(output_dir), "metric_keys_and_values"),
        ("plots", writer.load_and_deserialize_plots(output_dir), "plot_keys_and_values"),
    ):
        for record in records:
            slice_key = (
                slicer_lib.deserialize_cross_slice_key(record.cross_slice_key)
                if record.HasField("cross_slice_key")
                else slicer_lib.deserialize_slice_key(record.slice_key)
            )
            for entry in getattr(record, entries):
                values = json_format.MessageToDict(entry)
                del values["key"]
                _flatten((kind, slice_key, _id(entry.key)), values, flat)
    return flat


def load_view_flat(output_dir: str) -> Flat:
    """``tfma.load_eval_result``'s metrics and plots for each model the output names, flattened:
    (kind, slice key, model name, output name, sub key, metric or plot field, ...leaf path)."""
    from tensorflow_model_analysis.api import model_eval_lib
    from tensorflow_model_analysis.writers import eval_config_writer

    _, _, _, model_locations = eval_config_writer.load_eval_run(output_dir)
    flat: Flat = {}
    for model_name in list(model_locations) or [""]:
        result = model_eval_lib.load_eval_result(output_dir, model_name=model_name)
        for kind, per_slice in (("metrics", result.slicing_metrics), ("plots", result.plots)):
            for slice_key, by_output in per_slice or ():
                _flatten((kind, slice_key, model_name), by_output, flat)
    return flat


def mismatches(
    expected: Flat, actual: Flat, rtol: float = 1e-4, atol: float = 1e-7
) -> Dict[FlatKey, Tuple[Any, Any]]:
    """Keys whose values differ, as (expected, actual); None stands for a key on one side only.

    Numbers match within |a - e| <= atol + rtol * |e|; any other leaf must be equal.
    """
    return {
        key: (expected.get(key), actual.get(key))
        for key in expected.keys() | actual.keys()
        if not _close(expected.get(key), actual.get(key), rtol, atol)
    }


def max_relative_difference(expected: Flat, actual: Flat) -> float:
    """The largest |a - e| / max(|a|, |e|) over the numeric keys both sides have."""
    return max(
        (
            abs(a - e) / max(abs(a), abs(e))
            for key, e in expected.items()
            if _is_number(e) and _is_number(a := actual.get(key)) and a != e
        ),
        default=0.0,
    )


def _id(key) -> Id:
    def one_line(field: str) -> str:
        return (
            text_format.MessageToString(getattr(key, field), as_one_line=True)
            if key.HasField(field)
            else ""
        )

    return Id(
        key.name,
        key.model_name,
        key.output_name,
        one_line("sub_key"),
        one_line("aggregation_type") if hasattr(key, "aggregation_type") else "",
        key.example_weighted.value if key.HasField("example_weighted") else None,
        getattr(key, "is_diff", False),
    )


def _flatten(prefix: FlatKey, value: Any, flat: Flat) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _flatten(prefix + (name,), item, flat)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(prefix + (i,), item, flat)
    else:
        flat[prefix] = value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _close(expected: Any, actual: Any, rtol: float, atol: float) -> bool:
    if _is_number(expected) and _is_number(actual):
        return math.isclose(actual, expected, rel_tol=0.0, abs_tol=atol + rtol * abs(expected))
    return expected == actual
