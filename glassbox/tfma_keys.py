"""TFMA's metric, plot and attribution keys and its slice keys, read from its protos without
TFMA's Python modules (its metric_types and slicer_lib import TensorFlow and Beam, seconds).

The keys are TFMA's: the same fields, `from_proto`, `to_proto` and text, and equal (and hashing
alike) to TFMA's own MetricKey, PlotKey and AttributionsKey, which compare as tuples. A slice key
is a tuple of (feature, value) pairs, () for the overall slice; a cross slice key is a pair of
slice keys; `slice_label` is TFMA's slice string ('Overall', 'sex_X_age:f_X_5').
"""

from __future__ import annotations

import collections
import functools
import math
from typing import Dict, Iterable, NamedTuple, Optional, Tuple, Union

from google.protobuf import text_format
from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as mfs

SliceKey = Tuple[Tuple[str, Union[str, int, float]], ...]
CrossSliceKey = Tuple[SliceKey, SliceKey]  # (baseline slice, comparison slice)
OVERALL_SLICE_NAME = "Overall"


class SubKey(NamedTuple):
    """A class id, k or top k of a multi-class metric (one of them is set)."""

    class_id: Optional[int] = None
    k: Optional[int] = None
    top_k: Optional[int] = None

    def __str__(self) -> str:
        if self.k is not None:
            return f"k:{self.k}"
        parts = [f"classId:{self.class_id}"] if self.class_id is not None else []
        return " ".join(parts + ([f"topK:{self.top_k}"] if self.top_k is not None else []))

    def to_proto(self) -> mfs.SubKey:
        proto = mfs.SubKey()
        for field in self._fields:
            if getattr(self, field) is not None:
                getattr(proto, field).value = getattr(self, field)
        return proto

    @staticmethod
    def from_proto(proto: mfs.SubKey) -> Optional["SubKey"]:
        values = {f: getattr(proto, f).value for f in SubKey._fields if proto.HasField(f)}
        return SubKey(**values) if values else None


class AggregationType(NamedTuple):
    """A multi-class metric's averaging (one of them is True)."""

    micro_average: Optional[bool] = None
    macro_average: Optional[bool] = None
    weighted_macro_average: Optional[bool] = None

    def __str__(self) -> str:
        if self.micro_average is not None:
            return "micro"
        return "macro" if self.macro_average is not None else "weighted_macro"

    def to_proto(self) -> mfs.AggregationType:
        return mfs.AggregationType(**{f: True for f in self._fields if getattr(self, f)})

    @staticmethod
    def from_proto(proto: mfs.AggregationType) -> Optional["AggregationType"]:
        values = {f: getattr(proto, f) or None for f in AggregationType._fields}
        return AggregationType(**values) if any(values.values()) else None


class MetricKey(NamedTuple):
    """A metric's name, model, output, sub key, aggregation, weighting and whether it is a diff."""

    name: str
    model_name: str = ""
    output_name: str = ""
    sub_key: Optional[SubKey] = None
    aggregation_type: Optional[AggregationType] = None
    example_weighted: Optional[bool] = False
    is_diff: bool = False

    def __str__(self) -> str:
        return text_format.MessageToString(self.to_proto(), as_one_line=True, force_colon=True)

    def to_proto(self):
        proto = self._proto_type()
        for field in ("name", "model_name", "output_name"):
            if getattr(self, field):
                setattr(proto, field, getattr(self, field))
        if self.sub_key:
            proto.sub_key.CopyFrom(self.sub_key.to_proto())
        if self.aggregation_type and "aggregation_type" in proto.DESCRIPTOR.fields_by_name:
            proto.aggregation_type.CopyFrom(self.aggregation_type.to_proto())
        if self.example_weighted is not None:
            proto.example_weighted.value = self.example_weighted
        if self.is_diff and "is_diff" in proto.DESCRIPTOR.fields_by_name:
            proto.is_diff = self.is_diff
        return proto

    @classmethod
    def from_proto(cls, proto):
        # An evaluation's records repeat a few keys in every slice (9 x 40,000 at 40,000 slices).
        return _key_from_serialized(cls, type(proto), proto.SerializeToString(deterministic=True))

    @classmethod
    def _from_proto(cls, proto):
        fields = proto.DESCRIPTOR.fields_by_name
        return cls(
            name=proto.name,
            model_name=proto.model_name,
            output_name=proto.output_name,
            sub_key=SubKey.from_proto(proto.sub_key),
            aggregation_type=(
                AggregationType.from_proto(proto.aggregation_type)
                if "aggregation_type" in fields
                else None
            ),
            example_weighted=(
                proto.example_weighted.value if proto.HasField("example_weighted") else None
            ),
            is_diff=proto.is_diff if "is_diff" in fields else False,
        )

    def make_diff_key(self) -> "MetricKey":
        return self._replace(is_diff=True)

    def make_baseline_key(self, model_name: str) -> "MetricKey":
        return self._replace(model_name=model_name, is_diff=False)

    _proto_type = mfs.MetricKey


@functools.lru_cache(maxsize=4096)
def _key_from_serialized(key_type: type, proto_type: type, serialized: bytes) -> MetricKey:
    return key_type._from_proto(proto_type.FromString(serialized))


class PlotKey(MetricKey):
    """A plot's key (TFMA's PlotKey proto has no aggregation type nor diff)."""

    __slots__ = ()
    _proto_type = mfs.PlotKey


class AttributionsKey(MetricKey):
    """An attributions metric's key (TFMA's AttributionsKey proto has no aggregation type)."""

    __slots__ = ()
    _proto_type = mfs.AttributionsKey


def slice_key(proto: mfs.SliceKey) -> SliceKey:
    """TFMA's SliceKey proto as a slice key (bytes values decoded as UTF-8, as TFMA does)."""
    result = []
    for part in proto.single_slice_keys:
        kind = part.WhichOneof("kind")
        if kind is None:
            raise ValueError(f"slice key {proto} has a column {part.column!r} without a value")
        value = getattr(part, kind)
        result.append((part.column, value.decode("utf-8") if isinstance(value, bytes) else value))
    return tuple(result)


def cross_slice_key(proto: mfs.CrossSliceKey) -> CrossSliceKey:
    return slice_key(proto.baseline_slice_key), slice_key(proto.comparison_slice_key)


def slice_key_proto(key: SliceKey) -> mfs.SliceKey:
    """A slice key as TFMA's SliceKey proto (slicer_lib.serialize_slice_key)."""
    proto = mfs.SliceKey()
    for column, value in key:
        part = proto.single_slice_keys.add(column=column)
        if isinstance(value, (bytes, str)):
            part.bytes_value = value.encode("utf-8") if isinstance(value, str) else value
        elif isinstance(value, int):
            part.int64_value = value
        elif isinstance(value, float):
            part.float_value = value
        else:
            raise TypeError(f"unrecognized type of type {type(value)}, value {value}")
    return proto


def cross_slice_key_proto(key: CrossSliceKey) -> mfs.CrossSliceKey:
    """A cross slice key as TFMA's CrossSliceKey proto (slicer_lib.serialize_cross_slice_key)."""
    baseline, comparison = key
    return mfs.CrossSliceKey(
        baseline_slice_key=slice_key_proto(baseline),
        comparison_slice_key=slice_key_proto(comparison),
    )


def is_cross_slice_key(key: Union[SliceKey, CrossSliceKey]) -> bool:
    """Whether key is a pair of slice keys (a slice key's parts are (feature, value) pairs)."""
    return len(key) == 2 and all(
        isinstance(part, tuple) and all(isinstance(p, tuple) for p in part) for part in key
    )


def slice_label(key: Union[SliceKey, CrossSliceKey]) -> str:
    """TFMA's slice string: 'Overall', 'occupation:teacher', 'a_X_b:x_X_y'; for a cross slice,
    'Overall minus occupation:teacher' (its values are the first slice's minus the second's)."""
    if is_cross_slice_key(key):
        baseline, comparison = key
        return f"{slice_label(baseline)} minus {slice_label(comparison)}"
    if not key:
        return OVERALL_SLICE_NAME
    return "_X_".join(str(f) for f, _ in key) + ":" + "_X_".join(str(v) for _, v in key)


def headline_metrics(
    values: Iterable[Tuple[MetricKey, float]], model_name: str
) -> Dict[str, float]:
    """One model's scalar metric values by name, from (key, value) pairs of a slice.

    Keys are metric names, with '_weighted' appended where the weighted and unweighted variants
    both exist and 'diff_' prepended for differences to the baseline. Metrics with a sub key
    (class or top-k) and NaN values are left out: these are headlines, the artifact holds everything.
    """
    found: Dict[Tuple[str, bool], float] = {}
    for key, value in values:
        if not key.sub_key and key.model_name == model_name and not math.isnan(value):
            found[(("diff_" if key.is_diff else "") + key.name, key.example_weighted)] = value
    names = collections.Counter(name for name, _ in found)
    return {
        f"{name}_weighted" if weighted and names[name] > 1 else name: value
        for (name, weighted), value in found.items()
    }
