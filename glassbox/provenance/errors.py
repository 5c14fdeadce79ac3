"""Errors of lineage, history and trails; each message names the store, pipeline, id or URI at fault."""

from glassbox.errors import GlassboxError


class LineageError(GlassboxError, LookupError):
    """ML Metadata lacks what was asked for: the store, a pipeline, an artifact or a link between them."""


class ProvenanceError(LineageError):
    """A history or trail cannot be read: nothing of the kind recorded, or a metric or slice no
    evaluation has."""


class OverrideError(GlassboxError, ValueError):
    """An override cannot be recorded as given: an empty reason or author, or a model of no pipeline."""


class ForgedBlessingError(GlassboxError):
    """A ModelBlessing no validation of its pipeline output: anything that can write to ML Metadata
    may have forged it."""
