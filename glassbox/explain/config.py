"""Reading and checking ExplainConfigs, and what one resolves to beside an evaluation's EvalConfig.

Every field that cannot be honoured is refused up front with its path (e.g. ``methods[1]``),
before any example is read.
"""

from __future__ import annotations

import dataclasses
from typing import List, Sequence

from tensorflow_model_analysis.proto import config_pb2

from glassbox import config_files
from glassbox.explain.errors import ExplanationError
from glassbox.explain.methods import IMAGE, METHODS, TEXT
from glassbox.explain.permutation_importance import METRICS
from glassbox.protos.explain_config_pb2 import Background, ExplainConfig

DEFAULT_EXPLAINED_ROWS = 1000
DEFAULT_BACKGROUND_SIZE = 100
_WHAT = "explain config"


def load_explain_config(path: str) -> ExplainConfig:
    """Reads an ExplainConfig from a text-proto or JSON file (errors name the file)."""
    return config_files.load_config(path, ExplainConfig, _WHAT, ExplanationError)


def parse_explain_config(content: str, source: str) -> ExplainConfig:
    """Parses an ExplainConfig (errors name `source`, e.g. a component's parameter)."""
    return config_files.parse_config(content, ExplainConfig, _WHAT, ExplanationError, source)


def _field(path: str) -> str:
    return f"ExplainConfig field {path!r}"


def check_explain_config(config: ExplainConfig) -> None:
    """Refuses a config no evaluation could honour, naming the field.

    Raises:
      ExplanationError: no method, a method unset or listed twice, an unknown background
        sampling or permutation metric, a feature group without a name or features.
    """
    if not config.methods:
        raise ExplanationError(
            f"{_field('methods')} is empty: list at least one method, e.g. methods {{ shapley {{}} }}"
        )
    seen = {}
    for i, method in enumerate(config.methods):
        kind = method.WhichOneof("method")
        if kind is None:
            raise ExplanationError(f"{_field(f'methods[{i}]')} sets no method")
        if kind not in METHODS:
            raise ExplanationError(
                f"{_field(f'methods[{i}]')} is {kind}, which no registered method implements; "
                f"one of {sorted(METHODS)}"
            )
        if kind in seen:
            raise ExplanationError(
                f"{_field(f'methods[{i}]')} repeats {kind} (also methods[{seen[kind]}]); "
                "each method runs at most once"
            )
        seen[kind] = i
    if config.background.sampling not in Background.Sampling.values():
        raise ExplanationError(
            f"{_field('background.sampling')} is {config.background.sampling}, not a Sampling"
        )
    for i, method in enumerate(config.methods):
        metric = method.permutation_importance.metric
        if method.HasField("permutation_importance") and metric and metric not in METRICS:
            raise ExplanationError(
                f"{_field(f'methods[{i}].permutation_importance.metric')} is {metric!r}; "
                f"one of {sorted(METRICS)}"
            )
    images = [kind for kind in seen if METHODS[kind].kind == IMAGE]
    if images and not config.image.feature:
        raise ExplanationError(
            f"{_field('image.feature')} is empty, and methods {images} explain images: name the "
            "feature holding them"
        )
    texts = [kind for kind in seen if METHODS[kind].kind == TEXT]
    if texts and not config.text.feature:
        raise ExplanationError(
            f"{_field('text.feature')} is empty, and methods {texts} explain texts: name the "
            "feature holding them"
        )
    for i, group in enumerate(config.feature_groups):
        if not group.name or not group.features:
            raise ExplanationError(
                f"{_field(f'feature_groups[{i}]')} needs a name and at least one feature"
            )


@dataclasses.dataclass(frozen=True)
class ExplainPlan:
    """An ExplainConfig resolved against the evaluation's (prepared) EvalConfig.

    Attributes:
      config: the ExplainConfig.
      explained_rows: rows explained (per slice with per_slice).
      background_size: background rows.
      slicing_specs: the EvalConfig's slicing specs when per_slice, else none (overall only).
      min_slice_size: slices with fewer examples are not explained (as their metrics are withheld).
      label_key: the candidate's label, for permutation importance and a stratified background.
      stratify_by: the label a STRATIFIED_BY_LABEL background is drawn by, else ''.
      weight_key: the candidate's example weight feature, or ''.
      excluded: features never attributed (label and weight).
    """

    config: ExplainConfig
    explained_rows: int
    background_size: int
    slicing_specs: Sequence[config_pb2.SlicingSpec]
    min_slice_size: int
    label_key: str
    stratify_by: str
    weight_key: str

    @property
    def excluded(self) -> List[str]:
        return [key for key in (self.label_key, self.weight_key) if key]

    @property
    def needs_features(self) -> bool:
        """Whether drawing the sample must decode examples (to slice them or read their label)."""
        return bool(self.slicing_specs or self.stratify_by)


def explain_plan(config: ExplainConfig, eval_config: config_pb2.EvalConfig) -> ExplainPlan:
    """Checks config and resolves its defaults with the EvalConfig's candidate ModelSpec.

    Raises:
      ExplanationError: as check_explain_config.
    """
    check_explain_config(config)
    candidate = next(spec for spec in eval_config.model_specs if not spec.is_baseline)
    stratified = config.background.sampling == Background.STRATIFIED_BY_LABEL
    return ExplainPlan(
        config=config,
        explained_rows=config.explained_rows.count or DEFAULT_EXPLAINED_ROWS,
        background_size=config.background.size or DEFAULT_BACKGROUND_SIZE,
        slicing_specs=list(eval_config.slicing_specs) if config.per_slice else [],
        min_slice_size=eval_config.options.min_slice_size.value,
        label_key=candidate.label_key,
        stratify_by=(config.background.label_key or candidate.label_key) if stratified else "",
        weight_key=candidate.example_weight_key,
    )
