"""The base of every error glassbox raises on bad input; the `glassbox` command exits 2 on it."""


class GlassboxError(ValueError):
    """Bad input to a glassbox component or command; the message names the field, file or value at fault."""


class ConfigError(GlassboxError):
    """An EvalConfig (or our own config) is malformed or asks for something glassbox does not support."""
