"""MkDocs hook: a line `<!-- glassbox-help: SUBCOMMAND -->` in a page becomes that subcommand's
`--help` text, read from the parser `glassbox` runs, so the CLI page cannot drift from the CLI."""

from __future__ import annotations

import argparse
import os
import re

from glassbox.cli import build_parser

MARKER = re.compile(r"^<!-- glassbox-help: ?(.*?) -->$", re.MULTILINE)
# Wrap the help as a terminal of this width would.
COLUMNS = "100"


def _subparser(parser: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    for word in words:
        (choices,) = [
            action.choices
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        ]
        parser = choices[word]
    return parser


def _help(command: str) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = COLUMNS
    try:
        text = _subparser(build_parser(), command.split()).format_help()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return f"```text\n{text.rstrip()}\n```"


def on_page_markdown(markdown: str, **kwargs) -> str:
    return MARKER.sub(lambda match: _help(match.group(1)), markdown)
