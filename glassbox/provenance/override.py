"""A person's approval or veto of one model, as its Override artifact's custom properties hold it,
and which one a validation of that model applies: the latest recorded for it (an override never
applies to another model). Import-free beyond glassbox.keys: the engine reads them here."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, Mapping, Optional

from glassbox import keys


@dataclasses.dataclass(frozen=True)
class Override:
    """An approval (approved) or a veto of the Model with model_id, by whom, why and when (ISO
    8601, UTC); id is its artifact's ML Metadata id (None until recorded), blessing_id the
    ModelBlessing it overrides (None: the model had none yet)."""

    model_id: int
    model_uri: str
    approved: bool
    reason: str
    by: str
    time: str
    blessing_id: Optional[int] = None
    id: Optional[int] = None

    @property
    def verdict(self) -> str:
        return "approved" if self.approved else "vetoed"

    def sentence(self) -> str:
        """E.g. 'Overridden by alice: the slice is tiny'."""
        return f"Overridden by {self.by}: {self.reason}"

    def describe(self) -> str:
        """E.g. 'approved 2026-12-05T02:40:00+00:00, Override 12, over ModelBlessing 9'."""
        parts = [f"{self.verdict} {self.time}"]
        if self.id is not None:
            parts.append(f"Override {self.id}")
        if self.blessing_id is not None:
            parts.append(f"over ModelBlessing {self.blessing_id}")
        return ", ".join(parts)

    def properties(self) -> Dict[str, Any]:
        """The Override artifact's custom properties (glassbox.keys names them)."""
        properties: Dict[str, Any] = {
            keys.OVERRIDE_MODEL_ID_PROPERTY: self.model_id,
            keys.OVERRIDE_MODEL_URI_PROPERTY: self.model_uri,
            keys.OVERRIDE_APPROVED_PROPERTY: int(self.approved),
            keys.REASON_PROPERTY: self.reason,
            keys.OVERRIDE_AUTHOR_PROPERTY: self.by,
            keys.OVERRIDE_TIME_PROPERTY: self.time,
        }
        if self.blessing_id is not None:
            properties[keys.OVERRIDDEN_BLESSING_ID_PROPERTY] = self.blessing_id
        return properties

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, Any], artifact_id: Optional[int]
    ) -> "Override":
        """The Override an artifact's custom properties record (numbers may come as floats)."""
        blessing_id = properties.get(keys.OVERRIDDEN_BLESSING_ID_PROPERTY)
        return cls(
            model_id=int(properties[keys.OVERRIDE_MODEL_ID_PROPERTY]),
            model_uri=str(properties[keys.OVERRIDE_MODEL_URI_PROPERTY]),
            approved=int(properties[keys.OVERRIDE_APPROVED_PROPERTY]) == 1,
            reason=str(properties[keys.REASON_PROPERTY]),
            by=str(properties[keys.OVERRIDE_AUTHOR_PROPERTY]),
            time=str(properties[keys.OVERRIDE_TIME_PROPERTY]),
            blessing_id=None if blessing_id is None else int(blessing_id),
            id=artifact_id,
        )

    def to_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def applicable(overrides: Iterable[Override], model_id: Optional[int]) -> Optional[Override]:
    """The override a validation of the Model with model_id applies: the latest recorded for it
    (highest id: a later approval lifts an earlier veto, and the other way round); None when
    there is none or the model's id is unknown."""
    if model_id is None:
        return None
    mine = [o for o in overrides if o.model_id == model_id]
    return max(mine, key=lambda o: (o.id is not None, o.id or 0)) if mine else None
