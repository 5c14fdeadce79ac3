"""An evaluation's simple_model.json: written by the check's Beam transform, read by the
Validator's simple_model_gates and the report."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

from glassbox import filesystem, keys
from glassbox.errors import ConfigError


def write_comparison(output_dir: str, comparison: Dict[str, Any]) -> None:
    from glassbox.staging import writing  # (it imports TensorFlow, which reading needs not)

    text = json.dumps(comparison, allow_nan=False, indent=1)
    with writing(output_dir):
        filesystem.write_text(os.path.join(output_dir, keys.SIMPLE_MODEL_FILE), text)


def read_comparison(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """An evaluation's simple_model.json, or None when it has none (no SimpleModelConfig).

    Raises:
      ConfigError: the file is there but cannot be read.
    """
    path = os.path.join(evaluation_dir, keys.SIMPLE_MODEL_FILE)
    try:
        if not filesystem.exists(path):
            return None
        return json.loads(filesystem.read_text(path))
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"cannot read {keys.SIMPLE_MODEL_FILE} of evaluation {evaluation_dir!r}: {e}"
        ) from e
