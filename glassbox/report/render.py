"""A report as one HTML file, written atomically (also to remote artifact URIs: glassbox.filesystem)."""

from __future__ import annotations

import os
import uuid
from typing import Optional

from glassbox import filesystem, keys
from glassbox.report.errors import ReportError
from glassbox.report.load import build_report
from glassbox.report.model import Report
from glassbox.report.page import render_page


def render_html(report: Report) -> str:
    """The self-contained HTML page of a report."""
    return render_page(report.title, report.payload())


def write_report(
    output_path: str,
    evaluation_dir: str,
    validation_dir: Optional[str] = None,
    title: Optional[str] = None,
) -> str:
    """Writes the report of an evaluation (and of the validation made on it); see write_html."""
    return write_html(output_path, render_html(build_report(evaluation_dir, validation_dir, title)))


def write_html(output_path: str, page: str) -> str:
    """Writes a page atomically to output_path, or to keys.REPORT_FILE in it if it is a directory (or
    ends with '/'). Returns the file's path.
    """
    if output_path.endswith("/") or filesystem.isdir(output_path):
        output_path = os.path.join(output_path, keys.REPORT_FILE)
    write_text_atomically(output_path, page)
    return output_path


def write_text_atomically(path: str, text: str) -> None:
    """Writes text to a temporary file beside path, then renames it into place."""
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        if os.path.dirname(path):
            filesystem.makedirs(os.path.dirname(path))
        filesystem.write_text(temporary, text)
        filesystem.rename(temporary, path)
    except OSError as e:
        raise ReportError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        if filesystem.exists(temporary):
            filesystem.remove(temporary)
