"""The baseline a component was given: None when its optional input is empty or holds the
BaselineResolver's Model marked as no baseline (on Kubeflow Pipelines a task always outputs one);
an error when it holds the local baseline step's Model marked as a refused baseline."""

from __future__ import annotations

from typing import Optional, Sequence

from tfx import types
from tfx.types import artifact_utils

from glassbox import keys
from glassbox.errors import GlassboxError


class BaselineRefusedError(GlassboxError):
    """The pipeline's baseline step refused the latest blessed Model (e.g. a forged blessing)."""


def given_baseline(artifacts: Optional[Sequence[types.Artifact]]) -> Optional[types.Artifact]:
    """The single baseline Model of an optional input, or None. Only the no-baseline marker makes a
    given artifact no baseline: any other one is the baseline, and a missing or corrupt model in it
    fails the evaluation.

    Raises:
      ValueError: more than one artifact.
      BaselineRefusedError: the artifact is marked as a refused baseline; the message says why.
    """
    if not artifacts:
        return None
    baseline = artifact_utils.get_single_instance(list(artifacts))
    if baseline.has_custom_property(keys.BASELINE_REFUSED_PROPERTY):
        raise BaselineRefusedError(
            "the pipeline's baseline step refused the latest blessed Model, so nothing is "
            "evaluated or blessed against it: "
            + baseline.get_string_custom_property(keys.BASELINE_REFUSED_PROPERTY)
        )
    return None if baseline.has_custom_property(keys.NO_BASELINE_PROPERTY) else baseline
