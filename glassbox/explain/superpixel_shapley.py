"""Superpixel Shapley values: Shapley values of each image's SLIC superpixels (scikit-image), a
superpixel's value spread evenly over its pixels. A black box: any signature, encoded or float
images.

The game is played by the Shapley code every tabular method uses (shapley.shapley_values: exact
enumeration up to ``max_exact_features`` superpixels, paired KernelSHAP beyond) on the shared
masking engine: each superpixel slot is a column (1: present) and a feature group, the one
background row all slots 0 (absent); the model function turns a batch of masked slot rows into
images (absent superpixels at the baseline value) and scores them. Slots past an image's own
superpixel count change nothing and get 0.

Stated accuracy: the efficiency gap, max over images of |sum of the map - (f(image) -
f(all-baseline image))| (0 up to rounding: every fit holds it), beside the fidelity and sanity
check of every image method (image_attributions).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from skimage.segmentation import slic

from glassbox.explain.image_model import IMAGE_BATCH, ImageModel
from glassbox.explain.model_function import Columns
from glassbox.explain.shapley import shapley_values
from glassbox.protos.explain_config_pb2 import SuperpixelShapley

DEFAULT_SUPERPIXELS = 16
DEFAULT_COMPACTNESS = 10.0
_ROW = "\0row"  # held column of each masked row's image index (no feature can be named so)


def superpixels(images: np.ndarray, count: int, compactness: float) -> np.ndarray:
    """(n, h, w) SLIC superpixel labels 0, 1, ... of each image (n, h, w, c), scaled to [0, 1]
    per image; RGB goes to CIELAB (SLIC's own conversion), other channels to 0..100 (CIELAB's
    lightness range), so one compactness suits both."""
    labels = []
    for image in images:
        low, high = float(image.min()), float(image.max())
        scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
        rgb = image.shape[-1] == 3
        labels.append(
            slic(
                scaled if rgb else scaled * 100,
                n_segments=count,
                compactness=compactness,
                channel_axis=-1,
                convert2lab=rgb,
                start_label=0,
            )
        )
    return np.stack(labels)


def superpixel_shapley(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    options: SuperpixelShapley,
    seed: int,
) -> Tuple[np.ndarray, dict]:
    """Superpixel Shapley maps (n, h, w) of the images' targets, and their accuracy."""
    n = len(images)
    labels = superpixels(
        images,
        options.num_superpixels or DEFAULT_SUPERPIXELS,
        options.compactness or DEFAULT_COMPACTNESS,
    )
    counts = labels.reshape(n, -1).max(axis=1) + 1
    slots = [str(k) for k in range(int(counts.max()))]
    calls = [0]

    def function(columns: Columns) -> np.ndarray:
        present = np.stack([columns[slot] for slot in slots], axis=1) > 0.5
        index = columns[_ROW].astype(int)
        scores = []
        for start in range(0, len(index), IMAGE_BATCH):
            part = index[start : start + IMAGE_BATCH]
            keep = present[start : start + IMAGE_BATCH][
                np.arange(len(part))[:, None, None], labels[part]
            ]
            masked = np.where(keep[..., None], images[part], np.float32(model.baseline_value))
            rest = {key: values[part] for key, values in held.items()}
            scores.append(model.scores(masked, target[part], rest))
        calls[0] += len(index)
        return np.concatenate(scores)

    rows = {slot: np.ones(n, np.float32) for slot in slots}
    rows[_ROW] = np.arange(n, dtype=np.int64)
    background = {slot: np.zeros(1, np.float32) for slot in slots}
    result = shapley_values(function, rows, background, (), options.shapley, seed, None, slots)
    # The empty coalition of each image.
    baseline = model.scores(np.full_like(images, model.baseline_value), target, held)
    calls[0] += n
    area = np.stack([np.bincount(one.reshape(-1), minlength=len(slots)) for one in labels])
    values = np.where(area > 0, result.values / np.maximum(area, 1), 0.0)
    maps = values[np.arange(n)[:, None, None], labels]
    gap = np.abs(maps.reshape(n, -1).sum(axis=1) - (result.predictions - baseline))
    return maps, {
        "algorithm": result.method,
        "superpixels": {"mean": float(counts.mean()), "max": int(counts.max())},
        "model_calls_per_image": calls[0] / n,
        "max_efficiency_gap": float(gap.max()),
        "max_standard_error": float(result.standard_errors.max()),
    }
