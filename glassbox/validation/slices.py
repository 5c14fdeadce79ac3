"""Which slices of an evaluation a threshold or gate applies to, matched as TFMA matches them."""

from __future__ import annotations

from typing import List, Optional

from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.protos import validator_config_pb2
from glassbox.validation.reader import Evaluation, SliceMetrics, slice_label


def tfma_spec(spec: validator_config_pb2.SlicingSpec) -> config_pb2.SlicingSpec:
    """Our SlicingSpec (same fields) as TFMA's."""
    return config_pb2.SlicingSpec(
        feature_keys=spec.feature_keys, feature_values=spec.feature_values
    )


def matching(evaluation: Evaluation, spec: Optional[config_pb2.SlicingSpec]) -> List[SliceMetrics]:
    """The evaluation's slices the spec selects (every slice when spec is None), overall first."""
    if spec is None:
        return list(evaluation.slices.values())
    single = slicer_lib.SingleSliceSpec(spec=spec)
    return [s for s in evaluation.slices.values() if single.is_slice_applicable(s.slice_key)]


def spec_label(spec: Optional[config_pb2.SlicingSpec]) -> str:
    """A spec as a slice string: 'Overall', 'occupation:teacher', 'occupation:*' (every value)."""
    if spec is None:
        return "every slice"
    parts = [(key, value) for key, value in spec.feature_values.items()]
    parts += [(key, "*") for key in spec.feature_keys]
    return slice_label(tuple(sorted(parts)))
