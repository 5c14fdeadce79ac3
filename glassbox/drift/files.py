"""An evaluation's drift files (written by ``WriteDrift`` into its directory):

* ``drift_sketches.json``: the summary of every slice's features and predictions (``sketches``),
  what a later evaluation compares with (its reference).
* ``drift.json`` (with a reference): per slice, each feature's and prediction's distances from the
  reference (``distances``), the most drifting (largest Jensen-Shannon divergence) first.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Iterable, List, Tuple, Union

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox import keys
from glassbox.drift import beam as drift_beam
from glassbox.drift.distances import JENSEN_SHANNON, distances
from glassbox.drift.sketches import QUANTILES_EPSILON
from glassbox.errors import ConfigError
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.staging import writing

Summaries = Dict[drift_beam.DriftKey, Dict]


def _slice_json(key) -> List[list]:
    return [list(pair) for pair in key]


def summaries_json(summaries: Summaries, config: DriftConfig) -> dict:
    return {
        "num_quantiles": drift_beam.num_quantiles(config),
        "quantiles_epsilon": QUANTILES_EPSILON,
        "summaries": [
            {"slice": _slice_json(key), "role": role, "name": name, **_json_summary(summary)}
            for (key, role, name), summary in sorted(
                summaries.items(), key=lambda item: (_order(item[0][0]), item[0][1:])
            )
        ],
    }


def _json_summary(summary: Dict) -> Dict:
    if "points" not in summary:
        return summary
    return {**summary, "points": summary["points"].tolist()}


def _from_json(summary: Dict) -> Dict:
    if "points" not in summary:
        return summary
    return {**summary, "points": np.asarray(summary["points"], dtype=np.float64)}


def _order(slice_key) -> Tuple[int, str]:
    return (len(slice_key), slicer_lib.stringify_slice_key(slice_key))


def read_summaries(evaluation_dir: str) -> Summaries:
    """The drift summaries of an evaluation directory, the reference of a later one.

    Raises:
      ConfigError: the directory holds no drift sketches (or they cannot be read).
    """
    path = os.path.join(evaluation_dir, keys.DRIFT_SKETCHES_FILE)
    try:
        with tf.io.gfile.GFile(path) as f:
            content = json.load(f)
    except (OSError, tf.errors.OpError, ValueError) as e:
        raise ConfigError(
            f"drift reference {evaluation_dir!r} has no readable {keys.DRIFT_SKETCHES_FILE} "
            f"({e}); evaluate the reference data with a DriftConfig first"
        ) from e
    return {
        (tuple(tuple(pair) for pair in s.pop("slice")), s.pop("role"), s.pop("name")): _from_json(s)
        for s in content["summaries"]
    }


def check_summaries(evaluation_dir: str) -> None:
    """Refuses a reference directory without drift sketches (before any work is done).

    Raises:
      ConfigError: naming the directory.
    """
    path = os.path.join(evaluation_dir, keys.DRIFT_SKETCHES_FILE)
    try:
        found = tf.io.gfile.exists(path)
    except (OSError, tf.errors.OpError) as e:
        found, cause = False, str(e)
    else:
        cause = "no such file"
    if not found:
        raise ConfigError(
            f"drift reference {evaluation_dir!r} has no readable {keys.DRIFT_SKETCHES_FILE} "
            f"({cause}); evaluate the reference data with a DriftConfig first"
        )


def drift_json(
    summaries: Summaries, reference: Summaries, reference_name: str, config: DriftConfig
) -> dict:
    """Every summary's distances from the reference's of the same slice, role and name."""
    bins = drift_beam.num_bins(config)
    slices: Dict = {}
    for key, summary in summaries.items():
        slice_key, role, name = key
        entry = {"name": name, "kind": summary["kind"], "count": summary["count"]}
        ref = reference.get(key)
        if ref is None:
            entry["error"] = "the reference has no values of it in this slice"
        elif ref["kind"] != summary["kind"]:
            entry["error"] = f"{summary['kind']} here, {ref['kind']} in the reference"
        else:
            entry["reference_count"] = ref["count"]
            entry.update(distances(summary, ref, bins))
        by_role = slices.setdefault(slice_key, {drift_beam.FEATURE: [], drift_beam.PREDICTION: []})
        by_role[role].append(entry)
    return {
        "reference": reference_name,
        "num_bins": bins,
        "slices": [
            {
                "slice": _slice_json(slice_key),
                "slice_name": slicer_lib.stringify_slice_key(slice_key),
                "features": _most_drifting_first(by_role[drift_beam.FEATURE]),
                "predictions": _most_drifting_first(by_role[drift_beam.PREDICTION]),
            }
            for slice_key, by_role in sorted(slices.items(), key=lambda item: _order(item[0]))
        ],
    }


def _most_drifting_first(entries: Iterable[dict]) -> List[dict]:
    return sorted(entries, key=lambda e: (-e.get(JENSEN_SHANNON, float("inf")), e["name"]))


def _write(
    summaries: List[Tuple[drift_beam.DriftKey, Dict]],
    reference: Union[None, str, List[Tuple[drift_beam.DriftKey, Dict]]],
    output_dir: str,
    config: DriftConfig,
    reference_name: str,
) -> None:
    _check_features_found(summaries, config)
    contents = {keys.DRIFT_SKETCHES_FILE: summaries_json(dict(summaries), config)}
    if reference is not None:
        summarised = read_summaries(reference) if isinstance(reference, str) else dict(reference)
        contents[keys.DRIFT_FILE] = drift_json(dict(summaries), summarised, reference_name, config)
    for name, content in contents.items():
        # dumps, not dump: dump writes (here: through GFile) in thousands of small pieces.
        text = json.dumps(content, allow_nan=False, separators=(",", ":"))
        with writing(output_dir), tf.io.gfile.GFile(os.path.join(output_dir, name), "w") as f:
            f.write(text)


def _check_features_found(
    summaries: List[Tuple[drift_beam.DriftKey, Dict]], config: DriftConfig
) -> None:
    """Refuses a configured feature no example evaluated holds a value of (misspelt, or absent
    from the data)."""
    found = {name for (_, role, name), _ in summaries if role == drift_beam.FEATURE}
    missing = [f for f in config.features if f not in found]
    if missing:
        raise ConfigError(
            f"DriftConfig field 'features' names {missing}, which no example evaluated holds a "
            f"value of; the features sketched are {sorted(found)}"
        )


class WriteDrift(beam.PTransform):
    """((slice, role, name), summary) -> drift_sketches.json and, given a reference (an
    evaluation directory holding drift_sketches.json, or a PCollection of summaries as above),
    drift.json."""

    def __init__(self, output_dir: str, config: DriftConfig, reference=None, reference_name=""):
        super().__init__()
        self._output_dir = output_dir
        self._config = config
        self._reference = reference
        self._reference_name = reference_name

    def expand(self, summaries):
        reference = self._reference
        if isinstance(reference, beam.PCollection):
            reference = beam.pvalue.AsSingleton(
                reference | "AllReference" >> beam.combiners.ToList()
            )
        return (
            summaries
            | "AllSummaries" >> beam.combiners.ToList()
            | "WriteFiles"
            >> beam.Map(_write, reference, self._output_dir, self._config, self._reference_name)
        )
