"""Errors raised on bad report input; each message names the directory or file at fault."""

from glassbox.errors import GlassboxError


class ReportError(GlassboxError):
    """A validation or explanation file a report reads is missing, malformed or unreadable."""
