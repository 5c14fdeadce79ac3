"""Which slices of an evaluation a threshold or gate applies to, matched as TFMA matches them."""

from __future__ import annotations

from typing import List, Optional, Union

from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.protos import validator_config_pb2
from glassbox.validation.reader import Evaluation, SliceMetrics, slice_label


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
        return [
            s
            for s in evaluation.cross_slices.values()
            if slicer_lib.is_cross_slice_applicable(s.slice_key, spec)
        ]
    single = slicer_lib.SingleSliceSpec(spec=spec)
    return [s for s in evaluation.slices.values() if single.is_slice_applicable(s.slice_key)]


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
