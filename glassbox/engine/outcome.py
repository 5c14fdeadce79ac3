"""What an evaluation produced, as every front-end records it."""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Union

from tensorflow_model_analysis.proto import config_pb2

# A custom property's value, as TFX artifacts, ML Metadata and KFP metadata hold it.
PropertyValue = Union[int, float, str]


@dataclasses.dataclass(frozen=True)
class ModelArtifact:
    """A model given to the engine: its artifact's URI (a SavedModel dir, or a TFX Model dir
    holding Format-Serving/) and, when the front-end knows it, its ML Metadata id."""

    uri: str
    id: Optional[int] = None


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
    """

    eval_config: config_pb2.EvalConfig
    output_dir: str
    overall_metrics: Dict[str, float]
    properties: Dict[str, PropertyValue]
    report: str
    explained: bool
