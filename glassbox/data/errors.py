"""Errors raised on bad data: example files, models, features and predictions; each message names
the file, model, feature, row or output at fault."""

from glassbox.errors import GlassboxError


class DataError(GlassboxError):
    """Base class for bad examples or models given to an evaluation or an explanation."""


class ExamplesError(DataError):
    """Example files are missing, empty, corrupt, truncated, or a requested split does not exist."""


class ModelLoadError(DataError):
    """A model directory is missing, holds no SavedModel, or its SavedModel cannot be loaded."""


class SignatureError(DataError):
    """A model signature is missing, takes inputs glassbox cannot feed, or lacks a named output."""


class MissingFeatureError(DataError):
    """A feature the evaluation needs (model input, label, example weight) is absent in some rows."""


class FeatureTypeError(DataError):
    """A feature has the wrong type or number of values for its use (label, weight, input, slice)."""


class FeatureValueError(DataError):
    """A feature holds values its use does not allow, e.g. a negative, NaN or infinite weight."""


class PredictionError(DataError):
    """A model returned predictions that are not finite or not of a usable shape."""


def in_file(error: GlassboxError, path: str, first_record: int) -> GlassboxError:
    """error (of its type) saying the file, and for the row it names the file's record number,
    for a batch of the file's records from first_record on."""
    message = str(error)
    if error.row is not None:
        record = first_record + error.row
        message = message.replace(f"first: row {error.row}", f"first: record {record}", 1)
    located = type(error)(f"{path}: {message}")
    located.row = None if error.row is None else first_record + error.row
    return located
