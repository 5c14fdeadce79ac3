"""The checks as TFMA's ValidationResult, the record TFX and `tfma.load_validation_result` read.

Laid out as TFMA's validator lays it out: failures grouped per slice or cross slice (metric key,
threshold, value, and our sentence as the message), the specs of thresholds that matched no slice
in `missing_slices` (`missing_cross_slices`), and per slicing spec the number of slices checked in
`validation_details`.
Gates without a TFMA threshold equivalent (significance, attributions) leave the threshold unset.
"""

from __future__ import annotations

from typing import Dict, List, Tuple, Union

from tensorflow_model_analysis.proto import config_pb2, validation_result_pb2

from glassbox.tfma_keys import MetricKey, cross_slice_key_proto, slice_key_proto
from glassbox.validation import checks as checks_lib
from glassbox.validation.checks import Check

_NOT_CHECKED = (checks_lib.MISSING_SLICE, checks_lib.MISSING_METRIC, checks_lib.NO_APPLICABLE_CHECK)
Spec = Union[config_pb2.SlicingSpec, config_pb2.CrossSlicingSpec]


def validation_result(
    checks: List[Check], rubber_stamp: bool, missing_thresholds: bool
) -> validation_result_pb2.ValidationResult:
    result = validation_result_pb2.ValidationResult(
        validation_ok=all(check.passed for check in checks),
        rubber_stamp=rubber_stamp,
        missing_thresholds=missing_thresholds,
    )
    per_slice: Dict[tuple, validation_result_pb2.MetricsValidationForSlice] = {}
    missing: Dict[Tuple[bool, bytes], Spec] = {}
    checked: Dict[Tuple[bool, bytes], Tuple[Spec, set]] = {}
    for check in checks:
        spec = check.slicing_spec if check.slicing_spec is not None else config_pb2.SlicingSpec()
        is_cross = isinstance(spec, config_pb2.CrossSlicingSpec)
        spec_id = (is_cross, spec.SerializeToString(deterministic=True))
        if check.kind == checks_lib.MISSING_SLICE:
            missing.setdefault(spec_id, spec)
            continue
        if check.kind not in _NOT_CHECKED and not check.skipped:
            checked.setdefault(spec_id, (spec, set()))[1].add(check.slice_key)
        if not check.passed:
            if check.slice_key not in per_slice:
                per_slice[check.slice_key] = result.metric_validations_per_slice.add(
                    **_serialized_key(check.slice_key, is_cross)
                )
            _add_failure(per_slice[check.slice_key], check)
    for (is_cross, _), spec in missing.items():
        (result.missing_cross_slices if is_cross else result.missing_slices).append(spec)
    for (is_cross, _), (spec, slice_keys) in checked.items():
        result.validation_details.slicing_details.add(
            **{"cross_slicing_spec" if is_cross else "slicing_spec": spec},
            num_matching_slices=len(slice_keys),
        )
    return result


def _serialized_key(slice_key: tuple, is_cross: bool) -> dict:
    if is_cross:
        return {"cross_slice_key": cross_slice_key_proto(slice_key)}
    return {"slice_key": slice_key_proto(slice_key)}


def _add_failure(
    validations: validation_result_pb2.MetricsValidationForSlice, check: Check
) -> None:
    failure = validations.failures.add(message=check.sentence)
    key = check.metric_key or MetricKey(name=check.metric)
    failure.metric_key.CopyFrom(key.to_proto())
    if isinstance(check.tfma_threshold, config_pb2.GenericValueThreshold):
        failure.metric_threshold.value_threshold.CopyFrom(check.tfma_threshold)
    elif isinstance(check.tfma_threshold, config_pb2.GenericChangeThreshold):
        failure.metric_threshold.change_threshold.CopyFrom(check.tfma_threshold)
    value = check.value
    if key.is_diff and value is not None and check.baseline_value is not None:
        value -= check.baseline_value  # a diff key's value is the change, as TFMA records it
    if value is not None:
        failure.metric_value.double_value.value = value
