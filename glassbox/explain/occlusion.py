"""Occlusion (Zeiler and Fergus 2014): each square patch's attribution is the drop of the target's
score when the patch alone takes the baseline value, spread evenly over its pixel positions. A
black box: any signature, encoded or float images.

The occluded images are made by the shared masking engine (masking.Masker): each pixel value is
a column, each patch a feature group, the baseline image the one background row, and the
coalitions "every patch but one"; the target class and the rows' other features are held.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

from glassbox.explain.image_model import IMAGE_BATCH, ImageModel
from glassbox.explain.masking import Masker
from glassbox.explain.model_function import Columns
from glassbox.protos.explain_config_pb2 import Occlusion

_TARGET = "\0target"  # held column of each row's target class (no feature can be named so)
# Masked pixel values per model-function call (float32: 4 bytes each).
_CHUNK_VALUES = 1 << 24


def patches(height: int, width: int, size: int) -> np.ndarray:
    """(height, width) index of each pixel position's patch, row-major over size x size squares."""
    rows, columns = np.arange(height) // size, np.arange(width) // size
    return rows[:, None] * (-(-width // size)) + columns[None, :]


def occlusion(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    options: Occlusion,
    seed: int,
) -> Tuple[np.ndarray, dict]:
    """Occlusion maps (n, h, w) of the images' targets, and the patch size."""
    del seed  # deterministic
    n, h, w, c = images.shape
    size = options.patch_size or max(1, min(h, w) // 8)
    patch_of = patches(h, w, size)
    names = [f"{y},{x},{k}" for y in range(h) for x in range(w) for k in range(c)]
    count = int(patch_of.max()) + 1
    groups: List[Tuple[str, Tuple[str, ...]]] = [(str(g), []) for g in range(count)]
    for name in names:
        y, x, _ = map(int, name.split(","))
        groups[patch_of[y, x]][1].append(name)
    groups = [(group, tuple(members)) for group, members in groups]

    def function(columns: Columns) -> np.ndarray:
        pixels = np.stack([columns[name] for name in names], axis=1).reshape(-1, h, w, c)
        rest = {key: values for key, values in columns.items() if key in held}
        return model.scores(pixels, columns[_TARGET].astype(int), rest)

    pixel_rows = np.ascontiguousarray(images.reshape(n, -1).T)
    rows = {**dict(zip(names, pixel_rows)), **held, _TARGET: np.asarray(target, np.int64)}
    background = {name: np.full(1, model.baseline_value, np.float32) for name in names}
    chunk = max(count + 1, min(4 * IMAGE_BATCH, _CHUNK_VALUES // len(names)))
    masker = Masker(function, background, groups, chunk_size=chunk)
    coalitions = np.vstack([np.ones((1, count), bool), ~np.eye(count, dtype=bool)])
    values = masker.values(rows, coalitions)
    drops = values[:, :1] - values[:, 1:]  # (n, patches)
    area = np.bincount(patch_of.reshape(-1), minlength=count)
    return (drops / area)[:, patch_of], {"patch_size": size, "patches": count}
