"""The Explanations view's partial dependence in headless Chromium, on a real evaluation of a
candidate whose score rises with x0 and a baseline that ignores x0: per feature and slice, each
model's PDP bold over thin ICE curves, as partial_dependence.json holds them; at 1400 and 800 px.
And the Examples view's what-if control: a row opened and a feature set to a grid value with the
keyboard shows each model's own prediction of the changed row (the SavedModels called here)."""

import json
import os

import numpy as np
import pytest

from glassbox import keys
from glassbox.explain.model_function import SavedModelFunction
from glassbox.report import examples as examples_lib
from glassbox.report.load import build_report
from glassbox.report.partial_dependence import load_partial_dependence
from glassbox.report.render import render_html
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_known_models, explain_models, explained_runs, report_browser

EVAL_CONFIG = explained_runs.COMPARED_BY_CITY
EXPLAIN_CONFIG = """
model_output { signature_name: "serving_features" }
background { size: 10 }
explained_rows { count: 25 }
per_slice: true
methods {
  partial_dependence {
    grid_size: 8 ice_rows: 5 features: ["rooms", "x0", "x1", "city"]
  }
}
methods { counterfactual {} }
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("pdp_report")
    columns = explain_models.columns(150, num_numeric=2, seed=5)
    columns["label"] = np.random.default_rng(5).integers(0, 2, 150)
    models = {
        "candidate": explain_models.export(
            explain_known_models.linear_model([2.0, 0.5], {"paris": 1.0}), str(root / "candidate")
        ),
        "baseline": explain_models.export(
            explain_known_models.linear_model([0.0, 1.0], {"lyon": -1.0}), str(root / "baseline")
        ),
    }
    evaluation = explained_runs.evaluate(
        root,
        "evaluation",
        models["candidate"],
        explained_runs.examples_file(root / "eval.gz", columns),
        EVAL_CONFIG,
        EXPLAIN_CONFIG,
        baseline_dir=models["baseline"],
    )
    path = root / "report.html"
    path.write_text(render_html(build_report(evaluation)))
    with open(os.path.join(evaluation, keys.PARTIAL_DEPENDENCE_FILE)) as f:
        written = json.load(f)
    with open(os.path.join(evaluation, keys.EXPLANATIONS_FILE)) as f:
        rows = json.load(f)["examples"]
    return {
        "path": str(path),
        "written": written,
        "evaluation": evaluation,
        "rows": rows,
        "models": models,
    }


def _open(browser, report, width, link="#view=explanations"):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto("file://" + report["path"] + link)
    page.wait_for_selector(report_browser.RENDERED)
    return page


def test_the_loader_keeps_the_written_curves_to_four_digits(report):
    loaded = load_partial_dependence(report["evaluation"])
    written = report["written"]
    assert loaded["slices"] == written["slices"] and loaded["features"] == written["features"]
    for role in ("candidate", "baseline"):
        for feature, curves in written["models"][role]["features"].items():
            shown = loaded["models"][role]["features"][feature]
            np.testing.assert_allclose(shown["pdp"]["Overall"], curves["pdp"]["Overall"], rtol=1e-3)
            assert shown["ice"].keys() == curves["ice"].keys()


@pytest.mark.parametrize("width", [1400, 800])
def test_pdp_bold_over_ice_per_model_as_written(browser, report, width):
    page = _open(browser, report, width)
    written = report["written"]
    section = page.locator("[data-section='partial-dependence']")
    assert section.locator("select[name='pdfeature']").input_value() == "rooms"  # sorted first
    section.locator("select[name='pdfeature']").select_option("x0")
    report_browser.wait_drawn(page)
    chart = report_browser.chart_data(page, "partial-dependence")
    ids = written["slices"]["Overall"]["ice_ids"]
    grid = written["features"]["x0"]["grid"]
    traces = {(t["name"], tuple(t["y"])): t for t in chart["data"]}
    for role in ("candidate", "baseline"):
        curves = written["models"][role]["features"]["x0"]
        pdp = next(t for t in chart["data"] if t["name"] == f"{role} PDP")
        np.testing.assert_allclose(pdp["x"], grid, rtol=1e-6)
        np.testing.assert_allclose(pdp["y"], curves["pdp"]["Overall"], rtol=1e-3)
        ice = [t for t in chart["data"] if t["name"].startswith(f"{role} ICE")]
        assert len(ice) == len(ids) == 5
        for trace, row in zip(ice, ids):
            np.testing.assert_allclose(trace["y"], curves["ice"][row], rtol=1e-3)
        assert pdp["line"]["width"] > 3 * ice[0]["line"]["width"]
    assert len(traces) == 12
    # The candidate rises with x0 (weight 2), the baseline ignores it (weight 0).
    candidate = written["models"]["candidate"]["features"]["x0"]["pdp"]["Overall"]
    baseline = written["models"]["baseline"]["features"]["x0"]["pdp"]["Overall"]
    assert candidate[-1] - candidate[0] > 0.3 and max(baseline) - min(baseline) < 1e-6
    table = report_browser.table_column(page, "partial-dependence", 1)
    assert [float(v) for v in table] == pytest.approx(candidate, rel=1e-3)
    # Each model's what-if methods state their accuracy in the summary table.
    assert (
        report_browser.table_column(page, "accuracy", 1)
        == ["counterfactual", "partial_dependence"] * 2
    )
    statements = report_browser.table_column(page, "accuracy", 2)
    with open(os.path.join(report["evaluation"], keys.EXPLANATIONS_FILE)) as f:
        pool = len(json.load(f)["examples"]) + 10  # the explained rows (all slices') and background
    assert statements[0].startswith(f"pool_rows {pool}, outcome score >= 0.5, rows_with_")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    browser.screenshot(page, f"partial-dependence-x0-{width}")
    page.close()


def test_a_slice_shows_its_own_pdp_and_rows(browser, report):
    page = _open(browser, report, 1400, "#view=explanations&pdfeature=x0&slice=city:paris")
    written = report["written"]
    chart = report_browser.chart_data(page, "partial-dependence")
    pdp = next(t for t in chart["data"] if t["name"] == "candidate PDP")
    curves = written["models"]["candidate"]["features"]["x0"]
    np.testing.assert_allclose(pdp["y"], curves["pdp"]["city:paris"], rtol=1e-3)
    ids = written["slices"]["city:paris"]["ice_ids"]
    ice = [t for t in chart["data"] if t["name"].startswith("candidate ICE")]
    np.testing.assert_allclose([t["y"] for t in ice], [curves["ice"][i] for i in ids], rtol=1e-3)
    summary = page.locator("[data-section='partial-dependence'] p.summary").inner_text()
    assert f"{written['slices']['city:paris']['rows']} explained rows of city:paris" in summary
    browser.screenshot(page, "partial-dependence-paris-1400")
    page.close()


def test_a_page_carries_the_ice_curves_of_its_first_rows_only(report, monkeypatch):
    monkeypatch.setattr(examples_lib, "ICE_ROW_CAP", 2)
    loaded = examples_lib.load_examples(report["evaluation"])
    assert loaded.ice_rows == 2 and len(loaded.rows) == len(report["rows"])
    for i, (row, written) in enumerate(zip(loaded.rows, report["rows"])):
        if i < 2:
            for curves, role in zip(row.ice, ("candidate", "baseline")):
                assert curves.keys() == written["models"][role]["ice"].keys()
                for feature, values in curves.items():
                    np.testing.assert_allclose(
                        values, written["models"][role]["ice"][feature], rtol=5e-4
                    )
        else:
            assert row.ice == [None, None]


def _predict(model_dir, features):
    """The model's score of one row (features as explanations.json holds them)."""
    columns = {
        name: np.array([value.encode()], dtype=object)
        if isinstance(value, str)
        else np.array([value], np.float32 if name.startswith("x") else np.int64)
        for name, value in features.items()
    }
    return float(SavedModelFunction(model_dir, FEATURES_SIGNATURE_NAME)(columns)[0])


def _number(text):
    """A number as report.js's fmt shows it ('−' a minus)."""
    return float(text.replace("−", "-").replace("±", ""))


@pytest.mark.parametrize("width", [1400, 800])
def test_a_row_s_feature_set_with_the_keyboard_shows_both_models_predictions(
    browser, report, width
):
    row = report["rows"][3]
    page = _open(browser, report, width, "#view=examples")
    page.focus(f"[data-focus='row:examples:{row['id']}']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-example='{row['id']}'] [data-table='what-if']")
    # Every PDP feature has a control; none is changed yet.
    assert report_browser.table_column(page, "what-if", 0) == ["rooms", "x0", "x1", "city"]
    assert page.locator("[data-what-if]").get_attribute("data-what-if") == ""
    control = page.locator("select[name='wi:x0']")
    assert control.get_attribute("aria-label") == "Set x0 to"
    control.focus()
    for _ in range(3):  # "as is", then the grid's first, second and third values
        page.keyboard.press("ArrowDown")
    page.wait_for_function("document.querySelector('[data-what-if]').dataset.whatIf === 'x0'")
    control = page.locator("select[name='wi:x0']")
    assert control.input_value() == "2"
    assert page.evaluate("document.activeElement.name") == "wi:x0"  # the keyboard keeps its place
    value = report["written"]["features"]["x0"]["grid"][2]
    changed = {**row["features"], "x0": value}
    table = {c: report_browser.table_column(page, "what-if", c) for c in range(2, 6)}
    line = table[2].index(next(v for v in table[2] if v != "–"))
    assert line == 1  # the x0 line; the others unchanged
    for role, column in (("candidate", 2), ("baseline", 4)):
        expected = _predict(report["models"][role], changed)
        # The page carries a row's ICE to 4 significant digits (as the PDP charts).
        assert _number(table[column][line]) == pytest.approx(expected, rel=1e-3)
        original = row["models"][role]["prediction"]
        assert _number(table[column + 1][line]) == pytest.approx(
            expected - original, abs=1e-3 * abs(expected)
        )
    said = page.locator("[data-what-if]").inner_text()
    assert said.startswith("With x0 set to ") and "candidate " in said and "baseline " in said
    # The candidate rises with x0 (weight 2); the baseline ignores it: no change.
    assert table[5][line] == "±0"
    assert page.locator("[data-table='what-if'] svg.ice-line").count() == 4
    assert page.locator("[data-table='what-if'] svg.ice-line circle").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("[data-example]").screenshot(
        path=os.path.join(browser.screenshot_dir, f"what-if-x0-{width}.png")
    )
    # A categorical feature: every category of its grid, each the models' own prediction.
    city = page.locator("select[name='wi:city']")
    categories = city.locator("option").all_inner_texts()[1:]
    assert sorted(categories) == ["lille", "lyon", "nice", "paris"]
    city.select_option(str(categories.index("paris")))
    page.wait_for_function("document.querySelector('[data-what-if]').dataset.whatIf === 'city'")
    table = {c: report_browser.table_column(page, "what-if", c) for c in (2, 4)}
    for role, column in (("candidate", 2), ("baseline", 4)):
        expected = _predict(report["models"][role], {**row["features"], "city": "paris"})
        assert _number(table[column][3]) == pytest.approx(expected, rel=1e-3)
    page.close()
