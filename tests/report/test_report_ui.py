"""The report page's slice views in headless Chromium, on a report of 300 slices built in Python
(no TFMA): sorting, the metric and column selectors, the histogram's buckets, log scale and range
selection, the example-count filter, pagination, and the view state kept in the URL."""

import urllib.parse

import numpy as np
import pytest

from glassbox.report.model import CANDIDATE, EvaluationView, MetricColumn, Report, SliceRow
from glassbox.report.render import render_html
from tests.support import report_browser

NUM_SLICES = 300
COLUMNS = ("accuracy", "auc", "weighted_example_count")


def _report() -> Report:
    rng = np.random.default_rng(0)
    rows = [
        SliceRow(
            name=f"region:{i:03d}",
            values=[
                round(float(rng.uniform(0.4, 0.9)), 4),
                round(float(rng.uniform(0.5, 1.0)), 4),
                round(float(rng.lognormal(6, 1.5)), 1),
            ],
        )
        for i in range(NUM_SLICES)
    ]
    return Report(
        title="Synthetic",
        evaluation=EvaluationView(
            path="/nowhere",
            candidate="candidate",
            baseline=None,
            model_locations={},
            columns=[MetricColumn(id=name, name=name, role=CANDIDATE) for name in COLUMNS],
            slices=rows,
            default_metric="accuracy",
            count_column="weighted_example_count",
            plots={},
        ),
    )


REPORT = _report()


def _values(name):
    i = COLUMNS.index(name)
    return {row.name: row.values[i] for row in REPORT.evaluation.slices}


def _buckets(values, count, low=None, high=None):
    """The histogram the page should draw: `count` equal-width buckets over [low, high]."""
    values = np.asarray(values)
    low = values.min() if low is None else low
    high = values.max() if high is None else high
    index = np.clip(np.floor((values - low) / ((high - low) / count)), 0, count - 1).astype(int)
    return np.bincount(index, minlength=count).tolist()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(REPORT), encoding="utf-8")
    return str(path)


@pytest.fixture
def page(browser, report_file):
    page = browser.open(report_file)
    yield page
    page.close()


def _state(page):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).fragment)


def _set(page, name, value):
    """Types a value into the control `name` and commits it, as a user does."""
    page.fill(f"input[name='{name}']", str(value))
    page.press(f"input[name='{name}']", "Enter")
    report_browser.wait_drawn(page)


def test_many_slices_open_on_the_histogram_of_the_default_metric(browser, page):
    histogram = report_browser.chart_data(page, "histogram")
    assert histogram["data"][0]["y"] == _buckets(list(_values("accuracy").values()), 10)
    assert (
        page.locator(".summary")
        .inner_text()
        .startswith(f"{NUM_SLICES} of {NUM_SLICES} slices shown")
    )
    browser.screenshot(page, "ui-histogram")


def test_the_table_sorts_by_any_column_both_ways_and_pages(page):
    page.click("[data-table='metrics'] th[data-column='auc']")
    report_browser.wait_drawn(page)
    by_auc = sorted(_values("auc").items(), key=lambda item: item[1])
    assert report_browser.table_column(page, "metrics") == [name for name, _ in by_auc[:100]]
    page.click("[data-table='metrics'] th[data-column='auc']")
    report_browser.wait_drawn(page)
    by_auc_descending = sorted(
        _values("auc").items(), key=lambda item: -item[1]
    )  # ties keep their order
    assert report_browser.table_column(page, "metrics")[:5] == [
        name for name, _ in by_auc_descending[:5]
    ]
    page.click("text=Next ›")
    report_browser.wait_drawn(page)
    assert report_browser.table_column(page, "metrics") == [
        name for name, _ in by_auc_descending[100:200]
    ]
    assert "rows 101–200 of 300" in page.locator(".pager").inner_text()
    page.click("[data-table='metrics'] th[data-column='slice']")
    report_browser.wait_drawn(page)
    assert report_browser.table_column(page, "metrics")[:3] == [
        "region:000",
        "region:001",
        "region:002",
    ]


def test_the_metric_selector_switches_the_histogram_and_the_column_chooser_the_table(page):
    page.select_option("select[name='metric']", "auc")
    report_browser.wait_drawn(page)
    assert report_browser.chart_data(page, "histogram")["data"][0]["y"] == _buckets(
        list(_values("auc").values()), 10
    )
    page.click("details.columns summary")
    page.uncheck("input[name='col'][value='accuracy']")
    report_browser.wait_drawn(page)
    headers = page.locator("[data-table='metrics'] th").all_inner_texts()
    assert [h.strip(" ▲▼") for h in headers] == ["Slice", "auc", "weighted_example_count"]
    assert _state(page)["cols"] == ["auc", "weighted_example_count"]


def test_histogram_buckets_log_scale_count_filter_and_range(browser, page):
    _set(page, "buckets", 4)
    page.check("input[name='log']")
    report_browser.wait_drawn(page)
    histogram = report_browser.chart_data(page, "histogram")
    assert histogram["data"][0]["y"] == _buckets(list(_values("accuracy").values()), 4)
    assert histogram["layout"]["yaxis"]["type"] == "log"

    _set(page, "min", 500)
    counts = _values("weighted_example_count")
    kept = {name: value for name, value in _values("accuracy").items() if counts[name] >= 500}
    assert 0 < len(kept) < NUM_SLICES
    assert (
        page.locator(".summary")
        .inner_text()
        .startswith(f"{len(kept)} of {NUM_SLICES} slices shown")
    )
    assert sorted(report_browser.table_column(page, "metrics")) == sorted(kept)[:100]
    assert report_browser.chart_data(page, "histogram")["data"][0]["y"] == _buckets(
        list(kept.values()), 4
    )

    _set(page, "from", 0.5)
    _set(page, "to", 0.7)
    in_range = sorted(name for name, value in kept.items() if 0.5 <= value <= 0.7)
    assert sorted(report_browser.table_column(page, "metrics")) == in_range
    assert sum(report_browser.chart_data(page, "histogram")["data"][0]["y"]) == len(in_range)
    browser.screenshot(page, "ui-histogram-filtered")


def test_dragging_across_the_histogram_keeps_that_range_of_values(page):
    box = page.locator("[data-chart='histogram'] .nsewdrag").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => location.hash.includes('range=')"
    )  # plotly reports the selection after the drag
    report_browser.wait_drawn(page)
    low, high = map(float, _state(page)["range"][0].split(","))
    accuracy = _values("accuracy")
    assert accuracy and min(accuracy.values()) < low < high < max(accuracy.values())
    expected = [name for name, value in accuracy.items() if low <= value <= high]
    assert (
        page.locator(".summary")
        .inner_text()
        .startswith(f"{len(expected)} of {NUM_SLICES} slices shown")
    )


def test_the_overview_orders_slices_by_another_metric(page):
    page.select_option("select[name='viz']", "overview")
    report_browser.wait_drawn(page)
    page.select_option("select[name='order']", "auc")
    report_browser.wait_drawn(page)
    bars = report_browser.chart_data(page, "overview")["data"][0]
    by_auc = sorted(_values("auc").items(), key=lambda item: -item[1])
    assert [data[0] for data in bars["customdata"]] == [name for name, _ in by_auc]
    accuracy = _values("accuracy")
    assert bars["y"] == [accuracy[name] for name, _ in by_auc]
    table = report_browser.table_column(page, "metrics")  # the table follows, first page
    assert table == [name for name, _ in by_auc][: len(table)]


def test_failing_and_small_slices_are_marked_by_pattern_colour_and_label(browser, tmp_path):
    """A slice that failed a check is hatched and red; one of few examples is flagged '⚠ small'
    in its label and its table row, with its count in the tooltip."""
    rows = [("Overall", 0.8, 5000.0), ("region:a", 0.6, 2000.0), ("region:b", 0.82, 12.0)]
    report = Report(
        title="Marked",
        evaluation=EvaluationView(
            path="/nowhere",
            candidate="candidate",
            baseline=None,
            model_locations={},
            columns=[
                MetricColumn(id="auc", name="auc", role=CANDIDATE, check_metric="auc"),
                MetricColumn(id="example_count", name="example_count", role=CANDIDATE),
            ],
            slices=[SliceRow(name=name, values=[auc, n]) for name, auc, n in rows],
            default_metric="auc",
            count_column="example_count",
            plots={},
        ),
        validation={
            "blessed": False,
            "reason": "Not blessed: 1 of 3 checks failed",
            "checks": [
                {
                    "kind": "value_threshold",
                    "passed": name != "region:a",
                    "skipped": False,
                    "slice": name,
                    "metric": "auc",
                    "value": auc,
                    "baseline_value": None,
                    "threshold": {"lower_bound": 0.7},
                    "sentence": f"auc on {name}",
                }
                for name, auc, _ in rows
            ],
        },
    )
    path = tmp_path / "marked.html"
    path.write_text(render_html(report), encoding="utf-8")
    page = browser.open(f"{path}#view=slices")
    bars, threshold = report_browser.chart_data(page, "overview")["data"]
    assert bars["marker"]["pattern"]["shape"] == ["", "/", ""]
    assert bars["marker"]["color"][1] != bars["marker"]["color"][0]
    assert bars["x"] == ["Overall (n=5000)", "region:a (n=2000)", "region:b (n=12) ⚠ small"]
    assert [data[1] for data in bars["customdata"]] == ["5000", "2000", "12"]
    assert threshold["y"] == [0.7, 0.7, 0.7]
    assert report_browser.table_column(page, "metrics") == ["Overall", "region:a", "region:b"]
    assert page.locator("[data-table='metrics'] tr.small").inner_text().startswith("region:b")
    assert page.locator("[data-table='metrics'] tr.fail").inner_text().startswith("region:a")
    browser.screenshot(page, "slices-marked")
    page.close()


def test_a_link_reopens_the_same_view(browser, page):
    page.select_option("select[name='metric']", "auc")
    report_browser.wait_drawn(page)
    _set(page, "min", 200)
    _set(page, "buckets", 7)
    page.click("[data-table='metrics'] th[data-column='accuracy']")
    report_browser.wait_drawn(page)
    page.click("text=Next ›")
    report_browser.wait_drawn(page)
    expected = {
        "rows": report_browser.table_column(page, "metrics"),
        "histogram": report_browser.chart_data(page, "histogram")["data"][0]["y"],
        "summary": page.locator(".summary").inner_text(),
    }
    reopened = browser.open(page.url)
    assert reopened.input_value("select[name='metric']") == "auc"
    assert reopened.input_value("input[name='min']") == "200"
    assert reopened.input_value("input[name='buckets']") == "7"
    assert {
        "rows": report_browser.table_column(reopened, "metrics"),
        "histogram": report_browser.chart_data(reopened, "histogram")["data"][0]["y"],
        "summary": reopened.locator(".summary").inner_text(),
    } == expected
    assert len(expected["histogram"]) == 7
    reopened.close()


def test_headers_sort_by_keyboard_and_tables_and_charts_are_described_in_words(browser, page):
    """Before, headers sorted on a mouse click only (no aria-sort), tables had no caption and charts
    nothing a screen reader could read."""
    header = "[data-table='metrics'] th[data-column='auc']"
    page.focus(f"{header} button")
    for key, order in (("Enter", "ascending"), (" ", "descending")):
        page.keyboard.press(key)
        report_browser.wait_drawn(page)
        assert page.get_attribute(header, "aria-sort") == order
        assert page.evaluate("document.activeElement.dataset.focus") == "sort:metrics:auc"
        shown = [float(v) for v in report_browser.table_column(page, "metrics", 2)]
        assert shown == sorted(shown, reverse=order == "descending")
        assert set(
            page.locator("[data-table='metrics'] th").evaluate_all(
                "ths => ths.filter(th => th.dataset.column !== 'auc').map(th => th.getAttribute('aria-sort'))"
            )
        ) == {"none"}
    caption = page.locator("[data-table='metrics'] caption").text_content()
    assert caption == f"Metrics of the {NUM_SLICES} slices shown, sorted by auc, descending"

    histogram = page.locator("[data-chart='histogram']")
    assert histogram.get_attribute("role") == "img"
    assert histogram.get_attribute("aria-label") == "Slices by accuracy"
    buckets = _buckets(list(_values("accuracy").values()), 10)
    summary = page.locator("figure:has([data-chart='histogram']) figcaption").text_content()
    assert summary.startswith("Slices by accuracy. values: 10 values, lowest ")
    assert f"highest {max(buckets)} at " in summary


def test_without_javascript_the_page_says_what_it_needs(browser, report_file):
    page = browser.new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setScriptExecutionDisabled", {"value": True})
    page.goto(f"file://{report_file}")
    notice = page.locator("main p")
    assert notice.is_visible() and "allow scripts for this file" in notice.inner_text()
    browser.screenshot(page, "noscript")
    page.close()
