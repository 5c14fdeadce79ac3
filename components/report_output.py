"""The Evaluator's and Validator's `report` output: the engine's HTML report, for the Kubeflow
Pipelines UI (an HTMLReport, KFP's type `system.HTML`, with a display name)."""

from __future__ import annotations

from typing import Dict, List

from tfx import types
from tfx.types import artifact_utils

from glassbox import keys
from glassbox.staging import copy_into_place


def write_report_output(
    output_dict: Dict[str, List[types.Artifact]], report: str, display_name: str
) -> None:
    """Copies the report file into the `report` output's URI (a file, which the KFP UI reads),
    if the execution has that output, and names it display_name."""
    if not output_dict.get(keys.REPORT_KEY):
        return
    artifact = artifact_utils.get_single_instance(output_dict[keys.REPORT_KEY])
    copy_into_place(report, artifact.uri)
    artifact.set_string_custom_property(keys.DISPLAY_NAME_PROPERTY, display_name)
