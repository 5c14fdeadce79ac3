"""`glassbox model-card`: a model card (JSON with the Model Card Toolkit's field names, Markdown,
HTML) of an evaluated model, from artifact dirs or from ML Metadata."""

from __future__ import annotations

import argparse

from glassbox.commands import mlmd_args


def _run(args: argparse.Namespace) -> int:
    from glassbox.model_card.card import model_card
    from glassbox.model_card.files import write_model_card
    from glassbox.model_card.inputs import load_inputs, trail_inputs

    inputs = (
        trail_inputs(mlmd_args.decision_trail(args))
        if mlmd_args.check_model_source(args)
        else load_inputs(args.evaluation, args.validation)
    )
    card = model_card(inputs, args.metric)
    print(card["model_details"]["overview"])
    for path in write_model_card(args.output, card):
        print(f"Wrote {path}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "model-card",
        help="write a model card (JSON, Markdown, HTML) from an evaluation or ML Metadata",
        description="Writes model_card.json (the Model Card Toolkit's schema v0.0.2 field names), model_card.md "
        "and model_card.html: metrics per slice, the worst slices as limitations, failed checks, "
        "the comparison with the baseline, what the model relies on (attributions), its lineage.",
    )
    sources = parser.add_argument_group("sources: artifact dirs, or a model in ML Metadata")
    sources.add_argument(
        "--evaluation", metavar="DIR", help="evaluation dir (a ModelEvaluation artifact's URI)"
    )
    sources.add_argument("--validation", metavar="DIR", help="validation dir holding decision.json")
    mlmd_args.add_store_arguments(sources, required=False)
    mlmd_args.add_model_arguments(sources, required=False)
    parser.add_argument(
        "--metric",
        help="the metric worst slices and the comparison are judged by "
        "(default: the first the validation checks, else the first metric)",
    )
    parser.add_argument(
        "--output", required=True, metavar="DIR", help="directory to write the card's files into"
    )
    parser.set_defaults(run=_run)
