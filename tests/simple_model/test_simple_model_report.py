"""The report's line on the simpler-model check, and what it opens to (Chromium, 1400 and 800 px)."""

import pytest

from glassbox.report import write_report
from tests.support.report_browser import table_column, wait_drawn


@pytest.mark.parametrize("width", [1400, 800])
def test_the_report_states_the_simple_models_beside_the_candidate(runs, browser, width):
    result = runs["good"]
    path = write_report(str(runs["root"] / f"report-{width}.html"), str(runs["root"] / "good"))
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("file://" + path)
    wait_drawn(page)
    models = {m["name"]: m for m in result["models"]}

    def shown(value):  # the page's fmt: five significant digits
        return page.evaluate("v => String(Number(v.toPrecision(5)))", value)

    line = page.locator("details.simple-models summary").inner_text()
    logistic, tree = models["logistic_regression"], models["decision_tree"]
    assert logistic["candidate_lead"] > 0 and tree["candidate_lead"] > 0
    assert line == (
        f"Simpler models · AUC on {result['held_out_examples']} held-out examples: candidate "
        f"{shown(result['candidate']['score'])} · Logistic regression {shown(logistic['score'])} "
        f"(candidate +{shown(logistic['candidate_lead'])}) · Decision tree {shown(tree['score'])} "
        f"(candidate +{shown(tree['candidate_lead'])})"
    )
    assert page.locator("details.simple-models .ahead").count() == 2
    browser.screenshot(page, f"simple-models-line-{width}")
    page.locator("details.simple-models summary").click()
    # Largest |coefficient| first: the rule's three features.
    assert sorted(table_column(page, "coefficients")[:3]) == ["x0", "x1", "x2"]
    assert page.locator("details.simple-models pre.rules").inner_text().startswith("|--- x")
    page.locator("[data-table=coefficients] th[data-column=feature] button").click()
    wait_drawn(page)
    assert page.locator("details.simple-models").get_attribute("open") is not None  # stays open
    assert table_column(page, "coefficients")[0] == "category=a"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    browser.screenshot(page, f"simple-models-open-{width}")
