"""`glassbox lineage`: the decision trail of a model, read from ML Metadata."""

from __future__ import annotations

import argparse
import json

from glassbox.commands import mlmd_args


def _run(args: argparse.Namespace) -> int:
    from glassbox.provenance.text import format_trail

    trail = mlmd_args.decision_trail(args)
    print(json.dumps(trail.to_json(), indent=2) if args.json else format_trail(trail))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "lineage",
        help="how a model was trained, evaluated, judged and pushed (from ML Metadata)",
        description="Walks ML Metadata from a model, a blessing or a push: the examples the model was "
        "trained on, the evaluation (its examples and EvalConfig), the validation (verdict and "
        "every check), the baseline it was compared with, and where it was pushed.",
    )
    mlmd_args.add_store_arguments(parser)
    mlmd_args.add_model_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=_run)
