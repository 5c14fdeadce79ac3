"""`glassbox report`: one self-contained HTML page of an evaluation and the validation made on it,
of a model found in ML Metadata (its model card, lineage and report), or of a metric's history."""

from __future__ import annotations

import argparse

from glassbox.commands import mlmd_args


def _page(args: argparse.Namespace) -> str:
    """The HTML page of the sources the arguments name."""
    from glassbox.report.errors import ReportError
    from glassbox.report.load import build_report
    from glassbox.report.render import render_html

    if args.mlmd and args.history:
        from glassbox.provenance.history import read_history
        from glassbox.report.provenance_pages import history_page

        if not args.metric:
            raise ReportError("--history needs --metric NAME (e.g. auc)")
        return history_page(
            read_history(args.mlmd, args.metric, args.slice, args.pipeline), args.title
        )
    if args.history:
        raise ReportError("--history reads ML Metadata: give --mlmd FILE")
    if mlmd_args.check_model_source(args):
        from glassbox.model_card.card import model_card
        from glassbox.model_card.inputs import trail_inputs
        from glassbox.report.provenance_pages import model_page

        trail = mlmd_args.decision_trail(args)
        return model_page(trail, model_card(trail_inputs(trail), args.metric), args.title)
    return render_html(build_report(args.evaluation, args.validation, args.title))


def _run(args: argparse.Namespace) -> int:
    from glassbox.report.kfp import write_kfp_ui_metadata
    from glassbox.report.render import write_html

    page = _page(args)
    path = write_html(args.output, page)
    print(f"Wrote report to {path}")
    if args.kfp_ui_metadata:
        print(
            f"Wrote Kubeflow Pipelines UI metadata to {write_kfp_ui_metadata(page, args.kfp_ui_metadata)}"
        )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="render an evaluation (and its validation), a model in ML Metadata or a metric's "
        "history as one self-contained HTML file",
        description="Renders artifact directories as one HTML file that works offline: sliced metrics "
        "(table, overview, histogram), plots, explanations and the validation decision. With --mlmd, "
        "a model's page (model card, lineage, then the same views) or, with --history, a metric's "
        "history over the pipeline's runs.",
    )
    sources = parser.add_argument_group("sources")
    sources.add_argument(
        "--evaluation",
        metavar="DIR",
        help="evaluation dir in TFMA's format (a ModelEvaluation artifact's URI)",
    )
    sources.add_argument(
        "--validation",
        metavar="DIR",
        help="validation dir holding decision.json (a ValidationResult artifact's URI)",
    )
    mlmd_args.add_store_arguments(sources, required=False)
    mlmd_args.add_model_arguments(sources, required=False)
    sources.add_argument(
        "--history",
        action="store_true",
        help="with --mlmd: the history of --metric on --slice over the pipeline's evaluations",
    )
    sources.add_argument(
        "--metric", help="the history's metric; for a model, the one its card judges slices by"
    )
    sources.add_argument(
        "--slice", default="Overall", help="the history's slice (default: %(default)s)"
    )
    parser.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="HTML file to write (a directory receives report.html)",
    )
    parser.add_argument("--title", help="page title (default: names the candidate model)")
    parser.add_argument(
        "--kfp-ui-metadata",
        metavar="FILE",
        help="also write Kubeflow Pipelines' mlpipeline-ui-metadata.json showing the report",
    )
    parser.set_defaults(run=_run)
