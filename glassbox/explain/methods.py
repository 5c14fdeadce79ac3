"""The attribution methods by their ExplainConfig name (the field of ``Method``), one call shape.

Every method is ``attribute(inputs, options, seed) -> MethodResult``: the model and what it
explains (MethodInputs: the explained rows, background, feature groups, slices, labels), its own config
message and its seed; the result holds the method's value and its stated accuracy. A local method's
value is the explained rows' Attributions; a global method's is its per-slice result (permutation
importances, a surrogate tree); an image method's the rows' heat maps (ImageAttributions), a
text method's their tokens' attributions (TokenAttributions). A new
method is one module and one line in METHODS; check_explain_config refuses a method without one.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from google.protobuf.message import Message

from glassbox.explain.attributions import Attributions
from glassbox.explain.counterfactual import (
    DEFAULT_THRESHOLD,
    Counterfactuals,
    counterfactuals,
    outcomes_of,
)
from glassbox.explain.errors import ExplanationError
from glassbox.explain.global_surrogate import SurrogateTree, fit_global_surrogate
from glassbox.explain.grad_cam import grad_cam
from glassbox.explain.image_attributions import ImageAttributions, MapFunction, explain_images
from glassbox.explain.image_gradients import image_integrated_gradients, smooth_grad
from glassbox.explain.image_model import ImageModel
from glassbox.explain.integrated_gradients import integrated_gradients, signature_scores
from glassbox.explain.local_surrogate import local_surrogate
from glassbox.explain.masking import feature_groups
from glassbox.explain.model_function import Columns, SavedModelFunction
from glassbox.explain.occlusion import occlusion
from glassbox.explain.partial_dependence import (
    PartialDependenceCurves,
    default_features,
    partial_dependence,
)
from glassbox.explain.permutation_importance import PermutationImportances, permutation_importance
from glassbox.explain.shapley import shapley_values
from glassbox.explain.superpixel_shapley import superpixel_shapley
from glassbox.explain.text import TokenAttributions, token_occlusion, token_shapley
from glassbox.explain.text_gradients import text_integrated_gradients
from glassbox.protos.explain_config_pb2 import TextInput

LOCAL = "local"  # attributions of each explained row
PERMUTATION = "permutation"  # per-slice importances by a metric's drop
SURROGATE = "surrogate"  # per-slice fidelity of one interpretable model
IMAGE = "image"  # heat maps of each explained row's image
TEXT = "text"  # attributions of each explained row's tokens
COUNTERFACTUAL = "counterfactual"  # each explained row's nearest example of another outcome
PARTIAL_DEPENDENCE = "partial_dependence"  # PDP and ICE curves per feature (per slice)


@dataclasses.dataclass(frozen=True)
class MethodInputs:
    """What every method is given for one model.

    Attributes:
      function: the model's scores of feature columns.
      rows: the explained rows' columns the model takes.
      background: the background rows' columns the model takes.
      groups: feature groups attributed together, (name, features).
      features: the features attributed (empty: all).
      background_weights: the background rows' weights, or None: equal weights.
      slices: boolean row mask of each explained slice, by slice string.
      labels: the rows' labels, when read.
      weights: the rows' example weights, when the model has a weight feature.
      predictions: the model's scores of rows (None when only image methods run).
      image: the model as the image methods call it, when the config has an image input.
      text: the config's text input, when it has one.
    """

    function: SavedModelFunction
    rows: Columns
    background: Columns
    groups: Sequence[Tuple[str, Sequence[str]]]
    features: Sequence[str]
    background_weights: Optional[np.ndarray]
    slices: Dict[str, np.ndarray]
    labels: Optional[np.ndarray]
    weights: Optional[np.ndarray]
    predictions: Optional[np.ndarray]
    image: Optional[ImageModel] = None
    text: Optional[TextInput] = None


@dataclasses.dataclass(frozen=True)
class MethodResult:
    """A method's value (Attributions, PermutationImportances or SurrogateTree) and its stated
    accuracy (JSON values, written beside it)."""

    value: Union[
        Attributions,
        PermutationImportances,
        SurrogateTree,
        ImageAttributions,
        TokenAttributions,
        Counterfactuals,
        PartialDependenceCurves,
    ]
    accuracy: dict


class Method(NamedTuple):
    """A registered method: what its value is (LOCAL, PERMUTATION, SURROGATE, IMAGE, TEXT,
    COUNTERFACTUAL, PARTIAL_DEPENDENCE) and its call."""

    kind: str
    attribute: Callable[[MethodInputs, Message, int], MethodResult]


def _masking(method: Callable, inputs: MethodInputs, options: Message, seed: int):
    """A method that masks features with the background (Shapley values, local surrogate)."""
    return method(
        inputs.function,
        inputs.rows,
        inputs.background,
        inputs.groups,
        options,
        seed,
        inputs.background_weights,
        inputs.features,
    )


def _shapley(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    result = _masking(shapley_values, inputs, options, seed)
    errors = result.standard_errors
    return MethodResult(
        result,
        {
            "method": result.method,
            "mean_standard_error": float(errors.mean()),
            "max_standard_error": float(errors.max()),
        },
    )


def _integrated_gradients(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    del seed  # deterministic
    result = integrated_gradients(
        signature_scores(inputs.function),
        inputs.rows,
        inputs.background,
        inputs.groups,
        inputs.features,
        options,
        inputs.background_weights,
    )
    return MethodResult(
        result.attributions,
        {**result.to_json(), "mean_convergence_delta": float(result.convergence_delta.mean())},
    )


def _local_surrogate(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    result = _masking(local_surrogate, inputs, options, seed)
    return MethodResult(result.attributions, result.to_json())


def _permutation_importance(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    result = permutation_importance(
        inputs.function,
        inputs.rows,
        inputs.labels,
        inputs.groups,
        options,
        inputs.slices,
        seed,
        inputs.weights,
        inputs.features,
    )
    return MethodResult(result, {"num_repeats": result.num_repeats, "metric": result.metric})


def _attributed(inputs: MethodInputs) -> list:
    """The attributed raw features, groups' members included, in order."""
    return [
        member
        for _, members in feature_groups(inputs.rows, inputs.groups, inputs.features)
        for member in members
    ]


def _global_surrogate(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    tree = fit_global_surrogate(
        inputs.rows, inputs.predictions, _attributed(inputs), inputs.slices, options, seed=seed
    )
    return MethodResult(tree, {"fidelity": {key: f.to_json() for key, f in tree.fidelity.items()}})


def _counterfactual(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    """The pool: the explained rows, then the background unless it is weighted (k-means
    centroids), at most pool_size of them drawn with the seed."""
    parts = [inputs.rows] + ([inputs.background] if inputs.background_weights is None else [])
    pool = {name: np.concatenate([part[name] for part in parts]) for name in inputs.rows}
    size = len(next(iter(pool.values())))
    if options.pool_size and options.pool_size < size:
        chosen = np.sort(np.random.default_rng(seed).choice(size, options.pool_size, False))
        pool = {name: values[chosen] for name, values in pool.items()}
    function = inputs.function
    threshold = options.threshold if options.HasField("threshold") else DEFAULT_THRESHOLD
    row_outputs = function.in_batches(inputs.rows, function.outputs)
    argmax = function.class_index is None and row_outputs.shape[1] > 1
    result = counterfactuals(
        inputs.rows,
        outcomes_of(row_outputs, threshold, function.class_index),
        pool,
        outcomes_of(function.in_batches(pool, function.outputs), threshold, function.class_index),
        _attributed(inputs),
        threshold,
        argmax,
    )
    return MethodResult(result, result.accuracy)


def _partial_dependence(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
    del seed  # deterministic
    result = partial_dependence(
        inputs.function,
        inputs.rows,
        default_features(inputs.rows, _attributed(inputs)),
        options,
        inputs.slices,
    )
    return MethodResult(result, result.accuracy)


def _image(name: str, maps_of: MapFunction) -> Method:
    """An image method: maps_of's heat maps of the rows' images, with fidelity and sanity check."""

    def attribute(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
        if inputs.image is None:
            raise ExplanationError(
                f"method {name} explains images: set ExplainConfig field 'image' (its feature)"
            )
        result = explain_images(name, maps_of, inputs.image, inputs.rows, options, seed)
        return MethodResult(result, result.accuracy)

    return Method(IMAGE, attribute)


def _text(name: str, attribute: Callable) -> Method:
    """A text method: attribute(function, rows, text input, options, seed) -> TokenAttributions."""

    def method(inputs: MethodInputs, options: Message, seed: int) -> MethodResult:
        if inputs.text is None:
            raise ExplanationError(
                f"method {name} explains texts: set ExplainConfig field 'text' (its feature)"
            )
        result = attribute(inputs.function, inputs.rows, inputs.text, options, seed)
        return MethodResult(result, result.accuracy)

    return Method(TEXT, method)


METHODS: Dict[str, Method] = {
    "shapley": Method(LOCAL, _shapley),
    "integrated_gradients": Method(LOCAL, _integrated_gradients),
    "local_surrogate": Method(LOCAL, _local_surrogate),
    "permutation_importance": Method(PERMUTATION, _permutation_importance),
    "global_surrogate": Method(SURROGATE, _global_surrogate),
    "image_integrated_gradients": _image("image_integrated_gradients", image_integrated_gradients),
    "smooth_grad": _image("smooth_grad", smooth_grad),
    "occlusion": _image("occlusion", occlusion),
    "grad_cam": _image("grad_cam", grad_cam),
    "superpixel_shapley": _image("superpixel_shapley", superpixel_shapley),
    "token_occlusion": _text("token_occlusion", token_occlusion),
    "token_shapley": _text("token_shapley", token_shapley),
    "counterfactual": Method(COUNTERFACTUAL, _counterfactual),
    "partial_dependence": Method(PARTIAL_DEPENDENCE, _partial_dependence),
    "text_integrated_gradients": _text("text_integrated_gradients", text_integrated_gradients),
}
