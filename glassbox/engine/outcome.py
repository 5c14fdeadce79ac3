"""What an evaluation and a validation produced, as every front-end records it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Dict, Mapping, Optional, Tuple, Union

from glassbox import keys

if TYPE_CHECKING:
    from tensorflow_model_analysis.proto import config_pb2

    from glassbox.validation.decision import Decision

# A custom property's value, as TFX artifacts, ML Metadata and KFP metadata hold it.
PropertyValue = Union[int, float, str]


@dataclasses.dataclass(frozen=True)
class ModelArtifact:
    """A model given to the engine: its artifact's URI (a SavedModel dir, or a TFX Model dir
    holding Format-Serving/), its ML Metadata id when the front-end knows it, and the local path
    this process reads it at when that is not the URI (KFP mounts gs:// and minio:// URIs)."""

    uri: str
    id: Optional[int] = None
    path: Optional[str] = None

    @property
    def location(self) -> str:
        """Where this process reads the model."""
        return self.path or self.uri


@dataclasses.dataclass(frozen=True)
class EvaluationOutcome:
    """An evaluation written whole to output_dir, and what a front-end records of it.

    Attributes:
      eval_config: the EvalConfig as applied (TFMA's defaults filled in).
      output_dir: the evaluation directory, in TFMA's format.
      overall_metrics: the candidate's scalar metrics on the overall slice, by metric name.
      properties: the ModelEvaluation's custom properties (glassbox.keys names them): the overall
        metrics as overall_<name>, the example splits, the candidate's and baseline's URIs and ids.
      report: the path of the evaluation's HTML report.
      explained: whether explanations were computed and written.
      notes: sentences on what TFMA would have computed and glassbox did not (the models'
        compiled metrics, ``evaluation.default_metrics``); the engine also logs them.
    """

    eval_config: "config_pb2.EvalConfig"
    output_dir: str
    overall_metrics: Dict[str, float]
    properties: Dict[str, PropertyValue]
    report: str
    explained: bool
    notes: Tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class BlessingRecord:
    """A ModelBlessing, as the stock Evaluator writes it and the Pusher and resolvers read it: an
    empty file named BLESSED or NOT_BLESSED, and custom properties (TFX's `blessed` and the
    models, glassbox's decision in brief: validation_ok, rubber_stamp, failures, reason)."""

    file_name: str
    properties: Dict[str, PropertyValue]

    @property
    def blessed(self) -> bool:
        return self.file_name == keys.BLESSED_FILE


@dataclasses.dataclass(frozen=True)
class ValidationOutcome:
    """A validation written whole to output_dir (TFMA's ValidationResult, decision.json,
    decision.md, report.html), and the blessing a front-end writes last.

    Attributes:
      decision: the decision, every check in a sentence.
      output_dir: the validation directory.
      report: the path of the HTML report of the evaluation with the decision.
      blessing: the ModelBlessing's file and properties.
    """

    decision: "Decision"
    output_dir: str
    report: str
    blessing: BlessingRecord


@dataclasses.dataclass(frozen=True)
class Models:
    """A candidate model and the baseline it is compared with (None: no baseline)."""

    candidate: ModelArtifact
    baseline: Optional[ModelArtifact] = None

    def properties(self) -> Dict[str, PropertyValue]:
        """Their URIs and ids (when known), named as the stock Evaluator names them on its
        ModelBlessing; the glassbox Evaluator records them on its ModelEvaluation too."""
        properties: Dict[str, PropertyValue] = {}
        for artifact, uri_property, id_property in (
            (self.candidate, keys.CURRENT_MODEL_PROPERTY, keys.CURRENT_MODEL_ID_PROPERTY),
            (self.baseline, keys.BASELINE_MODEL_PROPERTY, keys.BASELINE_MODEL_ID_PROPERTY),
        ):
            if artifact is not None:
                properties[uri_property] = artifact.uri
                if artifact.id is not None:
                    properties[id_property] = artifact.id
        return properties

    @classmethod
    def recorded(cls, properties: Mapping[str, PropertyValue]) -> Optional["Models"]:
        """The models an evaluation's properties record (see `properties`); None when they record
        none (e.g. a stock TFMA evaluation's)."""

        def model(uri_property: str, id_property: str) -> Optional[ModelArtifact]:
            if uri_property not in properties:
                return None
            model_id = properties.get(id_property)
            # KFP metadata holds numbers as doubles.
            return ModelArtifact(
                str(properties[uri_property]), None if model_id is None else int(model_id)
            )

        candidate = model(keys.CURRENT_MODEL_PROPERTY, keys.CURRENT_MODEL_ID_PROPERTY)
        if candidate is None:
            return None
        return cls(candidate, model(keys.BASELINE_MODEL_PROPERTY, keys.BASELINE_MODEL_ID_PROPERTY))
