"""Per-pixel attributions of images, and the accuracy every image method states with them.

Every image method maps (model, images, targets, held features, options, seed) to heat maps
(n, height, width): an attribution per pixel position, summed over channels. ``explain_images``
runs one and measures, on the same images:

- deletion and insertion fidelity (Petsiuk et al. 2018): the target's score as the top-attributed
  pixels are set to the baseline value (deletion: the lower the mean score along the curve, the
  more faithful) or, from the baseline image, restored (insertion: the higher the better), beside
  the same curves in a random pixel order, which any useful map beats;
- the weight-randomisation sanity check (Adebayo et al. 2018): the maps of a few images re-made
  with every weight of the model redrawn at random (ImageModel.randomised); the Spearman rank
  correlation of the map (and of |map|) with the trained model's, near 0 for a method that
  depends on what the model learned.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Tuple

import numpy as np
from google.protobuf.message import Message
from scipy import stats

from glassbox.explain.image_model import ImageModel, predicted_classes, targets
from glassbox.explain.model_function import Columns

DEFAULT_FIDELITY_STEPS = 10
DEFAULT_SANITY_ROWS = 8

# (model, images, targets, held, options, seed) -> maps (n, h, w) and the method's own accuracy.
MapFunction = Callable[
    [ImageModel, np.ndarray, np.ndarray, Columns, Message, int], Tuple[np.ndarray, dict]
]


@dataclasses.dataclass(frozen=True)
class ImageAttributions:
    """One method's heat maps of the explained images.

    Attributes:
      method: e.g. 'grad_cam', 'occlusion'.
      maps: (n, h, w) attribution per pixel position (summed over channels).
      targets: (n,) the class each map explains.
      scores: (n,) the model's score of that class.
      predicted: (n,) the class the model predicts (image_model.predicted_classes).
      accuracy: JSON values: the method's own (e.g. IG's completeness delta), 'fidelity',
        'sanity'.
    """

    method: str
    maps: np.ndarray
    targets: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray
    accuracy: dict


def _curve(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    order: np.ndarray,
    steps: int,
    insertion: bool,
) -> np.ndarray:
    """(n, steps + 1) scores as fractions 0, 1/steps, ..., 1 of the pixel positions, in each row's
    order, are removed (deletion) or restored from the baseline image (insertion)."""
    n, h, w, c = images.shape
    positions = h * w
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(positions)[None, :], axis=1)
    fractions = np.linspace(0, 1, steps + 1)
    chosen = ranks[:, None, :] < np.round(fractions * positions)[None, :, None]  # (n, s, hw)
    keep = chosen if insertion else ~chosen
    flat = images.reshape(n, 1, positions, c)
    stepped = np.where(keep[..., None], flat, np.float32(model.baseline_value))
    repeated = {name: np.repeat(values, steps + 1) for name, values in held.items()}
    scores = model.scores(
        stepped.reshape(n * (steps + 1), h, w, c), np.repeat(target, steps + 1), repeated
    )
    return scores.reshape(n, steps + 1)


def _area(curve: np.ndarray) -> float:
    """Mean over rows of the area under each curve on [0, 1] (trapezoids)."""
    return float(np.mean((curve[:, 1:] + curve[:, :-1]) / 2))


def fidelity(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    maps: np.ndarray,
    steps: int,
    seed: int,
) -> dict:
    """Deletion and insertion areas of the maps' order and of a random order (see the module)."""
    n = len(images)
    order = np.argsort(-maps.reshape(n, -1), axis=1, kind="stable")
    rng = np.random.default_rng(seed)
    shuffled = np.argsort(rng.random(order.shape), axis=1)
    result = {"steps": steps}
    for name, insertion in (("deletion", False), ("insertion", True)):
        result[name] = _area(_curve(model, images, target, held, order, steps, insertion))
        result[f"random_{name}"] = _area(
            _curve(model, images, target, held, shuffled, steps, insertion)
        )
    return result


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Mean over rows of the Spearman correlation of maps first and second (n, h, w); a constant
    map counts 0."""
    values = []
    for a, b in zip(first.reshape(len(first), -1), second.reshape(len(second), -1)):
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            values.append(0.0)
        else:
            values.append(float(stats.spearmanr(a, b).statistic))
    return float(np.mean(values))


def explain_images(
    name: str,
    maps_of: MapFunction,
    model: ImageModel,
    rows: Columns,
    options: Message,
    seed: int,
) -> ImageAttributions:
    """The maps of method ``name`` for the rows' images, with their fidelity and sanity check.

    Raises:
      ExplanationError: see ImageModel and the method.
    """
    images = model.images(rows)
    held = {key: np.asarray(values) for key, values in rows.items() if key != model.feature}
    outputs = model.outputs(images, held)
    target = targets(outputs, model.class_index)
    maps, accuracy = maps_of(model, images, target, held, options, seed)
    image = model.config
    steps = image.fidelity_steps or DEFAULT_FIDELITY_STEPS
    accuracy["fidelity"] = fidelity(model, images, target, held, maps, steps, seed)
    size = min(len(images), image.sanity_rows or DEFAULT_SANITY_ROWS)
    few = {key: values[:size] for key, values in held.items()}
    with model.randomised(seed):
        randomised, _ = maps_of(model, images[:size], target[:size], few, options, seed)
    accuracy["sanity"] = {
        "rows": size,
        "rank_correlation": rank_correlation(maps[:size], randomised),
        "absolute_rank_correlation": rank_correlation(np.abs(maps[:size]), np.abs(randomised)),
    }
    return ImageAttributions(
        name,
        maps,
        target,
        outputs[np.arange(len(images)), target],
        predicted_classes(outputs),
        accuracy,
    )
