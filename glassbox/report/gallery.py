"""The explained images and texts of an evaluation, as the report's Images and Texts views draw
them: read from image_explanations.json with image_maps.npz, and from text_explanations.json
(glassbox.explain.writer writes them).

A report carries at most MAX_IMAGES of the explained images, balanced over their true classes
(``balanced``: in turn one of each class, within a class the rows some model gets wrong and right
alternately, wrong first, each in the writer's order: by row id, a random order), grouped by class;
and the first MAX_TEXTS texts. Each image comes as its thumbnail (uint8 pixels) and,
per model and method, its heat map shrunk (block means) to at most MAP_CELLS cells a side and
quantised to int8 against the largest |value| of the image's maps by that method, candidate's and
baseline's (``scale``: one colour scale for both), both base64-encoded; each text as its
tokens and their attributions (4 significant digits), per model and method.
"""

from __future__ import annotations

import base64
import io
import math
import os
from typing import Any, Dict, List, Optional

import numpy as np

from glassbox import filesystem, keys
from glassbox.report.errors import ReportError

MAX_IMAGES = 48
MAX_TEXTS = 200
MAP_CELLS = 32


def _read_json(path: str, what: str):
    from glassbox.report.load import _read_json as read  # load imports this module

    return read(path, what)


def _bytes(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values).tobytes()).decode("ascii")


def shrunk(heat_map: np.ndarray) -> np.ndarray:
    """A (h, w) map as block means of f x f cells, f the least making both sides <= MAP_CELLS
    (edge cells repeated to fill the last blocks)."""
    height, width = heat_map.shape
    f = math.ceil(max(height, width) / MAP_CELLS)
    if f == 1:
        return heat_map
    rows, columns = math.ceil(height / f), math.ceil(width / f)
    padded = np.pad(heat_map, ((0, rows * f - height), (0, columns * f - width)), mode="edge")
    return padded.reshape(rows, f, columns, f).mean(axis=(1, 3))


def quantised(heat_map: np.ndarray, scale: Optional[float] = None) -> Dict[str, Any]:
    """The shrunk map as {height, width, scale, largest, cells}: cells int8 (-127..127) of
    value / scale, row after row, base64-encoded; scale the one given (e.g. the largest |value| of
    the maps to compare with) or its own largest |value| (``largest``; 1 for a map of zeros)."""
    small = np.nan_to_num(shrunk(np.asarray(heat_map, np.float64)))
    largest = float(np.abs(small).max())
    scale = scale or largest or 1.0
    cells = np.round(np.clip(small / scale, -1, 1) * 127).astype(np.int8)
    return {
        "height": int(small.shape[0]),
        "width": int(small.shape[1]),
        "scale": float(f"{scale:.4g}"),
        "largest": float(f"{largest:.4g}"),
        "cells": _bytes(cells),
    }


def _pair(maps: Dict[str, np.ndarray]) -> Dict[str, Dict[str, Any]]:
    """The maps of one image and method by model role, quantised on one scale: the largest |value|
    over them all, so their colours compare."""
    small = {role: np.nan_to_num(shrunk(np.asarray(m, np.float64))) for role, m in maps.items()}
    scale = max(float(np.abs(m).max()) for m in small.values())
    return {role: quantised(m, scale) for role, m in small.items()}


def _rows(path: str, content: Any, what: str) -> List[dict]:
    if not (
        isinstance(content, dict)
        and isinstance(content.get("examples"), list)
        and isinstance(content.get("models"), dict)
        and all(
            isinstance(row, dict) and isinstance(row.get("models"), dict)
            for row in content["examples"]
        )
    ):
        raise ReportError(
            f"{path} is not {what} as glassbox.explain.writer writes them: expected "
            '{"models": {...}, "examples": [{"id": ..., "models": {...}}, ...]}'
        )
    return content["examples"]


def _methods(content: dict) -> List[str]:
    names: List[str] = []
    for model in content["models"].values():
        names += [name for name in model.get("methods", {}) if name not in names]
    return names


def _row(row: dict) -> Dict[str, Any]:
    return {
        "id": row.get("id"),
        "slices": row.get("slices", []),
        "label": row.get("label"),
        "predicted": row.get("predicted", {}),
    }


def _wrong(row: dict) -> bool:
    label = row.get("label")
    return label is not None and any(
        p is not None and float(p) != float(label) for p in row.get("predicted", {}).values()
    )


def _alternated(wrong: List[int], right: List[int]) -> List[int]:
    order = [i for pair in zip(wrong, right) for i in pair]
    return order + wrong[len(right) :] + right[len(wrong) :]


def balanced(rows: List[dict], count: int) -> List[List[int]]:
    """Indices of at most count rows, per true class (classes in order, rows without a label last):
    one row of each class in turn while any is left; within a class, rows that some model's
    prediction gets wrong and rows all get right alternately, wrong first."""
    classes: Dict[Any, List[int]] = {}
    for i, row in enumerate(rows):
        classes.setdefault(row.get("label"), []).append(i)
    order = sorted(classes, key=lambda label: (label is None, label or 0))
    queues = [
        _alternated(
            [i for i in classes[label] if _wrong(rows[i])],
            [i for i in classes[label] if not _wrong(rows[i])],
        )
        for label in order
    ]
    chosen: List[List[int]] = [[] for _ in queues]
    count = min(count, len(rows))
    taken = 0
    while taken < count:
        for queue, picked in zip(queues, chosen):
            if taken < count and len(picked) < len(queue):
                picked.append(queue[len(picked)])
                taken += 1
    return chosen


def _maps(content: dict, roles: List[str], arrays: dict, row: dict, i: int) -> dict:
    """Row i's maps by role and method, each method's on one scale (``_pair``)."""
    maps: Dict[str, dict] = {role: {} for role in roles}
    for method in _methods(content):
        pair = _pair(
            {
                role: arrays[f"{role}/{method}/maps"][i]
                for role in roles
                if method in content["models"][role]["methods"]
            }
        )
        for role, quantised_map in pair.items():
            maps[role][method] = {**row["models"][role].get(method, {}), **quantised_map}
    return maps


def load_images(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """The explained images (see the module), or None without image explanations."""
    path = os.path.join(evaluation_dir, keys.IMAGE_EXPLANATIONS_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the image explanations")
    rows = _rows(path, content, "image explanations")
    maps_path = os.path.join(evaluation_dir, keys.IMAGE_MAPS_FILE)
    try:
        with filesystem.open_binary(maps_path) as f:
            arrays = dict(np.load(io.BytesIO(f.read())))
    except (OSError, ValueError) as e:
        raise ReportError(f"cannot read the image maps {maps_path}: {e}") from e
    methods = _methods(content)
    roles = [role for role in content["models"] if content["models"][role].get("methods")]
    thumbnails = arrays.get("thumbnails")
    wanted = [
        f"{role}/{method}/maps" for role in roles for method in content["models"][role]["methods"]
    ]
    missing = [name for name in wanted + ["ids"] if name not in arrays]
    if missing or len(arrays["ids"]) != len(rows):
        raise ReportError(
            f"{maps_path} does not match {path}: "
            + (f"it lacks {missing}" if missing else f"{len(arrays['ids'])} maps, {len(rows)} rows")
        )
    chosen = balanced(rows, MAX_IMAGES)
    shown = []
    for i in (i for picked in chosen for i in picked):
        row = rows[i]
        shown.append(
            {
                **_row(row),
                "pixels": None if thumbnails is None else _bytes(thumbnails[i]),
                "maps": _maps(content, roles, arrays, row, i),
            }
        )
    return {
        "feature": content.get("feature", ""),
        "explained": len(rows),
        "per_class": max(map(len, chosen), default=0),
        "methods": methods,
        "roles": roles,
        "thumbnail": None
        if thumbnails is None
        else dict(zip(("height", "width", "channels"), map(int, thumbnails.shape[1:]))),
        "rows": shown,
    }


def load_texts(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """The explained texts (see the module), or None without text explanations."""
    path = os.path.join(evaluation_dir, keys.TEXT_EXPLANATIONS_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the text explanations")
    rows = _rows(path, content, "text explanations")
    roles = [role for role in content["models"] if content["models"][role].get("methods")]
    shown = [
        {
            **_row(row),
            "tokens": {
                role: {
                    method: {
                        **values,
                        "attributions": [
                            None if v is None else float(f"{v:.4g}")
                            for v in values.get("attributions", [])
                        ],
                    }
                    for method, values in row["models"].get(role, {}).items()
                }
                for role in roles
            },
        }
        for row in rows[:MAX_TEXTS]
    ]
    return {
        "feature": content.get("feature", ""),
        "explained": len(rows),
        "methods": _methods(content),
        "roles": roles,
        "rows": shown,
    }
