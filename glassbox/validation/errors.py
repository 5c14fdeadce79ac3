"""Errors raised on bad validation input; each message names the directory, file, field or value at fault."""

from glassbox.errors import ConfigError, GlassboxError


class ValidationError(GlassboxError):
    """Base class for bad input to a validation (never a failed check: those are in the decision)."""


class EvaluationReadError(ValidationError):
    """An evaluation directory is missing, lacks eval_config.json or metrics, or is corrupt or truncated."""


class ValidatorConfigError(ValidationError, ConfigError):
    """A ValidatorConfig or a threshold is malformed, e.g. a change threshold without a direction."""


class NoThresholdsError(ValidatorConfigError):
    """Nothing to check: no threshold, no gate, and allow_no_thresholds is not set."""


class BaselineMismatchError(ValidationError):
    """The Validator was (not) given a baseline model but the evaluation was computed without (with) one."""


class DecisionReadError(ValidationError):
    """A validation directory is missing, lacks decision.json, or holds one that is malformed."""
