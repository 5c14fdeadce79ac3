"""The baseline a component was given: None when its optional input is empty or holds the
BaselineResolver's Model marked as no baseline (on Kubeflow Pipelines a task always outputs one)."""

from __future__ import annotations

from typing import Optional, Sequence

from tfx import types
from tfx.types import artifact_utils

from glassbox import keys


def given_baseline(artifacts: Optional[Sequence[types.Artifact]]) -> Optional[types.Artifact]:
    """The single baseline Model of an optional input, or None. Only the marker makes a given
    artifact no baseline: any other one is the baseline, and a missing or corrupt model in it fails
    the evaluation.

    Raises:
      ValueError: more than one artifact.
    """
    if not artifacts:
        return None
    baseline = artifact_utils.get_single_instance(list(artifacts))
    return None if baseline.has_custom_property(keys.NO_BASELINE_PROPERTY) else baseline
