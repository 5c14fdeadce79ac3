"""Errors raised on bad evaluation input; each message names the field, file, feature, metric or
value at fault."""


class EvaluationError(ValueError):
    """Base class for bad input to a glassbox evaluation."""


class UnsupportedMetricError(EvaluationError):
    """An EvalConfig asks for a metric, preprocessor or setting glassbox cannot compute exactly."""


class LabelDomainError(EvaluationError):
    """A label or prediction lies outside the domain its metric requires."""


class ConfigError(EvaluationError):
    """An EvalConfig (or our own config) is malformed or asks for something glassbox does not support."""


class ShapeError(EvaluationError):
    """Labels, predictions or weights have shapes a metric cannot pair, or too few classes."""
