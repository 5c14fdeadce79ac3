"""The report's Images and Texts views in headless Chromium, on real evaluations through
`glassbox evaluate --baseline`: scikit-learn's digits with two small Keras 3 CNNs exported as TFX
exports them (tests/support/image_models.py), explained by Grad-CAM and occlusion, and the keyword
texts with two LSTM models (tests/support/text_models.py), explained by token occlusion. Each
explained image is drawn with its heat-map overlay per method, candidate beside baseline; the
filters (slice, true class, predicted class, correct or not) show the rows the written data says;
each token is shaded by its written attribution, the value in its tooltip and as text; at 1400 and
800 px. Attribution gates on those methods (heat-map IoU, top tokens, a token's share) are stated
in the Images and Texts views, each check its sentence, and in the Validation view's checks."""

import base64
import json
import os

import numpy as np
import pytest
from google.protobuf import text_format

from glassbox import keys
from glassbox.protos import validator_config_pb2
from glassbox.report import gallery
from glassbox.report.load import build_report
from glassbox.report.render import render_html
from glassbox.validation.validate import validate, write_validation
from tests.support import explained_runs, image_models, report_browser, saved_models, text_models

IMAGE_EXPLAIN = """
image { feature: "image" }
explained_rows { count: 5 }
per_slice: true
seed: 3
methods { grad_cam {} }
methods { occlusion { patch_size: 4 } }
"""
TEXT_EXPLAIN = """
text { feature: "text" }
explained_rows { count: 12 }
per_slice: true
seed: 4
methods { token_occlusion {} }
"""
DIGITS = 300  # the last 300 of scikit-learn's digits, unseen in training
IMAGE_GATES = """
attribution_gates { method: "grad_cam" min_heat_map_overlap { top_fraction: 0.1 min_iou: 0.2 } }
attribution_gates { method: "occlusion" min_heat_map_overlap { top_fraction: 0.1 min_iou: 1 } }
"""
TEXT_GATES = """
attribution_gates { method: "token_occlusion" top_k_overlap { k: 2 min_overlap: 2 } }
attribution_gates {
  method: "token_occlusion" max_feature_share { feature: "excellent" max_share: 0.1 }
}
"""


def evaluate(root, name, model_dir, baseline_dir, examples, explain_config):
    """`glassbox evaluate --baseline ... --explain-config ...` into root/name; its path."""
    examples = saved_models.write_tfrecords(str(root / f"{name}.gz"), examples)
    return explained_runs.evaluate(
        root,
        name,
        model_dir,
        examples,
        explained_runs.SLICED_BY_LABEL,
        explain_config,
        baseline_dir,
    )


def digits_evaluation(root, candidate_dir):
    """The digits evaluation: candidate_dir against a CNN trained with another seed."""
    baseline = image_models.train_digits(str(root / "digits_baseline"), seed=1).model_dir
    images, labels = image_models.digits()
    examples = image_models.examples(images[-DIGITS:], labels[-DIGITS:])
    return evaluate(root, "digits", candidate_dir, baseline, examples, IMAGE_EXPLAIN)


def text_evaluation(root, candidate_dir):
    """The keyword-text evaluation: candidate_dir against an LSTM trained with another seed."""
    baseline = text_models.train_text(str(root / "text_baseline"), seed=1).model_dir
    texts, labels, _ = text_models.keyword_texts(200, seed=7)
    return evaluate(
        root, "texts", candidate_dir, baseline, text_models.examples(texts, labels), TEXT_EXPLAIN
    )


def validated_report(root, evaluation, gates):
    """The report of the evaluation and of its validation against the gates; its path and the
    validation's attribution checks."""
    decision = validate(
        evaluation, text_format.Parse(gates, validator_config_pb2.ValidatorConfig())
    )
    write_validation(decision, str(root / "validation"))
    path = root / "report.html"
    path.write_text(render_html(build_report(evaluation, str(root / "validation"))))
    return str(path), [c for c in decision.checks if c.kind == "attribution"]


@pytest.fixture(scope="module")
def digits(trained_digits_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("gallery_digits")
    evaluation = digits_evaluation(root, trained_digits_model.model_dir)
    path, checks = validated_report(root, evaluation, IMAGE_GATES)
    with open(os.path.join(evaluation, keys.IMAGE_EXPLANATIONS_FILE)) as f:
        written = json.load(f)
    return {"path": path, "rows": written["examples"], "dir": evaluation, "checks": checks}


@pytest.fixture(scope="module")
def texts(trained_text_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("gallery_texts")
    evaluation = text_evaluation(root, trained_text_model.model_dir)
    path, checks = validated_report(root, evaluation, TEXT_GATES)
    with open(os.path.join(evaluation, keys.TEXT_EXPLANATIONS_FILE)) as f:
        return {"path": path, "rows": json.load(f)["examples"], "checks": checks}


def _open(browser, path, view, width=1400):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"file://{path}#view={view}")
    page.wait_for_selector(report_browser.RENDERED)
    return page


def _choose(page, name, value):
    page.select_option(f"select[name={name}]", value)
    report_browser.wait_drawn(page)


def _shown(page, kind="figure.gallery-item"):
    return page.locator(kind).evaluate_all("nodes => nodes.map(n => n.dataset.row)")


def test_the_images_view_draws_each_map_over_its_image_and_filters_by_the_written_rows(
    browser, digits
):
    written = digits["rows"]
    assert len(written) == 50  # 5 per digit: the view carries 48, balanced over the digits
    page = _open(browser, digits["path"], "images")
    shown = _shown(page)
    by_id = {row["id"]: row for row in written}
    rows = [by_id[i] for i in shown]
    label = lambda row: str(int(row["label"]))  # noqa: E731
    counts = {c: sum(label(row) == c for row in rows) for c in map(str, range(10))}
    assert sorted(counts.values()) == [4, 4] + [5] * 8  # every digit, none left out for another
    assert [label(row) for row in rows] == sorted(label(row) for row in rows)  # grouped by class
    assert page.locator("[data-summary=images]").inner_text() == (
        "48 of 48 images shown; the report carries 48 of 50 explained images, up to 5 per true"
        " class (within a class, wrong predictions first)"
    )
    assert page.locator("h3.gallery-class").all_inner_texts() == [
        f"True class {c}: {counts[c]} shown" for c in map(str, range(10))
    ]
    for role in ("candidate", "baseline"):
        for method in ("grad_cam", "occlusion"):
            assert page.locator(f"canvas[data-role={role}][data-method={method}]").count() == 48
    # a method's two maps of an image on one scale, the larger largest |value|, stated under them
    arrays = np.load(os.path.join(digits["dir"], keys.IMAGE_MAPS_FILE))
    at = {row["id"]: i for i, row in enumerate(written)}
    scales = page.locator("figure.gallery-item").evaluate_all(
        """figures => figures.map(f => [f.dataset.row, ...['grad_cam', 'occlusion'].map(m =>
             [...f.querySelectorAll(`[data-method=${m}]`)].map(n => [n.tagName, n.dataset.scale]))])"""
    )
    for row, *methods in scales:
        for method, drawn in zip(("grad_cam", "occlusion"), methods):
            largest = max(
                np.abs(arrays[f"{role}/{method}/maps"][at[row]]).max()
                for role in ("candidate", "baseline")
            )
            assert [tag for tag, _ in drawn] == ["CANVAS", "CANVAS", "SPAN"]
            assert [float(scale) for _, scale in drawn] == [float(f"{largest:.4g}") or 1.0] * 3
    legend = page.locator(".scale-legend", has=page.locator(".scale-bar")).first
    scale = legend.get_attribute("data-scale")
    assert legend.inner_text().split() == [f"-{scale}", f"+{scale}"] + (
        "(one scale for candidate and baseline)".split()
    )
    # the largest cell of the strongest shown candidate Grad-CAM map is red over the image
    maps = arrays["candidate/grad_cam/maps"]
    strongest = max(shown, key=lambda i: maps[at[i]].max())
    heat_map = maps[at[strongest]]
    r, c = np.unravel_index(heat_map.argmax(), heat_map.shape)
    pixels = page.evaluate(
        """([row, r, c]) => [...document.querySelector(`figure.gallery-item[data-row="${row}"]`)
             .querySelectorAll('canvas')]
             .map(canvas => { const step = canvas.width / 16, x = c * step + step / 2;
               return [...canvas.getContext('2d').getImageData(x, r * step + step / 2, 1, 1).data]; })""",
        [strongest, int(r), int(c)],
    )
    image, overlay = pixels[0], pixels[1]  # the image, then the candidate's Grad-CAM
    assert image[0] == image[1] == image[2]  # grey
    assert overlay[0] - overlay[1] > 80 and overlay[0] - overlay[2] > 80  # red over grey
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 1000})
        browser.screenshot(page, f"gallery-images-{width}")
    # each filter keeps the rows the written data says
    predicted = lambda row, role="candidate": str(row["predicted"][role])  # noqa: E731
    for digit, count in counts.items():
        _choose(page, "iclass", digit)
        assert len(_shown(page)) == count
        assert set(
            page.locator("figure.gallery-item").evaluate_all(
                "nodes => nodes.map(n => n.dataset.label)"
            )
        ) <= {digit}
    _choose(page, "iclass", "")
    _choose(page, "islice", "label:7")
    assert _shown(page) == [row["id"] for row in rows if "label:7" in row["slices"]]
    _choose(page, "islice", "")
    for role in ("candidate", "baseline"):
        _choose(page, "imodel", role)
        wrong = [row["id"] for row in rows if predicted(row, role) != label(row)]
        _choose(page, "icorrect", "no")
        assert _shown(page) == wrong
        _choose(page, "icorrect", "yes")
        assert len(_shown(page)) == 48 - len(wrong)
        _choose(page, "icorrect", "")
        _choose(page, "ipred", "3")
        assert _shown(page) == [row["id"] for row in rows if predicted(row, role) == "3"]
        _choose(page, "ipred", "")
    assert "imodel=baseline" in page.url  # the filters live in the link


def test_the_texts_view_shades_each_token_by_its_written_attribution(browser, texts):
    rows = texts["rows"]
    page = _open(browser, texts["path"], "texts")
    assert _shown(page, "div.text-item") == [row["id"] for row in rows]
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 1000})
        browser.screenshot(page, f"gallery-texts-{width}")
    for i in (0, 1, 2):
        # both models' shades of a text on one scale: its larger largest |attribution|, stated
        scale = max(
            abs(a)
            for role in ("candidate", "baseline")
            for a in rows[i]["models"][role]["token_occlusion"]["attributions"]
        )
        legend = page.locator(f"div.text-item >> nth={i}").locator(".scale-legend")
        assert float(legend.get_attribute("data-scale")) == pytest.approx(scale, rel=1e-3)
        assert legend.inner_text().endswith("(one scale for candidate and baseline)")
        for role in ("candidate", "baseline"):
            written = rows[i]["models"][role]["token_occlusion"]
            tokens = page.locator(f"div.text-item >> nth={i}").locator(
                f"p.tokens[data-role={role}] span.token"
            )
            got = tokens.evaluate_all(
                "nodes => nodes.map(n => [n.firstChild.textContent, Number(n.dataset.value),"
                " n.title, getComputedStyle(n).backgroundColor, n.innerText])"
            )
            assert [g[0] for g in got] == written["tokens"]
            np.testing.assert_allclose([g[1] for g in got], written["attributions"], rtol=1e-3)
            for (token, _, title, colour, text), a in zip(got, written["attributions"]):
                assert title.startswith(f"{token}: ") and text.split() == [
                    token,
                    f"({title[len(token) + 2 :]})",
                ]
                red = colour.startswith("rgba(217, 48, 37")
                assert red == (a > 0) or abs(a) < 1e-3  # invisible shades: either colour
                alpha = (
                    float(colour.rstrip(")").split(",")[-1]) if colour != "rgba(0, 0, 0, 0)" else 0
                )
                assert alpha == pytest.approx(0.85 * abs(a) / scale, abs=6e-3)
    keyword = [row for row in rows if row["predicted"]["candidate"] == 1]
    _choose(page, "tpred", "1")
    assert _shown(page, "div.text-item") == [row["id"] for row in keyword]
    assert page.locator("div.text-item span.token", has_text="excellent").count() + page.locator(
        "div.text-item span.token", has_text="superb"
    ).count() >= 2 * len(keyword)


def test_images_are_chosen_in_turn_per_class_wrong_and_right_alternately():
    def row(label, *predicted):
        return {"label": label, "predicted": dict(zip(("candidate", "baseline"), predicted))}

    rows = [row(0.0, 0, 0)] * 100 + [row(1.0, 1, 1), row(1.0, 2, 1), row(1.0, 1, 1)]
    rows += [row(2.0, 2, 2)] * 6 + [row(2.0, 0, 0)] * 4 + [row(None, 1, 1)] * 5
    assert gallery.balanced(rows, 14) == [
        [0, 1, 2, 3],
        [101, 100, 102],  # the wrong one (by the candidate) first
        [109, 103, 110, 104],
        [113, 114, 115],
    ]
    assert sum(map(len, gallery.balanced(rows, 1000))) == len(rows)
    assert gallery.balanced(rows, 0) == [[], [], [], []]


@pytest.mark.parametrize(
    "data, view, threshold",
    [
        (
            "digits",
            "images",
            "IoU of the top 10% pixels of each class's mean grad_cam map with the baseline's ≥ 0.2",
        ),
        ("texts", "texts", "share of the token 'excellent' by token_occlusion ≤ 0.1"),
    ],
)
def test_the_gallery_views_state_the_attribution_gates_on_their_methods(
    browser, request, data, view, threshold
):
    checks = request.getfixturevalue(data)["checks"]
    assert len(checks) == 2 and any(not c.passed for c in checks)
    page = _open(browser, request.getfixturevalue(data)["path"], view)
    shown = page.locator("div.method-gates li").all_inner_texts()
    ordered = sorted(checks, key=lambda c: c.passed)  # failed first
    assert shown == [f"{'Passed' if c.passed else 'FAILED'}: {c.sentence}" for c in ordered]
    failed = sum(not c.passed for c in checks)
    assert page.locator("div.method-gates p").inner_text() == (
        f"Attribution gates on these methods: {failed} of 2 checks FAILED."
    )
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 1000})
        browser.screenshot(page, f"gates-{view}-{width}")
    page = _open(browser, request.getfixturevalue(data)["path"], "validation")
    cells = page.locator("table").first.locator("td").all_inner_texts()
    assert threshold in cells
    assert all(c.sentence in cells for c in checks)
    browser.screenshot(page, f"gates-validation-{view}")


def test_maps_are_shrunk_to_32_cells_a_side_and_quantised_against_their_largest_value():
    heat_map = np.zeros((224, 224))
    heat_map[:7, :7] = -2.0
    heat_map[217:, 217:] = 1.0
    shrunk = gallery.quantised(heat_map)
    assert (shrunk["height"], shrunk["width"], shrunk["scale"]) == (32, 32, 2.0)
    cells = np.frombuffer(base64.b64decode(shrunk["cells"]), np.int8).reshape(32, 32)
    assert cells[0, 0] == -127 and cells[31, 31] == 64 and (cells[1:31] == 0).all()
