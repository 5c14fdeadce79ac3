"""Errors raised on bad evaluation input; each message names the field, file, feature, metric or
value at fault."""

from glassbox.errors import GlassboxError


class EvaluationError(GlassboxError):
    """Base class for bad input to a glassbox evaluation."""


class UnsupportedMetricError(EvaluationError):
    """An EvalConfig asks for a metric, preprocessor or setting glassbox cannot compute exactly."""


class LabelDomainError(EvaluationError):
    """A label or prediction lies outside the domain its metric requires."""


class ConfigError(EvaluationError):
    """An EvalConfig (or our own config) is malformed or asks for something glassbox does not support."""


class ShapeError(EvaluationError):
    """Labels, predictions or weights have shapes a metric cannot pair, or too few classes."""


class ExamplesError(EvaluationError):
    """Example files are missing, empty, corrupt, truncated, or a requested split does not exist."""


class ModelLoadError(EvaluationError):
    """A model directory is missing, holds no SavedModel, or its SavedModel cannot be loaded."""


class SignatureError(EvaluationError):
    """A model signature is missing, takes inputs glassbox cannot feed, or lacks a named output."""


class MissingFeatureError(EvaluationError):
    """A feature the evaluation needs (model input, label, example weight) is absent in some rows."""


class FeatureTypeError(EvaluationError):
    """A feature has the wrong type or number of values for its use (label, weight, input, slice)."""


class PredictionError(EvaluationError):
    """A model returned predictions that are not finite or not of a usable shape."""
