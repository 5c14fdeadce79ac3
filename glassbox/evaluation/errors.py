"""Errors raised on bad metrics input; each message names the field, metric, label or value at
fault."""

from glassbox.errors import GlassboxError


class EvaluationError(GlassboxError):
    """Base class for bad input to a glassbox evaluation."""


class UnsupportedMetricError(EvaluationError):
    """An EvalConfig asks for a metric, preprocessor or setting glassbox cannot compute exactly."""


class LabelDomainError(EvaluationError):
    """A label or prediction lies outside the domain its metric requires."""


class ShapeError(EvaluationError):
    """Labels, predictions or weights have shapes a metric cannot pair, or too few classes."""


class ZeroWeightError(EvaluationError):
    """The example weights of a slice sum to 0, so its weighted metrics are undefined."""


class ExamplesLostError(EvaluationError):
    """Fewer (or more) examples reached the metrics than were read from the example files: the
    Beam runner lost or repeated some (e.g. DaskRunner drops DoFn.finish_bundle output)."""


class TfmaPathError(EvaluationError):
    """TFMA, computing a config on its exact path, refused it or failed; the message gives its reason."""
