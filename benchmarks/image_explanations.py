"""What image and text explanations cost, against plain inference of the same inputs, and how
faithful each method's ranking is.

    uv run python -m benchmarks.image_explanations

Images: the 10-class CNN of tests/support/image_models.py trained on scikit-learn's digits (16x16
grey, 98% held-out accuracy), exported as TFX exports it (serving_default on tf.Examples holding
PNGs, model.keras beside it); the first 1,000 digits. Texts: the keyword LSTM of
tests/support/text_models.py (8 tokens a text, model.keras beside it); --texts keyword texts. Each
cheap phase is timed REPEATS times, keeping the fastest by wall clock, with its CPU time (all
threads; a shared machine stretches the wall clock, less the CPU):

  keras inference       the Keras model on the 1,000 decoded images (one call)
  signature inference   serving_default on the 1,000 serialized tf.Examples (one call)
  grad_cam maps         Grad-CAM of each image's predicted class (forward and backward through
                        the Keras model, after the 16-image check against the signature)
  ...                   the other methods' maps, on fewer images (--rows), once, per image
  explain_images        Grad-CAM with its stated accuracy (deletion, insertion, random orders,
                        sanity check), as the evaluation runs it
  text ...              the text methods on --texts texts, once, each with its deletion fidelity

Fidelity (image_attributions.fidelity, text.token_attributions; not timed): the mean area under
the class score as the top-attributed pixels (tokens) are removed (deletion: lower is better) or
restored (insertion: higher is better), beside the same for a random order.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import tensorflow as tf

from glassbox.data.models import ServingModel
from glassbox.explain.grad_cam import grad_cam
from glassbox.explain.image_attributions import DEFAULT_FIDELITY_STEPS, explain_images, fidelity
from glassbox.explain.image_gradients import image_integrated_gradients, smooth_grad
from glassbox.explain.image_model import ImageModel, targets
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.occlusion import occlusion
from glassbox.explain.superpixel_shapley import superpixel_shapley
from glassbox.explain.text import token_occlusion, token_shapley
from glassbox.explain.text_gradients import text_integrated_gradients
from glassbox.protos.explain_config_pb2 import (
    GradCam,
    ImageInput,
    ImageIntegratedGradients,
    Occlusion,
    Shapley,
    SmoothGrad,
    SuperpixelShapley,
    TextInput,
    TextIntegratedGradients,
    TokenOcclusion,
    TokenShapley,
)
from tests.support import image_models, text_models

REPEATS = 3


def best(function, repeats: int = REPEATS):
    """(wall s, CPU s) of the run with the least wall clock, and its result."""
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu, result))
    return min(runs, key=lambda run: run[0])


HEADER = (
    f"{'phase':40} {'wall s':>8} {'CPU s':>8} {'x infer':>8} {'ms/input':>9} "
    f"{'deletion':>9} {'random':>7} {'insertion':>9} {'random':>7}"
)


def line(name, run, count, inference_s, total, fidelity_of=None) -> None:
    """One phase: its times, its CPU per input as a multiple of inference's (inference_s CPU for
    total inputs), and the fidelity of its maps when fidelity_of is given."""
    wall, cpu, result = run
    scores = ""
    if fidelity_of is not None:
        f = fidelity_of(result)
        scores = f"{f['deletion']:9.3f} {f['random_deletion']:7.3f}"
        if "insertion" in f:
            scores += f" {f['insertion']:9.3f} {f['random_insertion']:7.3f}"
    print(
        f"{name:40} {wall:8.3f} {cpu:8.3f} {cpu * total / count / inference_s:8.1f} "
        f"{1000 * cpu / count:9.2f} {scores}"
    )


def images_part(args, directory: str) -> None:
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
    keras = best(lambda: keras_model(scaled, training=False).numpy())
    signature = best(lambda: serving.call_serialized(serialized)["probabilities"].numpy())
    target = targets(model.outputs(pixels, {}), None)
    print(f"held-out accuracy {trained.accuracy:.3f}; {args.images} images 16x16x1")
    print(HEADER + "   (x infer: CPU per image over the Keras model's)")
    n = args.images
    line("keras inference", keras, n, keras[1], n)
    line("signature inference", signature, n, keras[1], n)
    few, few_target = pixels[: args.rows], target[: args.rows]

    def faithful(result):
        return fidelity(model, few, few_target, {}, result[0], DEFAULT_FIDELITY_STEPS, 0)

    line(
        "grad_cam maps",
        best(lambda: grad_cam(model, pixels, target, {}, GradCam(), 0)),
        n,
        keras[1],
        n,
        lambda result: fidelity(
            model, few, few_target, {}, result[0][: args.rows], DEFAULT_FIDELITY_STEPS, 0
        ),
    )
    exact, kernel = Shapley(algorithm=Shapley.EXACT), Shapley(algorithm=Shapley.KERNEL)
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
        (
            "superpixel_shapley exact (SLIC 12)",
            lambda: superpixel_shapley(
                model, few, few_target, {}, SuperpixelShapley(num_superpixels=12, shapley=exact), 0
            ),
        ),
        (
            "superpixel_shapley kernel (SLIC 16)",
            lambda: superpixel_shapley(
                model, few, few_target, {}, SuperpixelShapley(shapley=kernel), 0
            ),
        ),
    ):
        line(name, best(run, 1), args.rows, keras[1], n, faithful)
    rows = {image_models.FEATURE: serialized_images(images)}
    line(
        "explain_images(grad_cam): + accuracy",
        best(lambda: explain_images("grad_cam", grad_cam, model, rows, GradCam(), 0), 1),
        n,
        keras[1],
        n,
    )


def texts_part(args, directory: str) -> None:
    trained = text_models.train_text(f"{directory}/text_model")
    texts, _, _ = text_models.keyword_texts(args.texts, seed=5)
    rows = {text_models.FEATURE: np.array([t.encode() for t in texts], object)}
    function = SavedModelFunction(trained.model_dir)
    function(rows)  # traced once
    inference = best(lambda: function(rows))
    text = TextInput(feature=text_models.FEATURE)
    print(f"\nheld-out accuracy {trained.accuracy:.3f}; {args.texts} texts of 8 tokens")
    print(HEADER + "   (x infer: CPU per text over the signature's)")
    n = args.texts
    line("signature inference", inference, n, inference[1], n)
    kernel = TokenShapley(shapley=Shapley(algorithm=Shapley.KERNEL))
    for name, run in (
        ("token_occlusion", lambda: token_occlusion(function, rows, text, TokenOcclusion(), 0)),
        (
            "token_shapley exact (2^8 + 1)",
            lambda: token_shapley(function, rows, text, TokenShapley(), 0),
        ),
        ("token_shapley kernel (2,048)", lambda: token_shapley(function, rows, text, kernel, 0)),
        (
            "text_integrated_gradients (4,096)",
            lambda: text_integrated_gradients(function, rows, text, TextIntegratedGradients(), 0),
        ),
    ):
        line(name, best(run, 1), n, inference[1], n, lambda result: result.accuracy["fidelity"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100, help="images for the slower methods")
    parser.add_argument("--texts", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        images_part(args, directory)
        texts_part(args, directory)


def serialized_images(images: np.ndarray) -> np.ndarray:
    return np.array([tf.io.encode_png(image).numpy() for image in images], object)


if __name__ == "__main__":
    main()
