"""What history and trails are made of: artifacts as plain values, and their custom properties."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, Union

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.provenance.lineage import type_of


@dataclasses.dataclass(frozen=True)
class ArtifactRef:
    """An artifact of ML Metadata: its id, type name, URI and creation time (UTC, ISO 8601)."""

    id: int
    type: str
    uri: str
    created: str

    @property
    def label(self) -> str:
        """How text output names it, e.g. 'Model 8'."""
        return f"{self.type} {self.id}"


def artifact_ref(
    store: metadata_store.MetadataStore, artifact: metadata_store_pb2.Artifact
) -> ArtifactRef:
    """The plain-value reference of an artifact."""
    created = datetime.datetime.fromtimestamp(
        artifact.create_time_since_epoch / 1000, datetime.timezone.utc
    )
    return ArtifactRef(
        id=artifact.id,
        type=type_of(store, artifact),
        uri=artifact.uri,
        created=created.isoformat(timespec="seconds"),
    )


def property_value(
    node: Union[metadata_store_pb2.Artifact, metadata_store_pb2.Execution], name: str
) -> Any:
    """A custom property's value (int, float or string) of an artifact or execution; None when absent."""
    if name not in node.custom_properties:
        return None
    value = node.custom_properties[name]
    return getattr(value, value.WhichOneof("value"))


def overall_metrics(artifact: metadata_store_pb2.Artifact) -> Dict[str, float]:
    """An evaluation's overall metrics recorded as custom properties, by metric name."""
    return {
        name[len(keys.OVERALL_METRIC_PREFIX) :]: value.double_value
        for name, value in sorted(artifact.custom_properties.items())
        if name.startswith(keys.OVERALL_METRIC_PREFIX)
        and value.WhichOneof("value") == "double_value"
    }
