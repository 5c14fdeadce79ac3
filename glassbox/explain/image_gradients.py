"""Gradient methods on pixels: integrated gradients from the all-baseline image, with each image's
completeness delta (|sum of its map - (f(x) - f(baseline))|, 0 for the exact path integral, in
Gauss-Legendre steps as integrated_gradients), and SmoothGrad (Smilkov et al. 2017): the gradient
averaged over noisy copies of the image, times (image - baseline).

Both need a model differentiable in its pixels (ImageModel.differentiable).
"""

from __future__ import annotations

from typing import Callable, Tuple

import numpy as np
import tensorflow as tf

from glassbox.explain.errors import ExplanationError
from glassbox.explain.image_model import IMAGE_BATCH, ImageModel
from glassbox.explain.integrated_gradients import DEFAULT_STEPS, path_nodes
from glassbox.explain.model_function import Columns
from glassbox.protos.explain_config_pb2 import ImageIntegratedGradients, SmoothGrad

DEFAULT_SMOOTHGRAD_SAMPLES = 16
DEFAULT_NOISE_LEVEL = 0.15


def _gradients(
    function: Callable, points: np.ndarray, target: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Scores (m,) and gradients (m, h, w, c) of points, IMAGE_BATCH at a time."""
    scores, gradients = [], []
    for start in range(0, len(points), IMAGE_BATCH):
        x = tf.constant(points[start : start + IMAGE_BATCH], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = function(x, target[start : start + IMAGE_BATCH])
        gradient = tape.gradient(score, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        scores.append(np.asarray(score, np.float64))
        gradients.append(np.asarray(gradient, np.float64))
    scores, gradients = np.concatenate(scores), np.concatenate(gradients)
    if not (np.isfinite(scores).all() and np.isfinite(gradients).all()):
        raise ExplanationError("the model's scores or gradients of the images are not finite")
    return scores, gradients


def image_integrated_gradients(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    options: ImageIntegratedGradients,
    seed: int,
) -> Tuple[np.ndarray, dict]:
    """Integrated gradients per pixel position (summed over channels) and their completeness."""
    del seed  # deterministic
    function = model.differentiable(images, target, held)
    steps = options.steps or DEFAULT_STEPS
    alphas, weights = path_nodes(steps)
    baseline = np.full_like(images[:1], model.baseline_value, dtype=np.float64)
    difference = images - baseline
    rows_per_call = max(1, IMAGE_BATCH // len(alphas))
    maps, deltas, relative = [], [], []
    for start in range(0, len(images), rows_per_call):
        part = difference[start : start + rows_per_call]
        points = baseline[:, None] + alphas[None, :, None, None, None] * part[:, None]
        scores, gradients = _gradients(
            function,
            points.reshape((-1,) + images.shape[1:]),
            np.repeat(target[start : start + rows_per_call], len(alphas)),
        )
        gradients = gradients.reshape((len(part), len(alphas)) + images.shape[1:])
        integral = np.tensordot(weights, gradients, axes=([0], [1])) * part
        scores = scores.reshape(len(part), len(alphas))
        change = scores[:, -1] - scores[:, -2]
        pixel_maps = integral.sum(axis=-1)
        delta = np.abs(pixel_maps.reshape(len(part), -1).sum(axis=1) - change)
        maps.append(pixel_maps)
        deltas.append(delta)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative.append(np.where(np.abs(change) > 0, delta / np.abs(change), np.nan))
    deltas, relative = np.concatenate(deltas), np.concatenate(relative)
    return np.concatenate(maps), {
        "steps": steps,
        "max_convergence_delta": float(deltas.max()),
        "mean_convergence_delta": float(deltas.mean()),
        "max_relative_delta": float(np.nanmax(relative)) if np.isfinite(relative).any() else None,
    }


def smooth_grad(
    model: ImageModel,
    images: np.ndarray,
    target: np.ndarray,
    held: Columns,
    options: SmoothGrad,
    seed: int,
) -> Tuple[np.ndarray, dict]:
    """SmoothGrad times (image - baseline) per pixel position (summed over channels)."""
    function = model.differentiable(images, target, held)
    samples = options.num_samples or DEFAULT_SMOOTHGRAD_SAMPLES
    level = options.noise_level or DEFAULT_NOISE_LEVEL
    rng = np.random.default_rng(seed)
    rows_per_call = max(1, IMAGE_BATCH // samples)
    maps = []
    for start in range(0, len(images), rows_per_call):
        part = images[start : start + rows_per_call]
        spread = (part.max(axis=(1, 2, 3)) - part.min(axis=(1, 2, 3))) * level
        noise = rng.normal(size=(len(part), samples) + images.shape[1:])
        noisy = part[:, None] + noise * spread[:, None, None, None, None]
        _, gradients = _gradients(
            function,
            noisy.reshape((-1,) + images.shape[1:]),
            np.repeat(target[start : start + rows_per_call], samples),
        )
        mean = gradients.reshape(noisy.shape).mean(axis=1)
        maps.append((mean * (part - model.baseline_value)).sum(axis=-1))
    return np.concatenate(maps), {"num_samples": samples, "noise_level": level}
