"""An evaluation's simple_model.json: written by the check's Beam transform, read by the
Validator's simple_model_gates and the report."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

import tensorflow as tf

from glassbox import keys
from glassbox.errors import ConfigError
from glassbox.staging import writing


def write_comparison(output_dir: str, comparison: Dict[str, Any]) -> None:
    text = json.dumps(comparison, allow_nan=False, indent=1)
    with (
        writing(output_dir),
        tf.io.gfile.GFile(os.path.join(output_dir, keys.SIMPLE_MODEL_FILE), "w") as f,
    ):
        f.write(text)


def read_comparison(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """An evaluation's simple_model.json, or None when it has none (no SimpleModelConfig).

    Raises:
      ConfigError: the file is there but cannot be read.
    """
    path = os.path.join(evaluation_dir, keys.SIMPLE_MODEL_FILE)
    try:
        if not tf.io.gfile.exists(path):
            return None
        with tf.io.gfile.GFile(path) as f:
            return json.load(f)
    except (OSError, tf.errors.OpError, ValueError) as e:
        raise ConfigError(
            f"cannot read {keys.SIMPLE_MODEL_FILE} of evaluation {evaluation_dir!r}: {e}"
        ) from e
