"""The page shell every glassbox report view shares: one self-contained HTML file.

Everything is inline, so the file works offline and anywhere it is copied: plotly.js (shipped in
the plotly package), the stylesheet and script of `assets/`, and the data as JSON in a
``<script type="application/json">`` element, escaped so that no string in it can close the
element. The script draws the views named in the data's "views" from that JSON with text nodes,
never HTML strings, and keeps the view state in the URL's hash. A Content-Security-Policy forbids
any request out of the page.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import os
from typing import Any, Dict, Mapping

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
DATA_ELEMENT_ID = "glassbox-data"
# Inline scripts and styles only; images as data:/blob: URLs (plotly's PNG export); nothing fetched.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                           "img-src data: blob:; font-src data:")
# What must not appear raw inside a <script> element's JSON (and the line separators JS once rejected).
_JSON_TRANSLATION = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                   "\u2028": "\\u2028", "\u2029": "\\u2029"})


def render_page(title: str, payload: Mapping[str, Any]) -> str:
    """The HTML page of a payload: {"views": [view names, the first shown first], ...view data}."""
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>{html.escape(title)}</title><style>{_asset('report.css')}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1></header><nav id=\"tabs\"></nav><main id=\"view\"></main>",
        f"<script type=\"application/json\" id=\"{DATA_ELEMENT_ID}\">{embed_json(payload)}</script>",
        f"<script>{_plotly_js()}</script><script>{_asset('report.js')}</script>",
        "</body></html>\n",
    ])


def embed_json(value: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' (escaped); dataclasses as objects.

    Raises ValueError on NaN or infinities, which JSON lacks: readers turn them into null.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_fields)
    return text.translate(_JSON_TRANSLATION)


def _fields(value: Any) -> Dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> str:
    with open(os.path.join(ASSETS_DIR, name), encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")
