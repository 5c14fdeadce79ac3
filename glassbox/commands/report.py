"""`glassbox report`: one self-contained HTML page of an evaluation and the validation made on it."""

from __future__ import annotations

import argparse


def _page(args: argparse.Namespace) -> str:
    """The HTML page of the sources the arguments name."""
    from glassbox.report.errors import ReportError
    from glassbox.report.load import build_report
    from glassbox.report.render import render_html

    if args.evaluation:
        return render_html(build_report(args.evaluation, args.validation, args.title))
    raise ReportError("nothing to report on: give --evaluation DIR")


def _run(args: argparse.Namespace) -> int:
    from glassbox.report.kfp import write_kfp_ui_metadata
    from glassbox.report.render import write_html

    page = _page(args)
    path = write_html(args.output, page)
    print(f"Wrote report to {path}")
    if args.kfp_ui_metadata:
        print(f"Wrote Kubeflow Pipelines UI metadata to {write_kfp_ui_metadata(page, args.kfp_ui_metadata)}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report", help="render an evaluation (and its validation) as one self-contained HTML file",
        description="Renders artifact directories as one HTML file that works offline: sliced metrics "
                    "(table, overview, histogram), plots, explanations and the validation decision.")
    sources = parser.add_argument_group("sources")
    sources.add_argument("--evaluation", metavar="DIR",
                         help="evaluation dir in TFMA's format (a ModelEvaluation artifact's URI)")
    sources.add_argument("--validation", metavar="DIR",
                         help="validation dir holding decision.json (a ValidationResult artifact's URI)")
    parser.add_argument("--output", required=True, metavar="FILE",
                        help="HTML file to write (a directory receives report.html)")
    parser.add_argument("--title", help="page title (default: names the candidate model)")
    parser.add_argument("--kfp-ui-metadata", metavar="FILE",
                        help="also write Kubeflow Pipelines' mlpipeline-ui-metadata.json showing the report")
    parser.set_defaults(run=_run)
