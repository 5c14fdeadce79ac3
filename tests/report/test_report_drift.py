"""The report's Drift view in headless Chromium, on a real evaluation (x1 shifted by 1.5 from the
reference examples) validated with drift gates: features and predictions per slice, the drifting
ones first by the gate's distance, failing ones marked; at 1400 and 800 px."""

import json
import os

import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.engine.branches import DriftReference
from glassbox.engine.pipeline import run_evaluation
from glassbox.protos import validator_config_pb2
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.report.load import build_report
from glassbox.report.render import render_html
from glassbox.validation.validate import validate, write_validation
from tests.drift.test_drift_evaluation import EVAL_CONFIG, N, _shifted
from tests.support import report_browser, saved_models

GATES = """
drift_gates { distance: "jensen_shannon" max_distance: 0.05 }
drift_gates { distance: "kolmogorov_smirnov" max_distance: 0.02 predictions: true
              slicing_specs { feature_keys: "category" } }
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift_report")
    model = saved_models.export_model(str(root / "model"))
    reference = saved_models.write_tfrecords(
        str(root / "ref.gz"), saved_models.make_examples(N, seed=1)
    )
    shifted = saved_models.write_tfrecords(
        str(root / "shifted.gz"), _shifted(saved_models.make_examples(N, seed=2), "x1", 1.5)
    )
    evaluation = str(root / "evaluation")
    run_evaluation(
        text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        model,
        [shifted],
        evaluation,
        drift_config=DriftConfig(categorical_features=["count"]),
        drift_reference=DriftReference("span 1", example_files=[reference]),
    )
    decision = validate(
        evaluation, text_format.Parse(GATES, validator_config_pb2.ValidatorConfig())
    )
    write_validation(decision, str(root / "validation"))
    path = root / "report.html"
    path.write_text(render_html(build_report(evaluation, str(root / "validation"))))
    with open(os.path.join(evaluation, keys.DRIFT_FILE)) as f:
        return {"path": str(path), "drift": json.load(f), "decision": decision}


def _open(browser, report, width, slice_name=None):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 1000})
    link = "#view=drift" + (f"&slice={slice_name}" if slice_name else "")
    page.goto("file://" + report["path"] + link)
    page.wait_for_selector(report_browser.RENDERED)
    return page


@pytest.mark.parametrize("width", [1400, 800])
def test_the_drift_view_lists_the_drifting_feature_first_and_marks_failed_gates(
    browser, report, width
):
    page = _open(browser, report, width)
    overall = next(s for s in report["drift"]["slices"] if s["slice_name"] == "Overall")
    # sorted by the first gate's distance (Jensen-Shannon), the shifted feature first and failing
    names = report_browser.table_column(page, "drift")
    by_js = sorted(overall["features"] + overall["predictions"], key=lambda e: -e["jensen_shannon"])
    assert names[0] == "✗ x1"
    assert [n.removeprefix("✗ ") for n in names] == [e["name"] for e in by_js]
    assert page.locator("[data-table='drift'] tbody tr.fail").count() == 1
    js = report_browser.table_column(page, "drift", 4)
    assert float(js[0]) == pytest.approx(by_js[0]["jensen_shannon"], rel=1e-4)
    chart = report_browser.chart_data(page, "drift")
    assert chart["data"][0]["y"][-1] == "✗ x1"  # the top bar
    assert chart["layout"]["shapes"][0]["x0"] == 0.05  # the gate's bound
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    table = page.locator("[data-table='drift']")  # every column in view, none scrolled off
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    browser.screenshot(page, f"drift-overall-{width}")
    page.close()


def test_a_slice_row_opens_it_with_the_failed_prediction_shift(browser, report):
    page = _open(browser, report, 1400)
    failed = {c.slice for c in report["decision"].checks if not c.passed}
    assert failed == {"Overall", "category:a", "category:b", "category:c"}
    page.click("[data-table='drift-slices'] tbody tr:has-text('category:b')")
    report_browser.wait_drawn(page)
    assert page.locator("select[name='slice']").input_value() == "category:b"
    page.select_option("select[name='distance']", "kolmogorov_smirnov")
    report_browser.wait_drawn(page)
    names = report_browser.table_column(page, "drift")
    # by KS: x1 first (no gate on it on this slice), the predictions failing their gate
    assert names[:2] == ["x1", "✗ prediction"]
    assert report_browser.table_column(page, "drift", 2)[:2] == ["", "✗ KS ≤ 0.02"]
    browser.screenshot(page, "drift-category-b-ks")
    page.close()
