"""`glassbox history`: a metric over a pipeline's runs, read from ML Metadata."""

from __future__ import annotations

import argparse
import json

from glassbox.commands import mlmd_args


def _run(args: argparse.Namespace) -> int:
    from glassbox.provenance.history import read_history
    from glassbox.provenance.text import format_history

    history = read_history(args.mlmd, args.metric, args.slice, args.pipeline)
    print(json.dumps(history.to_json(), indent=2) if args.json else format_history(history))
    if args.html:
        from glassbox.report.provenance_pages import history_page
        from glassbox.report.render import write_html

        print(f"Wrote the history view to {write_html(args.html, history_page(history))}")
    if args.tensorboard:
        from glassbox.report.tensorboard import write_history_summaries

        logdir = write_history_summaries(history, args.tensorboard)
        print(f"Wrote TensorBoard summaries to {logdir} (tensorboard --logdir {logdir})")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "history",
        help="a metric over a pipeline's runs, blessed and refused models marked (from ML Metadata)",
        description="Lists the pipeline's evaluations, oldest first, with the model, examples and baseline "
        "each evaluated, the metric's value on the slice and the verdict on the model.",
    )
    mlmd_args.add_store_arguments(parser)
    parser.add_argument(
        "--metric",
        required=True,
        help="metric name as the evaluation records it: auc, loss, example_count, diff_auc, ...",
    )
    parser.add_argument(
        "--slice",
        default="Overall",
        help="slice in TFMA's notation: Overall, occupation:student, a_X_b:1_X_2 (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--html", metavar="FILE", help="also write the history view as a self-contained HTML page"
    )
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write the history as TensorBoard summaries into DIR (step: the evaluation's id)",
    )
    parser.set_defaults(run=_run)
