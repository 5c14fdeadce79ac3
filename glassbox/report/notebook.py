"""Reports inline in Jupyter and JupyterLab: the page in an iframe's srcdoc.

JupyterLab strips scripts from HTML output it does not trust; an iframe's document is its own, so
the report's script runs there whatever the notebook's trust, sandboxed from the notebook.
"""

from __future__ import annotations

import html
from typing import Optional

from glassbox.report.load import build_report
from glassbox.report.render import render_html

IFRAME_HEIGHT = 900


class ReportView:
    """A rendered report; Jupyter displays it inline (``_repr_html_``)."""

    def __init__(self, page: str, height: int = IFRAME_HEIGHT):
        self.html = page
        self.height = height

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'sandbox="allow-scripts allow-downloads allow-popups" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #dadce0;"></iframe>'
        )


def show_report(
    evaluation_dir: str,
    validation_dir: Optional[str] = None,
    title: Optional[str] = None,
    height: int = IFRAME_HEIGHT,
) -> ReportView:
    """The report of an evaluation (and validation) directory, for display in a notebook cell."""
    return ReportView(render_html(build_report(evaluation_dir, validation_dir, title)), height)
