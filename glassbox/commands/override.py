"""`glassbox override`: records a person's approval or veto of a model in ML Metadata, which the
next Validator run of that model (with honour_overrides) applies."""

from __future__ import annotations

import argparse

from glassbox.commands import mlmd_args


def _run(args: argparse.Namespace) -> int:
    from glassbox.provenance.override_store import record_override

    override = record_override(
        args.mlmd,
        args.model_id,
        approved=args.bless,
        reason=args.reason,
        by=args.by,
        pipeline=args.pipeline,
    )
    print(
        f"Model {override.model_id} ({override.model_uri}) {override.verdict}: "
        f"{override.sentence()} ({override.describe()}); a Validator with honour_overrides "
        "applies it on the model's next run"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "override",
        help="approve or veto a model, overriding the gate (recorded in ML Metadata)",
        description="Records who approves (--bless) or vetoes (--refuse) a Model, when and why, "
        "and which of its blessings that overrides, in the model's pipeline context in ML Metadata. "
        "A Validator built with honour_overrides=True applies the latest override of its candidate "
        "(a veto beats the checks' blessing); lineage shows every override.",
    )
    mlmd_args.add_store_arguments(parser)
    parser.add_argument(
        "--model-id", type=int, required=True, metavar="ID", help="the Model artifact's id"
    )
    verdict = parser.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--bless", action="store_true", help="approve: bless the model")
    verdict.add_argument("--refuse", action="store_true", help="veto: do not bless the model")
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the record)")
    parser.add_argument("--by", required=True, metavar="NAME", help="who decides")
    parser.set_defaults(run=_run)
