"""Reports in the Kubeflow Pipelines UI, as a v1-style output viewer.

A step that writes `mlpipeline-ui-metadata.json` (KFP v1, and v2's compatibility mode) with an
inline "web-app" output gets the report shown in the run's Visualizations tab. KFP v2 proper shows
an artifact of type `system.HTML` with a `display_name` whose URI is the HTML file itself: the
file `write_report` writes, as the TFX components' and native KFP components' `report` outputs.
"""

from __future__ import annotations

import json
from typing import Any, Dict

from glassbox import keys
from glassbox.report.render import write_text_atomically


def kfp_ui_metadata(page: str) -> Dict[str, Any]:
    """The UI metadata showing an HTML page inline."""
    return {"outputs": [{"type": "web-app", "storage": "inline", "source": page}]}


def write_kfp_ui_metadata(page: str, path: str = keys.KFP_UI_METADATA_PATH) -> str:
    """Writes the UI metadata of an HTML page to path; returns path."""
    write_text_atomically(path, json.dumps(kfp_ui_metadata(page)))
    return path
