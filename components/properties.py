"""Custom properties of TFX artifacts from and for the engine."""

from __future__ import annotations

from typing import Dict, Mapping

from tfx import types

from glassbox.engine.outcome import PropertyValue


def set_properties(artifact: types.Artifact, properties: Mapping[str, PropertyValue]) -> None:
    """Sets each property as an int, float or string custom property of artifact."""
    for name, value in properties.items():
        if isinstance(value, int):  # bools too
            artifact.set_int_custom_property(name, int(value))
        elif isinstance(value, float):
            artifact.set_float_custom_property(name, value)
        else:
            artifact.set_string_custom_property(name, str(value))


def get_properties(artifact: types.Artifact) -> Dict[str, PropertyValue]:
    """The int, float and string custom properties of artifact."""
    values = {
        name: artifact.get_custom_property(name)
        for name in artifact.mlmd_artifact.custom_properties
    }
    return {name: value for name, value in values.items() if isinstance(value, (int, float, str))}
