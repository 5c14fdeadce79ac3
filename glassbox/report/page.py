"""The page shell every glassbox report view shares: one self-contained HTML file.

Everything is inline, so the file works offline and anywhere it is copied (a notebook's iframe,
the Kubeflow UI's inline viewer): the stylesheet of `assets/`, then its script (report.js), plotly.js
and the data as JSON, these three gzipped and base64-encoded (base64 cannot close the <script>
element holding it, whatever the data; gzip keeps a page without charts small as views are added:
report.js is 72 KB, 21 KB packed). A few lines (boot.js) unpack report.js and run it; it unpacks the
rest, then draws the views named in the data's "views" with text nodes, never HTML strings, and
keeps the view state in the URL's hash. A Content-Security-Policy forbids any request out of the
page.

plotly.js is its "cartesian" bundle (the trace types scatter, bar, heatmap and a few more; the views
use the first three), as npm's plotly.js-cartesian-dist-min@4.1.1 ships it, kept gzipped in
`assets/` (`gzip -9 -n plotly-cartesian.min.js`): 0.66 MB in a page, against 1.96 MB for the full
bundle of the plotly Python package. Pages whose views draw no chart (a model card, a lineage) carry
none.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import gzip
import html
import json
import os
from typing import Any, Dict, Mapping

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
DATA_ELEMENT_ID = "glassbox-data"
PLOTLY_ELEMENT_ID = "glassbox-plotly"
SCRIPT_ELEMENT_ID = "glassbox-script"
PLOTLY_FILE = "plotly-cartesian.min.js.gz"
VIEWS_WITHOUT_CHARTS = frozenset({"model_card", "lineage", "validation"})
NOSCRIPT = (
    "This report is drawn by its JavaScript, which is switched off here: allow scripts for this "
    "file to see it (it fetches nothing from the network)."
)
# Inline scripts and styles only; images as data:/blob: URLs (plotly's PNG export); nothing fetched.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)


def render_page(title: str, payload: Mapping[str, Any]) -> str:
    """The HTML page of a payload: {"views": [view names, the first shown first], ...view data}.

    The payload may hold dataclasses (as JSON objects); NaN and infinities raise ValueError (JSON
    has none: readers turn them into null). plotly.js comes only with views that draw charts.
    """
    charts = not VIEWS_WITHOUT_CHARTS.issuperset(payload["views"])
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{_asset('report.css')}</style></head><body>",
            f'<header><h1>{html.escape(title)}</h1></header><nav id="tabs" aria-label="Views"></nav>',
            f'<main id="view"><noscript><p>{NOSCRIPT}</p></noscript></main>',
            f'<script type="application/octet-stream" id="{PLOTLY_ELEMENT_ID}">{_packed_plotly_js()}</script>'
            if charts
            else "",
            f'<script type="application/octet-stream" id="{DATA_ELEMENT_ID}">{pack(_json(payload))}</script>',
            f'<script type="application/octet-stream" id="{SCRIPT_ELEMENT_ID}">{_packed_script()}</script>',
            f"<script>{_asset('boot.js')}</script>",
            "</body></html>\n",
        ]
    )


def pack(text: str) -> str:
    """gzip, then base64: how the page carries plotly.js and its data."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode(
        "ascii"
    )


def _json(value: Any) -> str:
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_fields
    )


def _fields(value: Any) -> Dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> str:
    with open(os.path.join(ASSETS_DIR, name), encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=1)
def _packed_script() -> str:
    return pack(_asset("report.js"))


@functools.lru_cache(maxsize=1)
def _packed_plotly_js() -> str:
    with open(os.path.join(ASSETS_DIR, PLOTLY_FILE), "rb") as f:
        return base64.b64encode(f.read()).decode("ascii")
