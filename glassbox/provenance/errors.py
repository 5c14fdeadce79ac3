"""Errors of history and trails; each message names the store, pipeline, id or URI at fault."""

from glassbox.pipelines.lineage import LineageError


class ProvenanceError(LineageError):
    """A history or trail cannot be read: nothing of the kind recorded, or a metric or slice no
    evaluation has."""
