"""Reports, metric histories and model pages inline in JupyterLab, Jupyter and nbconvert's HTML
export: each helper returns an object the notebook displays (``_repr_html_``).

The page goes into an iframe's ``srcdoc``, sandboxed (scripts only, an opaque origin): the page's
document is its own, so its script runs whatever the notebook's trust and cannot reach the
notebook. Two lines go into the page's head: one opens the view a link names (the ``#...`` part of
a report's URL, its deep link), one posts the page's height to the notebook on every change of
size; the notebook's script sets the iframe to that height, so the cell is as tall as the page.
Where the notebook runs no output script (an untrusted notebook in JupyterLab), the iframe keeps
``FALLBACK_HEIGHT`` and scrolls. What TensorFlow and the other libraries print while a page is
built is kept out of the cell (`glassbox.quiet`), as the command line keeps it off the terminal.
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Optional

from glassbox.quiet import libraries_silenced

FALLBACK_HEIGHT = 800  # px, until (or unless) the page's height arrives
# Into the page's head: relative URLs (the state's "#...") resolve against the frame's own
# document, not the notebook's; the link's view opened; the height posted on every resize.
_PAGE_HEAD = (
    '<base href="about:srcdoc"><script>const link = %(link)s;'
    "if (link) history.replaceState(null, '', '#' + link);"
    "new ResizeObserver(() => parent.postMessage({glassboxHeight: Math.ceil("
    "document.documentElement.getBoundingClientRect().height)}, '*'))"
    ".observe(document.documentElement);</script></head>"
)
# Beside the iframe: its height set to the height its own page posts.
_CELL_SCRIPT = (
    "<script>(() => { const frame = document.getElementById(%(id)s);"
    "window.addEventListener('message', event => { const height = event.data && "
    "event.data.glassboxHeight; if (event.source === frame.contentWindow && height > 0) "
    "frame.style.height = (height + 2) + 'px'; }); })();</script>"
)


def _js(value: str) -> str:
    """value as a JavaScript string literal that cannot close a <script> element."""
    return json.dumps(value).replace("<", "\\u003c")


class PageView:
    """A glassbox page for a notebook cell; ``html`` is the page, ``link`` the view it opens on."""

    def __init__(self, page: str, link: str = ""):
        self.html = page
        self.link = link.partition("#")[2] if "#" in link else link

    def _repr_html_(self) -> str:
        frame_id = f"glassbox-{uuid.uuid4().hex}"
        page = self.html.replace("</head>", _PAGE_HEAD % {"link": _js(self.link)}, 1)
        return (
            f'<iframe id="{frame_id}" srcdoc="{html.escape(page, quote=True)}" '
            'sandbox="allow-scripts allow-downloads allow-popups" title="glassbox page" '
            f'style="display: block; width: 100%; height: {FALLBACK_HEIGHT}px; '
            'box-sizing: border-box; border: 1px solid #dadce0;"></iframe>'
            + _CELL_SCRIPT
            % {"id": _js(frame_id)}
        )


def show_report(
    evaluation_dir: str,
    validation_dir: Optional[str] = None,
    title: Optional[str] = None,
    link: str = "",
) -> PageView:
    """The report of an evaluation (and the validation made on it), opened at link (e.g.
    ``"view=plots&slice=region:north"``, or a report URL copied with its ``#...``)."""
    from glassbox.report.load import build_report
    from glassbox.report.render import render_html

    with libraries_silenced():
        return PageView(render_html(build_report(evaluation_dir, validation_dir, title)), link)


def show_history(
    store: str,
    metric: str,
    slice_name: str = "Overall",
    pipeline: Optional[str] = None,
    link: str = "",
) -> PageView:
    """The history of metric on slice_name over the pipeline's runs, read from the ML Metadata
    store (a SQLite file), as `glassbox history --html` writes it."""
    from glassbox.provenance.history import read_history
    from glassbox.report.provenance_pages import history_page

    with libraries_silenced():
        return PageView(history_page(read_history(store, metric, slice_name, pipeline)), link)


def show_model(
    store: str,
    model_id: int,
    pipeline: Optional[str] = None,
    metric: Optional[str] = None,
    link: str = "",
) -> PageView:
    """A model's page (model card, decision trail, then its report), read from the ML Metadata
    store, as `glassbox report --mlmd STORE --model-id ID` writes it."""
    from glassbox.model_card.card import model_card
    from glassbox.model_card.inputs import trail_inputs
    from glassbox.provenance.trail import decision_trail
    from glassbox.report.provenance_pages import model_page

    with libraries_silenced():
        trail = decision_trail(store, model_id=model_id, pipeline=pipeline)
        return PageView(model_page(trail, model_card(trail_inputs(trail), metric)), link)
