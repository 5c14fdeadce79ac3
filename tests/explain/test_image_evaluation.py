"""Image explanations through `glassbox evaluate --explain-config`: on the ground-truth CNN
(tests/support/image_models.py) and its tf.Examples holding PNGs, the evaluation writes each
drawn row's Grad-CAM, occlusion and superpixel Shapley maps (image_maps.npz), equal to glassbox.explain's maps of the
same images, pointing at the patch; per slice (label:0, label:1) the mean map of each explained
class and true label; the methods' accuracy in the summary; the image in explanations.json as its
size. An image method without image.feature exits 2 naming the field."""

import json
import os

import numpy as np
import pytest

from glassbox import cli, keys
from glassbox.data.models import ServingModel
from glassbox.explain.grad_cam import grad_cam
from glassbox.explain.image_model import ImageModel
from glassbox.explain.occlusion import occlusion
from glassbox.explain.superpixel_shapley import superpixel_shapley
from glassbox.protos.explain_config_pb2 import GradCam, ImageInput, Occlusion, SuperpixelShapley
from tests.support import image_models, saved_models

NUM_EXAMPLES = 120
EVAL_CONFIG = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "label" }
metrics_specs { metrics { class_name: "ExampleCount" } metrics { class_name: "AUC" } }
"""
EXPLAIN_CONFIG = """
image { feature: "image" }
explained_rows { count: 12 }
per_slice: true
seed: 3
methods { grad_cam {} }
methods { occlusion { patch_size: 2 } }
methods { superpixel_shapley { num_superpixels: 8 compactness: 0.3 } }
"""


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("image_evaluation")
    images, labels, masks = image_models.patch_images(NUM_EXAMPLES, seed=21)
    return {
        "root": root,
        "images": images,
        "masks": masks,
        "examples": saved_models.write_tfrecords(
            str(root / "data" / "eval.gz"), image_models.examples(images, labels)
        ),
        "eval_config": _write(root / "eval_config.pbtxt", EVAL_CONFIG),
    }


def _evaluate(model_dir, data, explain_config, name):
    output = str(data["root"] / name)
    code = cli.main(
        [
            "evaluate",
            "--model",
            model_dir,
            "--examples",
            data["examples"],
            "--eval-config",
            data["eval_config"],
            "--explain-config",
            _write(data["root"] / f"{name}.pbtxt", explain_config),
            "--output",
            output,
        ]
    )
    return code, output


@pytest.fixture(scope="module")
def evaluated(trained_image_model, data):
    code, output = _evaluate(trained_image_model.model_dir, data, EXPLAIN_CONFIG, "output")
    assert code == 0
    with open(os.path.join(output, keys.IMAGE_EXPLANATIONS_FILE)) as f:
        written = json.load(f)
    with open(os.path.join(output, keys.IMAGE_MAPS_FILE), "rb") as f:
        arrays = dict(np.load(f))
    return output, written, arrays


def test_written_maps_are_glassbox_maps_of_drawn_images_and_point_at_the_patch(
    trained_image_model,
    data,
    evaluated,
):
    _, written, arrays = evaluated
    model = ImageModel(
        ServingModel(trained_image_model.model_dir), "probabilities", ImageInput(feature="image")
    )
    images = data["images"].astype(np.float32)
    target = np.zeros(len(images), int)
    expected = {
        "grad_cam": grad_cam(model, images, target, {}, GradCam(), 0)[0],
        "occlusion": occlusion(model, images, target, {}, Occlusion(patch_size=2), 0)[0],
        "superpixel_shapley": superpixel_shapley(
            model, images, target, {}, SuperpixelShapley(num_superpixels=8, compactness=0.3), 3
        )[0],
    }
    rows = written["examples"]
    assert len(rows) == len(arrays["ids"]) and [row["id"] for row in rows] == list(arrays["ids"])
    labels = np.array([row["label"] for row in rows])
    assert set(labels) == {0, 1}
    for method, maps in expected.items():
        got = arrays[f"candidate/{method}/maps"]
        assert got.shape == (len(rows), 16, 16)
        distance = np.abs(got[:, None] - maps[None]).reshape(len(got), len(maps), -1).max(axis=2)
        index = distance.argmin(axis=1)
        assert distance.min(axis=1).max() < 1e-5  # each written map is one image's map
        peaks = got.reshape(len(got), -1).argmax(axis=1)

        hits = data["masks"][index].reshape(len(got), -1)[np.arange(len(got)), peaks]
        assert hits[labels == 1].all()  # pointing game on the rows with the patch
        # Per slice, each true label's mean map is the mean of its rows' maps.
        summary = written["models"]["candidate"]["methods"][method]
        assert set(summary["slices"]) == {"Overall", "label:0", "label:1"}
        for label in (0, 1):
            on_slice = summary["slices"][f"label:{label}"]
            members = np.array([f"label:{label}" in row["slices"] for row in rows])
            assert on_slice["rows"] == members.sum() == 12 and (labels[members] == label).all()
            np.testing.assert_allclose(
                on_slice["by_label"][str(label)]["mean_map"],
                got[members].mean(axis=0),
                rtol=1e-3,
                atol=1e-6,
            )
        assert summary["slices"]["Overall"]["by_class"]["0"]["rows"] == 12
        assert (
            summary["accuracy"]["fidelity"]["deletion"]
            < summary["accuracy"]["fidelity"]["random_deletion"]
        )
        assert all(row["models"]["candidate"][method]["class"] == 0 for row in rows)


def test_summary_states_the_image_methods_accuracy_and_explanations_show_the_image_size(
    evaluated,
):
    output, _, _ = evaluated
    with open(os.path.join(output, keys.EXPLANATION_SUMMARY_FILE)) as f:
        summary = json.load(f)
    methods = summary["models"]["candidate"]["image_methods"]
    assert methods["grad_cam"]["layer"] == "conv2"
    assert methods["occlusion"]["patches"] == 64
    assert methods["superpixel_shapley"]["algorithm"] == "exact_shapley"
    with open(os.path.join(output, keys.EXPLANATIONS_FILE)) as f:
        example = json.load(f)["examples"][0]
    assert example["features"]["image"].startswith("<encoded image, ")


def test_an_image_method_without_the_image_feature_exits_2_naming_the_field(
    trained_image_model,
    data,
    capsys,
):
    code, output = _evaluate(
        trained_image_model.model_dir, data, "methods { grad_cam {} }", "no_image"
    )
    assert code == 2
    error = capsys.readouterr().err
    assert "'image.feature' is empty" in error and "Traceback" not in error
    assert not os.path.exists(output) or not os.listdir(output)  # nothing written
