"""Reading an evaluation's drift.json back, without TensorFlow or Beam on local paths (history and
commands that only read): the file, and a slice's distances named as the drift gates name them."""

from __future__ import annotations

import json
import os
from typing import Dict, Optional

from glassbox import filesystem, keys
from glassbox.drift.distances import HISTOGRAM_DISTANCES, NUMERIC_DISTANCES
from glassbox.errors import ConfigError


def read_drift(evaluation_dir: str) -> Optional[dict]:
    """An evaluation's drift.json, or None when it has none (no DriftConfig or no reference).

    Raises:
      ConfigError: the file is there but cannot be read.
    """
    path = os.path.join(evaluation_dir, keys.DRIFT_FILE)
    try:
        if not filesystem.exists(path):
            return None
        return json.loads(filesystem.read_text(path))
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read the drift of evaluation {evaluation_dir!r}: {e}") from e


def metric_name(distance: str, name: str) -> str:
    """How a drift distance of a feature (or of the predictions) is named as a metric, e.g.
    'jensen_shannon of age' (the drift gates' checks and the history name it so)."""
    return f"{distance} of {name}"


def slice_distances(drift: dict, slice_name: str) -> Dict[str, float]:
    """Every distance on the slice (TFMA's slice string, e.g. 'Overall'), by `metric_name`."""
    found = next((s for s in drift["slices"] if s["slice_name"] == slice_name), None)
    if found is None:
        return {}
    return {
        metric_name(distance, entry["name"]): entry[distance]
        for entry in found["features"] + found["predictions"]
        for distance in HISTOGRAM_DISTANCES + NUMERIC_DISTANCES
        if isinstance(entry.get(distance), (int, float))
    }
