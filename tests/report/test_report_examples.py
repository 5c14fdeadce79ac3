"""The report's Examples view in headless Chromium, on a real evaluation of two linear models with
Shapley values and integrated gradients: the explained rows with their values as written, the
slice filter, sorting by error and by the models' disagreement, and one row opened (feature values,
both predictions, each method's attributions), with the mouse and with the keyboard; at 1400 and
800 px. And the cap on the rows a page carries."""

import json
import os
import urllib.parse

import numpy as np
import pytest

from glassbox import keys
from glassbox.report import examples as examples_lib
from glassbox.report.load import build_report
from glassbox.report.render import render_html
from tests.support import explain_known_models, explain_models, explained_runs, report_browser

EVAL_CONFIG = explained_runs.COMPARED_BY_CITY
EXPLAIN_CONFIG = """
model_output { signature_name: "serving_features" }
background { size: 8 }
explained_rows { count: 10 }
per_slice: true
seed: 3
methods { shapley {} }
methods { integrated_gradients { steps: 16 } }
methods { counterfactual { threshold: 0.5 } }
"""
FEATURES = ["city", "rooms", "x0", "x1"]


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    root = tmp_path_factory.mktemp("examples_report")
    columns = explain_models.columns(160, num_numeric=2, seed=5)
    columns["label"] = np.random.default_rng(5).integers(0, 2, 160)
    output = explained_runs.evaluate(
        root,
        "evaluation",
        explain_models.export(
            explain_known_models.linear_model([1.5, -0.5], {"paris": 1.0}, rooms_slope=0.3),
            str(root / "candidate"),
        ),
        explained_runs.examples_file(root / "eval.gz", columns),
        EVAL_CONFIG,
        EXPLAIN_CONFIG,
        baseline_dir=explain_models.export(
            explain_known_models.linear_model([0.2, 2.0], {"nice": 1.5}), str(root / "baseline")
        ),
    )
    page = root / "report.html"
    page.write_text(render_html(build_report(output)))
    with open(os.path.join(output, keys.EXPLANATIONS_FILE)) as f:
        written = json.load(f)["examples"]
    return {"path": str(page), "dir": output, "rows": {row["id"]: row for row in written}}


def _shown(value):
    """A number as the page carries it (6 significant digits) and shows it (report.js's fmt)."""
    value = float(f"{value:.6g}")
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{mantissa}e{int(exponent):+d}"
    return f"{float(f'{value:.5g}'):g}"


def _open(browser, evaluation, width, state=""):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{evaluation['path']}#view=examples{state}")
    report_browser.wait_drawn(page)
    return page


def _column(page, name):
    index = page.locator("[data-table='examples'] th").all_inner_texts()
    return report_browser.table_column(
        page, "examples", [t.rstrip(" ▲▼") for t in index].index(name)
    )


@pytest.mark.parametrize("width", [1400, 800])
def test_the_examples_view_lists_sorts_filters_and_opens_the_explained_rows(
    browser, evaluation, width
):
    rows = evaluation["rows"]
    error = {i: abs(r["models"]["candidate"]["prediction"] - r["label"]) for i, r in rows.items()}
    page = _open(browser, evaluation, width)
    # Every explained row (the union of the slices' draws), the largest error first.
    ids = _column(page, "Row")
    assert sorted(ids) == sorted(rows) and ids[0] == max(error, key=error.get)
    assert _column(page, "Label") == [_shown(rows[i]["label"]) for i in ids]
    assert _column(page, "Baseline") == [
        _shown(rows[i]["models"]["baseline"]["prediction"]) for i in ids
    ]
    assert _column(page, "x0") == [_shown(rows[i]["features"]["x0"]) for i in ids]
    assert report_browser.scrolling_sideways(page) == []  # at 800 px: each row on two lines
    browser.screenshot(page, f"examples-{width}")

    page.select_option("select[name=slice]", "city:lyon")
    report_browser.wait_drawn(page)
    lyon = [i for i, r in rows.items() if "city:lyon" in r["slices"]]
    assert sorted(_column(page, "Row")) == sorted(lyon) and len(lyon) == 10
    assert set(_column(page, "city")) == {"lyon"}
    page.select_option("select[name=esort]", "-disagreement")
    report_browser.wait_drawn(page)
    gap = {
        i: abs(
            rows[i]["models"]["candidate"]["prediction"]
            - rows[i]["models"]["baseline"]["prediction"]
        )
        for i in lyon
    }
    first = _column(page, "Row")[0]
    assert first == max(gap, key=gap.get)

    # Opened with the keyboard: the row's values, both predictions and every method's attributions.
    page.locator("[data-table='examples'] tbody tr").first.focus()
    page.keyboard.press("Enter")
    report_browser.wait_drawn(page)
    detail = page.locator(f"[data-example='{first}']")
    facts = detail.locator(".facts").inner_text()
    row = rows[first]
    for role in ("candidate", "baseline"):
        assert _shown(row["models"][role]["prediction"]) in facts
    features = report_browser.table_column(page, "example-features")
    assert sorted(features) == FEATURES
    assert report_browser.table_column(page, "example-features", 1) == [
        _shown(row["features"][f])
        if not isinstance(row["features"][f], str)
        else row["features"][f]
        for f in features
    ]
    headers = page.locator("[data-table='example-features'] th").all_inner_texts()
    for column, label in enumerate(headers[2:], start=2):
        role, method = label.rstrip(" ▲▼").split(" ")
        attributions = row["models"][role]["methods"][method]["attributions"]
        assert report_browser.table_column(page, "example-features", column) == [
            _shown(attributions[f]) if f in attributions else "–" for f in features
        ]  # integrated gradients attributes no string feature
    assert len(headers) == 2 + 4  # two models, two methods
    bars = report_browser.chart_data(page, "example-attributions")["data"]
    assert [trace["name"] for trace in bars] == ["candidate", "baseline"]
    assert dict(zip(bars[0]["customdata"], bars[0]["x"])) == pytest.approx(
        next(iter(row["models"]["candidate"]["methods"].values()))["attributions"], rel=1e-5
    )
    for role in ("candidate", "baseline"):
        written = row["models"][role]["counterfactual"]
        changes = sorted(written["changes"])
        assert sorted(report_browser.table_column(page, f"counterfactual-{role}")) == changes
        shown = dict(
            zip(
                report_browser.table_column(page, f"counterfactual-{role}"),
                report_browser.table_column(page, f"counterfactual-{role}", 2),
            )
        )
        assert shown == {
            f: c["to"] if isinstance(c["to"], str) else _shown(c["to"])
            for f, c in written["changes"].items()
        }
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).fragment)
    assert state["row"] == [first] and state["slice"] == ["city:lyon"]
    assert report_browser.scrolling_sideways(page) == []
    browser.screenshot(page, f"examples-row-{width}")
    page.close()


def test_a_page_carries_at_most_the_cap_of_rows_and_says_how_many_are_left_out(
    browser, evaluation, tmp_path, monkeypatch
):
    monkeypatch.setattr(examples_lib, "ROW_CAP", 5)
    shown = examples_lib.load_examples(evaluation["dir"])
    assert shown.total == len(evaluation["rows"]) and len(shown.rows) == 5
    page = tmp_path / "report.html"
    page.write_text(render_html(build_report(evaluation["dir"])))
    opened = browser.open(f"{page}#view=examples")
    total = len(evaluation["rows"])
    assert (
        f"this page carries 5 of the evaluation's {total} explained rows ({total - 5} left out)"
        in opened.locator(".summary").first.inner_text()
    )
    opened.close()
