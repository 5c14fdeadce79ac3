"""What image explanations cost, against plain inference of the same images.

    uv run python -m benchmarks.image_explanations

Model: the 10-class CNN of tests/support/image_models.py trained on scikit-learn's digits (16x16
grey, 98% held-out accuracy), exported as TFX exports it (serving_default on tf.Examples holding
PNGs, model.keras beside it). Images: the first 1,000 digits. Each phase is timed REPEATS times,
keeping the fastest (wall clock; a shared machine disturbs the others):

  keras inference       the Keras model on the 1,000 decoded images (one call)
  signature inference   serving_default on the 1,000 serialized tf.Examples (one call)
  grad_cam maps         Grad-CAM of each image's predicted class (forward and backward through
                        the Keras model, after the 16-image check against the signature)
  ...                   the other methods' maps, on fewer images (--rows), per image
  explain_images        Grad-CAM with its stated accuracy (deletion, insertion, random orders,
                        sanity check), as the evaluation runs it
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import tensorflow as tf

from glassbox.data.models import ServingModel
from glassbox.explain.grad_cam import grad_cam
from glassbox.explain.image_attributions import explain_images
from glassbox.explain.image_gradients import image_integrated_gradients, smooth_grad
from glassbox.explain.image_model import ImageModel, targets
from glassbox.explain.occlusion import occlusion
from glassbox.protos.explain_config_pb2 import (
    GradCam,
    ImageInput,
    ImageIntegratedGradients,
    Occlusion,
    SmoothGrad,
)
from tests.support import image_models

REPEATS = 3


def best(function, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100, help="images for the slower methods")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        trained = image_models.train_digits(f"{directory}/model")
        images, labels = image_models.digits()
        images, labels = images[: args.images], labels[: args.images]
        serialized = tf.constant(image_models.examples(images, labels))
        serving = ServingModel(trained.model_dir)
        model = ImageModel(serving, "probabilities", ImageInput(feature=image_models.FEATURE))
        pixels = images.astype(np.float32)
        keras_model = model.keras_model
        scaled = tf.constant(pixels / 255.0)
        keras_model(scaled[:8])  # traced once
        serving.call_serialized(serialized[:8])
        keras_s = best(lambda: keras_model(scaled, training=False).numpy())
        signature_s = best(lambda: serving.call_serialized(serialized)["probabilities"].numpy())
        target = targets(model.outputs(pixels, {}), None)
        print(f"held-out accuracy {trained.accuracy:.3f}; {args.images} images 16x16x1")
        print(
            f"{'phase':36} {'seconds':>9} {'x keras':>9} {'x signature':>12} {'per image ms':>13}"
        )

        def line(name, seconds, count):
            per_batch = seconds * args.images / count
            print(
                f"{name:36} {seconds:9.3f} {per_batch / keras_s:9.1f} "
                f"{per_batch / signature_s:12.1f} {1000 * seconds / count:13.2f}"
            )

        line("keras inference", keras_s, args.images)
        line("signature inference", signature_s, args.images)
        line(
            "grad_cam maps",
            best(lambda: grad_cam(model, pixels, target, {}, GradCam(), 0)),
            args.images,
        )
        few, few_target = pixels[: args.rows], target[: args.rows]
        for name, run in (
            (
                "occlusion maps (2x2: 64 patches)",
                lambda: occlusion(model, few, few_target, {}, Occlusion(patch_size=2), 0),
            ),
            (
                "occlusion maps (4x4: 16 patches)",
                lambda: occlusion(model, few, few_target, {}, Occlusion(patch_size=4), 0),
            ),
            (
                "integrated gradients (64 steps)",
                lambda: image_integrated_gradients(
                    model, few, few_target, {}, ImageIntegratedGradients(), 0
                ),
            ),
            (
                "smooth_grad (16 samples)",
                lambda: smooth_grad(model, few, few_target, {}, SmoothGrad(), 0),
            ),
        ):
            line(name, best(run, 1), args.rows)
        rows = {image_models.FEATURE: serialized_images(images)}
        line(
            "explain_images(grad_cam): + accuracy",
            best(lambda: explain_images("grad_cam", grad_cam, model, rows, GradCam(), 0), 1),
            args.images,
        )


def serialized_images(images: np.ndarray) -> np.ndarray:
    return np.array([tf.io.encode_png(image).numpy() for image in images], object)


if __name__ == "__main__":
    main()
