"""The `glassbox` command line: the components' engines outside a pipeline, and the local demo pipeline."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from glassbox import deferred_imports, garbage_collection, quiet
from glassbox.errors import GlassboxError

EXIT_ERROR = 2
# Modules of glassbox.commands, in the order `glassbox --help` lists them.
COMMANDS = (
    "evaluate",
    "validate",
    "report",
    "history",
    "lineage",
    "override",
    "monitor",
    "model_card",
    "demo",
    "kfp",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassbox", description=__doc__)
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's, Beam's and TFX's own logs and warnings (hidden by default)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"glassbox.commands.{name}").register(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    deferred_imports.install()
    garbage_collection.spare_exit_collections()
    args = build_parser().parse_args(argv)
    try:
        with quiet.libraries_silenced(args.verbose) as log:
            return args.run(args)
    except GlassboxError as e:
        details = f" (the libraries' output: {log[0]})" if log else ""
        print(f"glassbox {args.command}: error: {e}{details}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
