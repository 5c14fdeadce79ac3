"""Arguments shared by the subcommands that read ML Metadata: the store, the pipeline, a model."""

from __future__ import annotations

import argparse

from glassbox.errors import GlassboxError

METADATA_HELP = "SQLite ML Metadata store of the pipeline's runs (e.g. demo_output/metadata.sqlite)"
PIPELINE_HELP = "pipeline name (default: the store's only pipeline)"


def add_store_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--mlmd", required=required, metavar="FILE", help=METADATA_HELP)
    parser.add_argument("--pipeline", metavar="NAME", help=PIPELINE_HELP)


def add_model_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Which model: by its id, its blessing's, its push's, or the pipeline's latest push."""
    which = parser.add_mutually_exclusive_group(required=required)
    which.add_argument(
        "--model-id", type=int, metavar="ID", help="a Model artifact's id (its latest validation)"
    )
    which.add_argument(
        "--blessing-id", type=int, metavar="ID", help="a ModelBlessing artifact's id"
    )
    which.add_argument(
        "--pushed-model-id", type=int, metavar="ID", help="a PushedModel artifact's id"
    )
    which.add_argument(
        "--latest-push", action="store_true", help="the model the pipeline pushed last"
    )


def wants_model(args: argparse.Namespace) -> bool:
    return args.latest_push or any(
        i is not None for i in (args.model_id, args.blessing_id, args.pushed_model_id)
    )


def decision_trail(args: argparse.Namespace):
    """The decision trail of the model the arguments name."""
    from glassbox.provenance.trail import decision_trail as trail

    return trail(
        args.mlmd,
        model_id=args.model_id,
        blessing_id=args.blessing_id,
        pushed_model_id=args.pushed_model_id,
        pipeline=args.pipeline,
    )


class SourceError(GlassboxError):
    """The arguments name no source to read, or several that exclude each other."""


def check_model_source(args: argparse.Namespace) -> bool:
    """Whether the arguments name a model in ML Metadata (True) or artifact dirs (False)."""
    if args.mlmd and args.evaluation:
        raise SourceError(
            "give either --evaluation DIR (artifact dirs) or --mlmd FILE (ML Metadata), not both"
        )
    if args.mlmd and not wants_model(args):
        raise SourceError(
            "--mlmd needs the model: --model-id, --blessing-id, --pushed-model-id or --latest-push"
        )
    if wants_model(args) and not args.mlmd:
        raise SourceError("a model is found by its id in ML Metadata: give --mlmd FILE")
    if not args.mlmd and not args.evaluation:
        raise SourceError(
            "nothing to read: give --evaluation DIR (and --validation DIR), or --mlmd FILE and a model"
        )
    return bool(args.mlmd)
