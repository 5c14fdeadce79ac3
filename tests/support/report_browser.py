"""Headless Chromium for the report tests: Debian's /usr/bin/chromium driven by playwright.

Every request other than file: and data: is aborted and recorded, as are console errors, page
errors and dialogs (alert/confirm/prompt), so a test can assert that a report works offline and
that nothing in its data ran as script. Screenshots go to $GLASSBOX_SCREENSHOTS, else to a pytest
temporary directory; the session prints where.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from typing import Iterator, List

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDERED = "html[data-rendered]"  # set by the report's script once a view and its charts are drawn


@dataclasses.dataclass
class Browser:
    """One Chromium context; what its pages attempted or reported is collected across pages."""

    context: object
    screenshot_dir: str
    blocked_requests: List[str] = dataclasses.field(default_factory=list)
    errors: List[str] = dataclasses.field(default_factory=list)
    dialogs: List[str] = dataclasses.field(default_factory=list)

    def new_page(self) -> Page:
        """A new page whose console errors, page errors and dialogs are collected."""
        page = self.context.new_page()
        page.on(
            "console", lambda message: message.type == "error" and self.errors.append(message.text)
        )
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", self._dismiss)
        return page

    def open(self, url: str) -> Page:
        """A new page at url (a report file's path, with an optional '#state'), once drawn."""
        page = self.new_page()
        page.goto(url if "://" in url else "file://" + url)
        page.wait_for_selector(RENDERED)
        return page

    def screenshot(self, page: Page, name: str) -> str:
        path = os.path.join(self.screenshot_dir, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    def _dismiss(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def screenshot_dir(tmp_path_factory, request) -> str:
    """$GLASSBOX_SCREENSHOTS (created) or a temporary directory; printed in pytest's summary."""
    directory = os.environ.get("GLASSBOX_SCREENSHOTS") or str(
        tmp_path_factory.mktemp("screenshots")
    )
    os.makedirs(directory, exist_ok=True)
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\n{request.node.name}: report screenshots in {directory}")
    return directory


@contextlib.contextmanager
def chromium(screenshots: str) -> Iterator[Browser]:
    """A Chromium context with a fresh profile and the network cut off."""
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        browser = Browser(context, screenshots)

        def route(route):
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                browser.blocked_requests.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        try:
            yield browser
        finally:
            context.close()


def wait_drawn(page: Page) -> None:
    """Waits until the view has been redrawn after an action."""
    page.wait_for_selector(RENDERED)


def chart_data(page: Page, name: str):
    """The plotly traces and layout of the chart data-chart=name."""
    return page.evaluate(
        "name => { const d = document.querySelector(`[data-chart='${name}']`);"
        " return {data: d.data, layout: d.layout}; }",
        name,
    )


def table_column(page: Page, table: str, column: int = 0) -> List[str]:
    """The texts of a column of the table data-table=table, on the page shown."""
    return page.locator(
        f"[data-table='{table}'] tbody tr td:nth-child({column + 1})"
    ).all_inner_texts()


def scrolling_sideways(page: Page) -> List[str]:
    """The tables (data-table names) of the view shown wider than their box, and 'page' if the page
    is wider than the window: what a reader would scroll sideways."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.table')]
             .filter(t => t.scrollWidth > t.clientWidth).map(t => t.dataset.table)
             .concat(document.documentElement.scrollWidth > window.innerWidth ? ['page'] : [])"""
    )
