"""Reports of evaluations and validations: one self-contained HTML file (works offline), for the
browser, the Kubeflow Pipelines UI (`write_kfp_ui_metadata`) and notebooks (`glassbox.notebook`).

    evaluation dir (+ validation dir) --build_report--> Report --render_html--> HTML

`write_report` does both and writes the file atomically; `glassbox report` is its command line.
"""

from glassbox.report.kfp import kfp_ui_metadata, write_kfp_ui_metadata
from glassbox.report.load import build_report
from glassbox.report.model import Report
from glassbox.report.render import render_html, write_html, write_report

__all__ = [
    "Report",
    "build_report",
    "kfp_ui_metadata",
    "render_html",
    "write_html",
    "write_kfp_ui_metadata",
    "write_report",
]
