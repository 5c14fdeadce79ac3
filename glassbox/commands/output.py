"""Printing and files shared by the subcommands."""

from __future__ import annotations

import json
from typing import Dict, Mapping

from glassbox.engine.outcome import PropertyValue
from glassbox.errors import GlassboxError


class PropertiesFileError(GlassboxError):
    """A properties file is unreadable or not a JSON object of numbers and strings."""


def print_metrics(metrics: Mapping[str, float]) -> None:
    """One aligned line per metric, sorted by name."""
    for name, value in sorted(metrics.items()):
        print(f"  {name:<40} {value:.6g}")


def write_properties(path: str, properties: Mapping[str, PropertyValue]) -> None:
    """Writes an artifact's custom properties, as a TFX component sets them, to a JSON file."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dict(properties), f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")


def read_properties(path: str) -> Dict[str, PropertyValue]:
    """Reads the properties `write_properties` wrote.

    Raises:
      PropertiesFileError: naming the file.
    """
    try:
        with open(path, encoding="utf-8") as f:
            properties = json.load(f)
    except OSError as e:
        raise PropertiesFileError(f"cannot read properties file {path!r}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise PropertiesFileError(f"properties file {path!r} is not JSON: {e}") from e
    if not isinstance(properties, dict) or not all(
        isinstance(value, (int, float, str)) and not isinstance(value, bool)
        for value in properties.values()
    ):
        raise PropertiesFileError(
            f"properties file {path!r} must hold a JSON object of numbers and strings, as "
            "`glassbox evaluate --properties` writes it"
        )
    return properties
