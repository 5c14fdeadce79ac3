"""Explaining the evaluated models on the drawn sample: every method of the ExplainConfig for
each model (candidate, then baseline), with the same rows, background and seeds for both, so that
their differences are the models'.

The methods come from the registry (glassbox.explain.methods). Local methods (Shapley values,
integrated gradients, local surrogate) attribute each explained row; a slice's global importance
of a feature is the mean |attribution| over the slice's explained rows. Global methods
(permutation importance, global surrogate) report per slice. Image methods (with the config's
image input) make a heat map of each explained row's image, text methods (with its text input)
attribute each explained row's tokens.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

import numpy as np

from glassbox.explain import draws as draws_lib
from glassbox.explain.attributions import Attributions
from glassbox.explain.config import ExplainPlan
from glassbox.explain.counterfactual import Counterfactuals
from glassbox.explain.errors import ExplanationError
from glassbox.explain.global_surrogate import SurrogateTree
from glassbox.explain.image_attributions import ImageAttributions
from glassbox.explain.image_model import ImageModel
from glassbox.explain.methods import (
    COUNTERFACTUAL,
    IMAGE,
    LOCAL,
    METHODS,
    PARTIAL_DEPENDENCE,
    PERMUTATION,
    SURROGATE,
    TEXT,
    MethodInputs,
)
from glassbox.explain.model_function import Columns, SavedModelFunction
from glassbox.explain.partial_dependence import PartialDependenceCurves
from glassbox.explain.permutation_importance import PermutationImportances
from glassbox.explain.sample import ExplainedSample
from glassbox.explain.text import TokenAttributions
from glassbox.explain.thumbnails import thumbnails
from glassbox.protos.explain_config_pb2 import ExplainConfig

CANDIDATE = "candidate"
BASELINE = "baseline"


@dataclasses.dataclass(frozen=True)
class LocalResult:
    """One local method's attributions of the explained rows and its statement of their accuracy."""

    attributions: Attributions
    accuracy: dict


@dataclasses.dataclass(frozen=True)
class ModelExplanation:
    """Every method's results for one model.

    Attributes:
      role: CANDIDATE or BASELINE.
      model_name: the model's name in the evaluation (TFMA's: '' for a single model).
      model_dir: its SavedModel directory.
      predictions: its scores of the explained rows.
      local: the local methods' results by method name (Attributions.method), in config order.
      permutation: permutation importances per slice, if asked for.
      surrogate: the global surrogate tree and its fidelity per slice, if asked for.
      images: the image methods' heat maps by method name, in config order.
      texts: the text methods' token attributions by method name.
      counterfactuals: each explained row's counterfactual, if asked for.
      partial_dependence: the PDP and ICE curves, if asked for.
      thumbnails: with image methods, the explained images' thumbnails (thumbnails.thumbnails).
    """

    role: str
    model_name: str
    model_dir: str
    predictions: np.ndarray
    local: Dict[str, LocalResult]
    permutation: Optional[PermutationImportances]
    surrogate: Optional[SurrogateTree]
    images: Dict[str, ImageAttributions] = dataclasses.field(default_factory=dict)
    texts: Dict[str, TokenAttributions] = dataclasses.field(default_factory=dict)
    counterfactuals: Optional[Counterfactuals] = None
    partial_dependence: Optional[PartialDependenceCurves] = None
    thumbnails: Optional[np.ndarray] = None

    @property
    def primary(self) -> Optional[str]:
        """The first local method: its attributions are the evaluation's TFMA attributions."""
        return next(iter(self.local), None)


@dataclasses.dataclass(frozen=True)
class Explanation:
    """The explanations of an evaluation: the sample and each model's results (candidate first)."""

    config: ExplainConfig
    sample: ExplainedSample
    models: Tuple[ModelExplanation, ...]


@dataclasses.dataclass(frozen=True)
class GlobalImportance:
    """A local method's attributions aggregated over a slice's explained rows, per group.

    mean_absolute: mean |attribution|; mean: mean attribution; standard_error: of mean_absolute
    from the choice of rows (sample standard deviation / sqrt(rows); NaN with one row).
    """

    rows: int
    mean_absolute: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray


def global_importance(values: np.ndarray, mask: np.ndarray) -> GlobalImportance:
    """The (rows, groups) attributions aggregated over the rows of mask."""
    selected = values[mask]
    rows = len(selected)
    spread = np.abs(selected).std(axis=0, ddof=1) if rows > 1 else np.full(values.shape[1], np.nan)
    return GlobalImportance(
        rows, np.abs(selected).mean(axis=0), selected.mean(axis=0), spread / np.sqrt(rows)
    )


def sample_label(plan: ExplainPlan) -> Tuple[str, bool]:
    """The label read for each explained row and whether it must be there: the one permutation
    importance compares with (required), else the candidate's when the EvalConfig names one (read
    when every explained row holds one number: the report sorts rows by error, image and text
    aggregates go per true label); ('', False) for none."""
    for method in plan.config.methods:
        if method.HasField("permutation_importance"):
            return method.permutation_importance.label_key or plan.label_key, True
    return plan.label_key, False


def _own(columns: Columns, function: SavedModelFunction) -> Columns:
    """The columns a model takes (all of them for a model parsing tf.Examples)."""
    return (
        columns
        if function.features is None
        else {name: columns[name] for name in function.features}
    )


def explain_model(
    plan: ExplainPlan,
    function: SavedModelFunction,
    sample: ExplainedSample,
    role: str,
    model_name: str,
) -> ModelExplanation:
    """Runs every method of the plan on one model.

    Raises:
      ExplanationError: a method cannot explain the model or the config does not fit its
        features (the message names the model).
    """
    config = plan.config
    rows, background = _own(sample.rows, function), _own(sample.background, function)
    groups = [(group.name, tuple(group.features)) for group in config.feature_groups]
    local: Dict[str, LocalResult] = {}
    images: Dict[str, ImageAttributions] = {}
    texts: Dict[str, TokenAttributions] = {}
    permutation = surrogate = counterfactuals = curves = None
    kinds = [METHODS[method.WhichOneof("method")].kind for method in config.methods]
    try:
        image = ImageModel.of(function, config.image) if config.HasField("image") else None
        # Image and text methods explain each row's own class, counterfactuals its outcome (the
        # argmax class of several columns): they need no one-column score.
        predictions = None if set(kinds) <= {IMAGE, TEXT, COUNTERFACTUAL} else function(rows)
        inputs = MethodInputs(
            function,
            rows,
            background,
            groups,
            list(config.features),
            sample.background_weights,
            sample.slices,
            sample.labels,
            sample.weights,
            predictions,
            image,
            config.text if config.HasField("text") else None,
        )
        for method in config.methods:
            name = method.WhichOneof("method")
            registered = METHODS[name]
            result = registered.attribute(
                inputs, getattr(method, name), draws_lib.derived_seed(config.seed, name)
            )
            if registered.kind == LOCAL:
                local[result.value.method] = LocalResult(result.value, result.accuracy)
            elif registered.kind == IMAGE:
                images[result.value.method] = result.value
            elif registered.kind == TEXT:
                texts[result.value.method] = result.value
            elif registered.kind == PERMUTATION:
                permutation = result.value
            elif registered.kind == SURROGATE:
                surrogate = result.value
            elif registered.kind == COUNTERFACTUAL:
                counterfactuals = result.value
            elif registered.kind == PARTIAL_DEPENDENCE:
                curves = result.value
    except ExplanationError as e:
        raise ExplanationError(
            f"cannot explain the {role} model {function.model.model_dir}: {e}"
        ) from e
    if predictions is None:
        predictions = (
            counterfactuals.row_outcomes.scores
            if counterfactuals is not None
            else next(iter({**images, **texts}.values())).scores
        )
    small = thumbnails(image.images(rows), image.encoded) if images else None
    return ModelExplanation(
        role,
        model_name,
        function.model.model_dir,
        predictions,
        local,
        permutation,
        surrogate,
        images,
        texts,
        counterfactuals,
        curves,
        small,
    )


def explain(
    plan: ExplainPlan, sample: ExplainedSample, models: List[Tuple[str, str, SavedModelFunction]]
) -> Explanation:
    """Explains each (role, model name, model function), the candidate first."""
    return Explanation(
        plan.config,
        sample,
        tuple(explain_model(plan, function, sample, role, name) for role, name, function in models),
    )
