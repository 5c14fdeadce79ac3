"""Attribution gates on an image method, on real models evaluated by `glassbox evaluate`: the
bright-patch CNN (tests/support/image_models.py) as the candidate, against a baseline that finds
the patch too (their mean heat maps' top pixels overlap: passes) and one that looks only at the
bottom-right corner (fails, naming the slice, the method and the IoU found); the gate fails
closed on a slice without maps and without image explanations; without a baseline, it is
skipped, saying so."""

import os
import re
import shutil

import numpy as np
import pytest
from google.protobuf import text_format

from glassbox import keys
from glassbox.protos import validator_config_pb2
from glassbox.validation import explanation_files
from glassbox.validation.validate import validate
from tests.support import explained_runs, image_models, saved_models

EXPLAIN_CONFIG = """
image { feature: "image" }
explained_rows { count: 12 }
per_slice: true
seed: 3
methods { occlusion { patch_size: 2 } }
"""
PATCH_SLICE = "slicing_spec { feature_values { key: 'label' value: '1' } }"
HEAT_MAPS = f"""attribution_gates {{
  method: "occlusion" min_heat_map_overlap {{ top_fraction: 0.1 min_iou: 0.5 }} {PATCH_SLICE}
}}"""


@pytest.fixture(scope="module")
def evaluations(trained_image_model, tmp_path_factory):
    """Evaluation dirs by name: the candidate against the patch detector ('agrees'), the corner
    model ('elsewhere'), and alone ('first')."""
    root = tmp_path_factory.mktemp("image_gates")
    images, labels, _ = image_models.patch_images(120, seed=21)
    baselines = {
        "agrees": image_models.patch_detector("patch_detector"),
        "elsewhere": image_models.corner_model("corner_model"),
        "first": None,
    }
    examples = saved_models.write_tfrecords(
        str(root / "eval.gz"), image_models.examples(images, labels)
    )
    result = {}
    for name, baseline in baselines.items():
        baseline_dir = baseline and image_models.export(baseline, str(root / f"{name}_model"))
        result[name] = explained_runs.evaluate(
            root,
            name,
            trained_image_model.model_dir,
            examples,
            explained_runs.SLICED_BY_LABEL,
            EXPLAIN_CONFIG,
            baseline_dir,
        )
    return result


def _gates(text: str) -> validator_config_pb2.ValidatorConfig:
    return text_format.Parse(text, validator_config_pb2.ValidatorConfig())


def _checks(decision):
    return [c for c in decision.checks if c.kind == "attribution"]


def test_heat_maps_on_the_same_pixels_as_the_baseline_s_pass(evaluations):
    decision = validate(evaluations["agrees"], _gates(HEAT_MAPS))
    [check] = _checks(decision)
    assert (check.slice, check.passed, check.metric) == (
        "label:1",
        True,
        "heat-map IoU of occlusion",
    )
    assert check.value >= 0.5  # measured 0.667: both models' maps sit on the patches
    assert check.sentence == (
        "On label:1, the top 10% of pixels of the candidate's and the baseline's mean occlusion "
        f"heat maps overlap with an IoU of {check.value:.6g} for class 0 (the only class both "
        "explained), at least the required 0.5."
    )
    assert decision.blessed


def test_a_baseline_looking_elsewhere_fails_naming_slice_method_and_iou(evaluations):
    decision = validate(evaluations["elsewhere"], _gates(HEAT_MAPS))
    [check] = _checks(decision)
    assert (check.passed, check.value) == (False, 0.0)
    assert check.sentence == (
        "On label:1, the top 10% of pixels of the candidate's and the baseline's mean occlusion "
        "heat maps overlap with an IoU of 0 for class 0 (the only class both explained), below "
        "the required 0.5."
    )
    assert not decision.blessed
    # The corner model's map: all its mass in the corner it reads.
    maps = explanation_files.class_maps(
        explanation_files.read_explanations(evaluations["elsewhere"], keys.IMAGE_EXPLANATIONS_FILE),
        "baseline",
        "occlusion",
        "label:1",
    )["0"]
    corner = np.zeros_like(maps, bool)
    corner[-image_models.PATCH :, -image_models.PATCH :] = True
    assert np.abs(maps[~corner]).max() == 0 and np.abs(maps[corner]).min() > 0


def test_without_the_method_s_maps_or_any_image_explanations_the_gate_fails_closed(
    evaluations, tmp_path
):
    gate = "attribution_gates { method: 'grad_cam' min_heat_map_overlap { top_fraction: 0.2 min_iou: 0.1 } }"
    decision = validate(evaluations["agrees"], _gates(gate))
    [check] = _checks(decision)
    assert not check.passed and not decision.blessed
    assert check.sentence == (
        "The attribution gate (an IoU >= 0.1 of the top 20% of pixels of each class's mean "
        "grad_cam heat map with the baseline's) on Overall cannot be checked: the evaluation "
        "holds no grad_cam attributions of the candidate model (image_explanations.json holds: "
        "occlusion)."
    )
    copy = shutil.copytree(evaluations["agrees"], tmp_path / "without_images")
    os.remove(copy / keys.IMAGE_EXPLANATIONS_FILE)
    [check] = _checks(validate(str(copy), _gates(HEAT_MAPS)))
    assert not check.passed and check.sentence.endswith(
        "on label:1 cannot be checked: the evaluation holds no image explanations "
        "(image_explanations.json)."
    )


def test_without_a_baseline_the_gate_is_skipped_saying_so(evaluations):
    decision = validate(evaluations["first"], _gates(HEAT_MAPS))
    [check] = _checks(decision)
    assert check.skipped and check.passed
    assert re.fullmatch(
        r"The attribution gate \(an IoU >= 0.5 of the top 10% of pixels of each class's mean "
        r"occlusion heat map with the baseline's\) on label:1 is skipped: there is no baseline "
        r"model to compare with \(first model, rubber stamp\)\.",
        check.sentence,
    )
    assert not decision.blessed  # every check skipped: the policy's default, REFUSE


def test_the_overlap_of_top_pixels_by_hand():
    candidate = np.array([[4.0, 3.0, 0.0, 0.0], [2.0, 2.0, 1.0, 0.0]])
    baseline = np.array([[0.0, -3.0, 5.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    # top 25% = the 2 largest |values|: candidate {4, 3}; baseline {5, |-3|}: IoU 1 / 3.
    assert explanation_files.overlap(candidate, baseline, 0.25) == pytest.approx(1 / 3)
    # top 50% = 4 pixels: candidate 4, 3 and both 2s (ties included); baseline its 3 non-zero.
    assert explanation_files.overlap(candidate, baseline, 0.5) == pytest.approx(2 / 5)
    assert explanation_files.overlap(np.zeros((2, 2)), np.zeros((2, 2)), 0.5) is None
