"""What the attribution gates on a text or image method read of an evaluation: its
text_explanations.json (each explained text's tokens and their attributions, per model and
method) and image_explanations.json (per model, method and slice, the mean heat map of each
explained class), as glassbox.explain.writer writes them.

Each reader raises Unavailable with the reason (a clause of the check's sentence) when the
evaluation lacks what the gate needs, so that the gate fails closed saying why.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Optional

import numpy as np

from glassbox import filesystem, keys
from glassbox.validation.errors import EvaluationReadError

# The models' roles in the files (glassbox.explain.evaluation's CANDIDATE and BASELINE).
CANDIDATE, BASELINE = "candidate", "baseline"


class Unavailable(Exception):
    """The evaluation lacks what a gate reads; the message says what, as a sentence's clause."""


def read_explanations(evaluation_dir: str, file: str) -> Optional[dict]:
    """The evaluation's file (keys.TEXT_EXPLANATIONS_FILE or IMAGE_EXPLANATIONS_FILE), None when
    it has none.

    Raises:
      EvaluationReadError: the file is there but cannot be read.
    """
    path = os.path.join(evaluation_dir, file)
    try:
        if not filesystem.exists(path):
            return None
        return json.loads(filesystem.read_text(path))
    except (OSError, ValueError) as e:
        raise EvaluationReadError(f"cannot read {path}: {e}") from e


def _method(document: Optional[dict], file: str, kind: str, role: str, method: str) -> dict:
    if document is None:
        raise Unavailable(f"the evaluation holds no {kind} explanations ({file})")
    methods = document["models"].get(role, {}).get("methods", {})
    if method not in methods:
        held = ", ".join(sorted(methods)) or "none"
        raise Unavailable(
            f"the evaluation holds no {method} attributions of the {role} model ({file} holds: {held})"
        )
    return methods[method]


def slice_tokens(
    document: Optional[dict], role: str, method: str, slice_name: str
) -> Dict[str, float]:
    """Each token's mean |attribution| by the model (role) and method over the slice's explained
    texts: the sum of |attribution| of its occurrences over the number of texts (tokens absent
    from every text are left out: 0)."""
    file = keys.TEXT_EXPLANATIONS_FILE
    _method(document, file, "text", role, method)
    texts = [
        example["models"][role][method]
        for example in document["examples"]
        if slice_name in example["slices"]
    ]
    if not texts:
        raise Unavailable(f"the evaluation explained no text on {slice_name}")
    sums: Dict[str, float] = {}
    for text in texts:
        for token, value in zip(text["tokens"], text["attributions"]):
            if value is None:
                raise Unavailable(
                    f"the {role}'s {method} attribution of the token {token!r} on {slice_name} is "
                    "not a finite number"
                )
            sums[token] = sums.get(token, 0.0) + abs(value)
    return {token: total / len(texts) for token, total in sums.items()}


def class_maps(
    document: Optional[dict], role: str, method: str, slice_name: str
) -> Dict[str, np.ndarray]:
    """The model's (role) mean heat map of each class it explained on the slice, by class."""
    found = _method(document, keys.IMAGE_EXPLANATIONS_FILE, "image", role, method)
    by_class = found["slices"].get(slice_name, {}).get("by_class")
    if not by_class:
        raise Unavailable(f"the {role}'s {method} heat maps hold no map on {slice_name}")
    return {name: np.asarray(entry["mean_map"], dtype=float) for name, entry in by_class.items()}


def top_pixels(heat_map: np.ndarray, fraction: float) -> np.ndarray:
    """The map's top pixels (a boolean mask): |value| positive and at least the
    ceil(fraction * pixels)-th largest |value| (ties included)."""
    magnitude = np.abs(heat_map)
    count = max(1, int(np.ceil(round(fraction * magnitude.size, 9))))
    kth = np.sort(magnitude, axis=None)[::-1][count - 1]
    return (magnitude >= kth) & (magnitude > 0)


def overlap(candidate: np.ndarray, baseline: np.ndarray, fraction: float) -> Optional[float]:
    """The intersection over union of the two maps' top pixels; None when neither has any (both
    maps are 0 everywhere)."""
    a, b = top_pixels(candidate, fraction), top_pixels(baseline, fraction)
    union = int((a | b).sum())
    return int((a & b).sum()) / union if union else None
