"""A model card's files: model_card.json (MCT schema v0.0.2 field names), model_card.md and
model_card.html (the report page's model card view), each written atomically."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from glassbox import keys
from glassbox.model_card.markdown import render_markdown


def card_page(card: Dict[str, Any]) -> str:
    """The card as a self-contained HTML page."""
    from glassbox.report.page import render_page

    return render_page(
        f"Model card: {card.get('model_details', {}).get('name', 'model')}",
        {"views": ["model_card"], "model_card": card},
    )


def write_model_card(output_dir: str, card: Dict[str, Any]) -> List[str]:
    """Writes the card's JSON, Markdown and HTML into output_dir; returns their paths."""
    from glassbox.report.render import write_text_atomically

    paths = []
    for name, text in (
        (keys.MODEL_CARD_JSON_FILE, json.dumps(card, indent=2, allow_nan=False) + "\n"),
        (keys.MODEL_CARD_MARKDOWN_FILE, render_markdown(card)),
        (keys.MODEL_CARD_HTML_FILE, card_page(card)),
    ):
        paths.append(os.path.join(output_dir, name))
        write_text_atomically(paths[-1], text)
    return paths
