"""Running a TFX component's executor in this process, as TFX's launcher would."""

from __future__ import annotations

import os
from typing import Dict, Mapping, Union

from tfx import types
from tfx.dsl.components.base import base_component
from tfx.orchestration.portable import outputs_utils

Outputs = Mapping[str, types.Artifact]


def output_artifacts(
    component: base_component.BaseComponent, output_dir: Union[str, os.PathLike]
) -> Dict[str, types.Artifact]:
    """A fresh artifact of each of the component's outputs at output_dir/<key>, made as TFX's
    launcher makes them: a dir, or an empty file for a value artifact."""
    outputs = {}
    for key, channel in component.outputs.items():
        artifact = channel.type()
        artifact.uri = os.path.join(str(output_dir), key)
        outputs[key] = artifact
    outputs_utils.make_output_dirs({key: [artifact] for key, artifact in outputs.items()})
    return outputs


def run_executor(
    component: base_component.BaseComponent, outputs: Union[str, os.PathLike, Outputs]
) -> Dict[str, types.Artifact]:
    """Runs the component's executor on the artifacts its input channels hold (channels made
    with channel_utils.as_channel), its exec properties and outputs (artifacts by key, or a dir
    to make them in with `output_artifacts`); returns the outputs by key."""
    if not isinstance(outputs, Mapping):
        outputs = output_artifacts(component, outputs)
    inputs = {key: list(channel.get()) for key, channel in component.inputs.items()}
    component.executor_spec.executor_class().Do(
        inputs, {key: [artifact] for key, artifact in outputs.items()}, component.exec_properties
    )
    return dict(outputs)
