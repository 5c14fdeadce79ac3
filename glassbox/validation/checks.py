"""A check: one threshold or gate applied to one metric on one slice, passed or failed, in one sentence."""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any, Dict, Optional, Tuple, Union

from google.protobuf import json_format, message
from tensorflow_model_analysis.proto import config_pb2

from glassbox.tfma_keys import MetricKey
from glassbox.validation.reader import SliceKey

VALUE_THRESHOLD = "value_threshold"
CHANGE_THRESHOLD = "change_threshold"
MIN_EXAMPLE_COUNT = "min_example_count"
SLICE_GAP = "slice_gap"
SIGNIFICANCE = "significance"
MISSING_SLICE = "missing_slice"
MISSING_METRIC = "missing_metric"
ATTRIBUTION = "attribution"
DRIFT = "drift"
SIMPLE_MODEL = "simple_model"
# The policy's verdict when every configured check was skipped (ValidatorConfig.no_applicable_checks).
NO_APPLICABLE_CHECK = "no_applicable_check"
# Results of one subtraction or division are within a few units in the last place of the exact ones.
_ROUNDING_ULPS = 4


@dataclasses.dataclass(frozen=True)
class Check:
    """One line of the decision (decision.json's `checks`), plus what TFMA's ValidationResult needs.

    A skipped check (e.g. a change threshold without a baseline) counts as passed.
    """

    kind: str
    passed: bool
    slice: str
    metric: str
    value: Optional[float]
    baseline_value: Optional[float]
    threshold: Dict[str, Any]
    sentence: str
    skipped: bool = False
    # For the ValidationResult (not in decision.json): the slice or cross slice checked (None when
    # no slice matched), the spec that selected it (None: every slice), the metric key and TFMA's
    # threshold.
    slice_key: Optional[Union[SliceKey, Tuple[SliceKey, SliceKey]]] = None
    slicing_spec: Optional[Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]] = None
    metric_key: Optional[MetricKey] = None
    tfma_threshold: Optional[message.Message] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "passed": self.passed,
            "skipped": self.skipped,
            "slice": self.slice,
            "metric": self.metric,
            "value": _finite_or_none(self.value),
            "baseline_value": _finite_or_none(self.baseline_value),
            "threshold": self.threshold,
            "sentence": self.sentence,
        }


def _finite_or_none(value: Optional[float]) -> Optional[float]:
    """JSON has no NaN or infinity; the sentence states such values."""
    return value if value is not None and math.isfinite(value) else None


def threshold_json(threshold: message.Message) -> Dict[str, Any]:
    """A threshold or gate message as decision.json shows it (proto field names)."""
    return json_format.MessageToDict(threshold, preserving_proto_field_name=True)


def metric_label(key: MetricKey) -> str:
    """A metric key as a reader names it: 'auc', 'precision (topK:3)', 'auc (example-weighted)'."""
    details = [str(part) for part in (key.sub_key, key.aggregation_type) if part]
    if key.example_weighted:
        details.append("example-weighted")
    return f"{key.name} ({', '.join(details)})" if details else key.name


def number(value: Optional[float]) -> str:
    """A number in a sentence: 6 significant digits, 'NaN', 'inf'."""
    if value is None:
        return "none"
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


def signed(value: float) -> str:
    return number(value) if math.isnan(value) or value < 0 else "+" + number(value)


def rounding_tolerance(*operands: float) -> float:
    """How far v_c - v_b or v_c / v_b may be from the exact value by floating-point rounding.

    Comparisons of such results with a bound allow it, so that exact equality at the bound passes
    (0.70 - 0.71 is -0.010000000000000009 in floating point, yet meets an absolute change of -0.01).
    """
    return _ROUNDING_ULPS * sys.float_info.epsilon * max(abs(x) for x in operands)
