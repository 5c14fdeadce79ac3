"""glassbox.notebook in a real notebook: a report, a metric's history and a model's page of the
demo's runs, executed by nbclient in a kernel of this environment, exported by nbconvert to HTML
(its default, JupyterLab's, template) and the export opened in headless Chromium: every page
drawn, each iframe as tall as its page (no inner scrolling), growing with it, a deep link opening
its view, nothing printed into the cells."""

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from glassbox.notebook import FALLBACK_HEIGHT
from tests.support import report_browser

SLICE = "religious:not"


@pytest.fixture(scope="module")
def exported(demo_runs, tmp_path_factory):
    """The executed notebook and its HTML export's path."""
    run = demo_runs.runs[-1]
    sources = [
        "from glassbox.notebook import show_history, show_model, show_report",
        f"show_report({run.evaluation_uri!r}, {run.validation_uri!r})",
        f"show_report({run.evaluation_uri!r}, {run.validation_uri!r}, "
        f"link='report.html#view=plots&slice={SLICE}')",
        f"show_history({demo_runs.store!r}, 'auc')",
        f"show_model({demo_runs.store!r}, {run.model_id})",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    directory = tmp_path_factory.mktemp("notebook")
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": directory}}
    ).execute()
    nbformat.write(notebook, directory / "notebook.ipynb")
    body, _ = HTMLExporter().from_notebook_node(notebook)
    path = directory / "notebook.html"
    path.write_text(body, encoding="utf-8")
    return notebook, str(path)


def test_the_cells_show_each_page_and_nothing_else(exported):
    notebook, _ = exported
    outputs = [cell.outputs for cell in notebook.cells]
    assert outputs[0] == []
    for cell_outputs in outputs[1:]:
        (output,) = cell_outputs  # no stream of TensorFlow's or absl's lines
        assert output.output_type == "execute_result"
        assert output.data["text/html"].startswith("<iframe ")


def _wait_sized(page, frame):
    """Scrolls the iframe of frame into view (Chromium holds back the resize observers of frames
    out of sight) and waits, up to 10 s, until it is as tall as its page (+2 px: its border)."""
    element = frame.frame_element()
    element.scroll_into_view_if_needed()
    for _ in range(100):
        outer = element.bounding_box()["height"]
        inner = frame.evaluate("document.documentElement.getBoundingClientRect().height")
        if 0 <= outer - (inner + 2) < 1:
            return outer
        page.wait_for_timeout(100)
    raise AssertionError(f"iframe {outer} px, its page {inner} px")


@pytest.mark.parametrize("width", [1400, 800])
def test_the_export_shows_each_page_sized_to_it_and_deep_links_work(
    exported, width, tmp_path_factory, request
):
    _, path = exported
    screenshots = report_browser.screenshot_dir(tmp_path_factory, request)
    with report_browser.chromium(screenshots) as browser:
        page = browser.new_page()
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto("file://" + path)
        frames = page.frame_locator("iframe")
        views = []
        for i in range(4):
            frames.nth(i).locator(report_browser.RENDERED).wait_for()
            views.append(frames.nth(i).locator("html").get_attribute("data-rendered"))
        assert views == ["validation", "plots", "history", "model_card"]
        heights = [_wait_sized(page, frame) for frame in page.frames[1:]]
        assert FALLBACK_HEIGHT + 2 not in heights
        report, linked = page.frames[1:3]
        assert report.locator(".decision strong").first.is_visible()
        # The deep link's view: the plots of the slice it names.
        assert linked.input_value("select[name='slice']") == SLICE
        assert linked.locator("nav button.active").inner_text() == "Plots"
        # A tab clicked in the frame: the view changes, kept in the frame's URL, the iframe follows.
        report.click("nav [data-view='slices']")
        report.wait_for_selector("html[data-rendered='slices']")
        assert "view=slices" in report.evaluate("location.hash")
        assert _wait_sized(page, report) != heights[0]
        page.set_viewport_size(
            {"width": width, "height": page.evaluate("document.documentElement.scrollHeight")}
        )
        page.wait_for_timeout(1000)  # frames that came into sight draw
        browser.screenshot(page, f"notebook-{width}")
        # Only the export's own scripts (require.js, MathJax) were requested, and failed offline.
        exporter = HTMLExporter()
        assert set(browser.blocked_requests) == {exporter.require_js_url, exporter.mathjax_url}
        assert browser.errors == ["Failed to load resource: net::ERR_FAILED"] * 2
        assert browser.dialogs == []
