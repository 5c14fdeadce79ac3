"""The base of every error glassbox raises on bad input; the `glassbox` command exits 2 on it."""

from typing import Optional


class GlassboxError(ValueError):
    """Bad input to a glassbox component or command; the message names the field, file or value at fault.

    row: the row of a batch the message names ("first: row N"), if it names one; the layers that
    know which file and record the batch came from then say so instead.
    """

    row: Optional[int] = None

    def at_row(self, row: int) -> "GlassboxError":
        self.row = int(row)
        return self


class OutputError(GlassboxError):
    """An output cannot be written: the path is a file, read-only, not permitted, out of space."""


class ConfigError(GlassboxError):
    """An EvalConfig (or our own config) is malformed or asks for something glassbox does not support."""
