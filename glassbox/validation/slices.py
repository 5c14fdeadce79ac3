"""Which slices of an evaluation a threshold or gate applies to, matched as TFMA's slicer_lib
matches them (its SingleSliceSpec, is_cross_slice_applicable; it imports TensorFlow and Beam)."""

from __future__ import annotations

from typing import Callable, FrozenSet, Hashable, List, Optional, Tuple, Union

from tensorflow_model_analysis.proto import config_pb2

from glassbox.protos import validator_config_pb2
from glassbox.tfma_keys import SliceKey
from glassbox.validation.reader import Evaluation, SliceMetrics, slice_label

Value = Union[str, int, float]


def tfma_spec(spec: validator_config_pb2.SlicingSpec) -> config_pb2.SlicingSpec:
    """Our SlicingSpec (same fields) as TFMA's."""
    return config_pb2.SlicingSpec(
        feature_keys=spec.feature_keys, feature_values=spec.feature_values
    )


def matching(
    evaluation: Evaluation,
    spec: Optional[Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]],
) -> List[SliceMetrics]:
    """The evaluation's slices the spec selects (every single slice when spec is None), overall
    first; the cross slices a CrossSlicingSpec selects."""
    if spec is None:
        return list(evaluation.slices.values())
    if isinstance(spec, config_pb2.CrossSlicingSpec):
        return [s for s in evaluation.cross_slices.values() if _cross_applies(spec, s.slice_key)]
    applies = applies_to(spec)
    return [s for s in evaluation.slices.values() if applies(s.slice_key)]


def applies_to(spec: config_pb2.SlicingSpec) -> Callable[[SliceKey], bool]:
    """Whether the spec selects a slice, as TFMA's SingleSliceSpec.is_slice_applicable says.

    Raises:
      ValueError: a feature is in both feature_keys and feature_values (as TFMA raises it).
    """
    parts = _parts(spec)
    return lambda key: _applies(parts, key)


def identity(spec: Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]) -> Hashable:
    """What TFMA's slicer_lib.deserialize_slice_spec makes of a spec, as equal and hashing alike:
    the same slices selected, feature_keys and feature_values in any order.

    Raises:
      ValueError: a feature is in both feature_keys and feature_values (as TFMA raises it).
    """
    if isinstance(spec, config_pb2.CrossSlicingSpec):
        return _parts(spec.baseline_spec), tuple(_parts(s) for s in spec.slicing_specs)
    return _parts(spec)


def _value(value: Value) -> Value:
    """TFMA's slicer_lib._to_type: a string of an int or a float as that number."""
    if isinstance(value, (int, float)):
        return value
    try:
        value = str(value)
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


_Parts = Tuple[FrozenSet[str], FrozenSet[Tuple[str, Value]]]


def _parts(spec: config_pb2.SlicingSpec) -> _Parts:
    """A SlicingSpec as TFMA's SingleSliceSpec holds it: its columns and (feature, value) pairs."""
    columns = frozenset(spec.feature_keys)
    features = frozenset((k, _value(v)) for k, v in spec.feature_values.items())
    for key, _ in features:
        if key in columns:
            raise ValueError(
                "Columns specified in columns and in features should not overlap, but "
                f"{key} was specified in both."
            )
    return columns, features


def _applies(parts: _Parts, key: SliceKey) -> bool:
    columns, features = list(parts[0]), list(parts[1])
    for singleton in key:
        if len(singleton) == 2:
            singleton = (singleton[0], _value(singleton[1]))
        if singleton in features:
            features.remove(singleton)
        elif singleton[0] in columns:
            columns.remove(singleton[0])
        else:
            return False
    return not features and not columns


def _cross_applies(spec: config_pb2.CrossSlicingSpec, key: Tuple[SliceKey, SliceKey]) -> bool:
    """TFMA's slicer_lib.is_cross_slice_applicable."""
    baseline, comparison = key
    return _applies(_parts(spec.baseline_spec), baseline) and any(
        _applies(_parts(s), comparison) for s in spec.slicing_specs
    )


def spec_label(spec: Optional[Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]]) -> str:
    """A spec as a slice string: 'Overall', 'occupation:teacher', 'occupation:*' (every value);
    a cross slicing spec as 'Overall minus occupation:* or age:*'."""
    if spec is None:
        return "every slice"
    if isinstance(spec, config_pb2.CrossSlicingSpec):
        comparisons = " or ".join(spec_label(s) for s in spec.slicing_specs) or "no slice"
        return f"{spec_label(spec.baseline_spec)} minus {comparisons}"
    parts = [(key, value) for key, value in spec.feature_values.items()]
    parts += [(key, "*") for key in spec.feature_keys]
    return slice_label(tuple(sorted(parts)))
