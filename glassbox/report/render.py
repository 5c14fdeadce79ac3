"""A report as one HTML file, written atomically (also to remote artifact URIs, via tf.io.gfile)."""

from __future__ import annotations

import os
import uuid
from typing import Optional

from glassbox import keys
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
    import tensorflow as tf

    if output_path.endswith("/") or tf.io.gfile.isdir(output_path):
        output_path = os.path.join(output_path, keys.REPORT_FILE)
    write_text_atomically(output_path, page)
    return output_path


def write_text_atomically(path: str, text: str) -> None:
    """Writes text to a temporary file beside path, then renames it into place."""
    import tensorflow as tf

    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        if os.path.dirname(path):
            tf.io.gfile.makedirs(os.path.dirname(path))
        with tf.io.gfile.GFile(temporary, "w") as f:
            f.write(text)
        tf.io.gfile.rename(temporary, path, overwrite=True)
    except tf.errors.OpError as e:
        raise ReportError(f"cannot write {path}: {e.message}") from e
    finally:
        if tf.io.gfile.exists(temporary):
            tf.io.gfile.remove(temporary)
