"""Errors raised on bad explanation input; each message names the feature, column, field or value at fault."""

from glassbox.errors import GlassboxError


class ExplanationError(GlassboxError):
    """Bad input to an explanation: unknown or mistyped features, empty background, a model no
    method can explain, a config asking for something impossible."""
