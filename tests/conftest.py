"""Fixtures every test folder shares, and the markers that sort the suite.

Markers (pyproject.toml registers them): ``slow`` (left out by default; CI runs them after the
default suite), ``browser`` (drives headless Chromium; every test using the ``browser`` fixture
gets it) and ``integration`` (runs a whole pipeline: LocalDagRunner, the KFP harness).
"""

import pytest

from tests.support import report_browser

# Session fixtures defined beside the helpers they use (demo_runs: the demo's three runs;
# image_models, text_models: the trained ground-truth models).
pytest_plugins = [
    "tests.support.demo_runs",
    "tests.support.image_models",
    "tests.support.text_models",
]


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "demo_runs" in fixtures:  # the demo pipeline's three LocalDagRunner runs
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def browser(tmp_path_factory, request):
    """Headless Chromium, cut off from the network; its pages may raise no error, request
    nothing from outside and open no dialog."""
    with report_browser.chromium(
        report_browser.screenshot_dir(tmp_path_factory, request)
    ) as browser:
        yield browser
    assert browser.errors == [] and browser.blocked_requests == [] and browser.dialogs == []
