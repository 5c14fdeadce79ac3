"""The Explanations view's partial dependence in headless Chromium, on a real evaluation of a
candidate whose score rises with x0 and a baseline that ignores x0: per feature and slice, each
model's PDP bold over thin ICE curves, as partial_dependence.json holds them; at 1400 and 800 px."""

import json
import os

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.engine.pipeline import run_evaluation
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.report.load import build_report
from glassbox.report.partial_dependence import load_partial_dependence
from glassbox.report.render import render_html
from tests.support import explain_known_models, explain_models, report_browser, saved_models

EVAL_CONFIG = """
model_specs { name: "candidate" label_key: "label" }
model_specs { name: "baseline" label_key: "label" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "ExampleCount" } }
"""
EXPLAIN_CONFIG = """
model_output { signature_name: "serving_features" }
background { size: 10 }
explained_rows { count: 25 }
per_slice: true
methods { partial_dependence { grid_size: 8 ice_rows: 5 } }
methods { counterfactual {} }
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("pdp_report")
    columns = explain_models.columns(150, num_numeric=2, seed=5)
    columns["label"] = np.random.default_rng(5).integers(0, 2, 150)
    examples = [
        saved_models.to_example(dict(zip(columns, row)))
        for row in zip(*(c.tolist() for c in columns.values()))
    ]
    evaluation = str(root / "evaluation")
    run_evaluation(
        text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        explain_models.export(
            explain_known_models.linear_model([2.0, 0.5], {"paris": 1.0}), str(root / "candidate")
        ),
        [saved_models.write_tfrecords(str(root / "eval.gz"), examples)],
        evaluation,
        baseline_model_dir=explain_models.export(
            explain_known_models.linear_model([0.0, 1.0], {"lyon": -1.0}), str(root / "baseline")
        ),
        explain_config=text_format.Parse(EXPLAIN_CONFIG, ExplainConfig()),
    )
    path = root / "report.html"
    path.write_text(render_html(build_report(evaluation)))
    with open(os.path.join(evaluation, keys.PARTIAL_DEPENDENCE_FILE)) as f:
        return {"path": str(path), "written": json.load(f), "evaluation": evaluation}


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
