"""Integrated gradients (Sundararajan et al. 2017) of a model differentiable in its float inputs,
with each row's convergence delta: |sum of attributions - (f(x) - f(baseline))|, which is 0 for
the exact path integral, so it states how accurate the quadrature was.

The path integral uses Gauss-Legendre quadrature: exact for integrands polynomial up to degree
2 * steps - 1 along the path, so it converges much faster than Riemann sums on smooth models
(Captum's default too); on piecewise-linear (ReLU) paths every rule converges slowly, and the
delta shows it. All steps of many rows go through the model in one batched gradient call.

Inputs that are not floats (strings, integers), or floats the output has no gradient for (e.g.
bucketised or rounded inside the model), are held at the explained row's values along the path
and named in ``not_attributed``.
"""

from __future__ import annotations

import dataclasses
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

import numpy as np
import tensorflow as tf
from scipy import special

from glassbox.explain.attributions import Attributions
from glassbox.explain.errors import ExplanationError
from glassbox.explain.masking import FeatureGroups, Groups, feature_groups
from glassbox.explain.model_function import (
    DEFAULT_BATCH_SIZE,
    Columns,
    SavedModelFunction,
    num_rows,
)
from glassbox.protos.explain_config_pb2 import IntegratedGradients

if TYPE_CHECKING:  # Keras loads only for a Keras model (glassbox.deferred_imports)
    import keras

DEFAULT_STEPS = 64


class DifferentiableModel(NamedTuple):
    """A model as integrated gradients call it.

    input_specs: each input's dtype and shape ([None] or [None, 1]), by name.
    scores: named input tensors -> one score per row, shape (n,), differentiable by tf.GradientTape.
    """

    input_specs: Mapping[str, tf.TensorSpec]
    scores: Callable[[Dict[str, tf.Tensor]], tf.Tensor]


def _one_score_per_row(output: tf.Tensor, class_index: Optional[int], describe: str) -> tf.Tensor:
    output = tf.reshape(output, [tf.shape(output)[0], -1])
    width = output.shape[1]
    if class_index is None:
        if width != 1:
            raise ExplanationError(
                f"{describe} has {width} columns; set a class_index to explain one of them"
            )
        return output[:, 0]
    if not 0 <= class_index < width:
        raise ExplanationError(
            f"{describe} has {width} columns; class_index {class_index} is out of range"
        )
    return output[:, class_index]


def keras_scores(model: keras.Model, class_index: Optional[int] = None) -> DifferentiableModel:
    """A Keras model taking a dict of named inputs, as a DifferentiableModel.

    Raises:
      ExplanationError: the model does not take a dict of named inputs, or an input holds more
        than one value per row.
    """
    if not isinstance(model.input, dict):
        raise ExplanationError(
            f"Keras model {model.name!r} takes {type(model.input).__name__} inputs; "
            "integrated gradients need a model taking a dict of named feature inputs"
        )
    specs = {
        name: tf.TensorSpec(tensor.shape, tf.as_dtype(tensor.dtype), name=name)
        for name, tensor in model.input.items()
    }
    for name, spec in specs.items():
        if spec.shape[1:].num_elements() != 1:
            raise ExplanationError(
                f"input {name!r} of Keras model {model.name!r} has shape {spec.shape}; "
                "explanations take one value per feature and row ([None] or [None, 1])"
            )
    return DifferentiableModel(
        specs,
        lambda inputs: _one_score_per_row(
            model(inputs), class_index, f"the output of Keras model {model.name!r}"
        ),
    )


def signature_scores(function: SavedModelFunction) -> DifferentiableModel:
    """The signature, output and class of a SavedModelFunction, as a DifferentiableModel.

    Raises:
      ExplanationError: the signature parses serialized tf.Examples (then no gradient reaches
        the features): use one taking named feature tensors, e.g. the Trainer's 'serving_features'.
    """
    model = function.model
    if model.takes_serialized_examples:
        raise ExplanationError(
            f"signature {model.signature_name!r} of model {model.model_dir} parses serialized tf.Examples, so "
            "no gradient reaches the features; integrated gradients need a signature taking named feature "
            "tensors (the glassbox Trainer exports one as 'serving_features')"
        )
    describe = f"output {function.output_key!r} of model {model.model_dir}"
    return DifferentiableModel(
        model.input_specs,
        lambda inputs: _one_score_per_row(
            model.signature(**inputs)[function.output_key], function.class_index, describe
        ),
    )


@dataclasses.dataclass(frozen=True)
class IntegratedGradientsAttributions:
    """Integrated gradients of the explained rows, and how accurate their path integrals are.

    Attributes:
      attributions: method 'integrated_gradients'; values (rows, groups); predictions f(x);
        base_value the mean of baseline_scores.
      baseline_scores: (rows,) each row's f(baseline) (held inputs at the row's values),
        averaged over the baselines.
      convergence_delta: (rows,) |sum of the row's attributions - (f(x) - f(baseline))|; 0 for
        the exact integral.
      not_attributed: the model inputs held at the rows' values.
      steps: quadrature nodes per path.
    """

    attributions: Attributions
    baseline_scores: np.ndarray
    convergence_delta: np.ndarray
    not_attributed: Tuple[str, ...]
    steps: int

    @property
    def relative_delta(self) -> np.ndarray:
        """convergence_delta / |f(x) - f(baseline)| per row (NaN where the two scores are equal)."""
        change = np.abs(self.attributions.predictions - self.baseline_scores)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(change > 0, self.convergence_delta / change, np.nan)

    def to_json(self) -> dict:
        relative = self.relative_delta
        return {
            "method": self.attributions.method,
            "steps": self.steps,
            "not_attributed": list(self.not_attributed),
            "max_convergence_delta": float(self.convergence_delta.max()),
            "max_relative_delta": float(np.nanmax(relative))
            if np.isfinite(relative).any()
            else None,
        }


def _feed(values: np.ndarray, spec: tf.TensorSpec) -> tf.Tensor:
    return tf.constant(
        np.asarray(values).reshape([-1] + spec.shape[1:].as_list()), dtype=spec.dtype
    )


def _differentiable_inputs(model: DifferentiableModel, rows: Columns) -> List[str]:
    """The float inputs the score has a gradient for, found on the first row.

    Raises:
      ExplanationError: the model takes no float input, or its score has a gradient for none.
    """
    floats = [name for name, spec in model.input_specs.items() if spec.dtype.is_floating]
    described = ", ".join(f"{name} ({spec.dtype.name})" for name, spec in model.input_specs.items())
    if not floats:
        raise ExplanationError(
            f"the model takes no float input, so it is not differentiable in any input "
            f"(its inputs: {described}); use Shapley values or a local surrogate"
        )
    inputs = {name: _feed(rows[name][:1], spec) for name, spec in model.input_specs.items()}
    with tf.GradientTape() as tape:
        tape.watch([inputs[name] for name in floats])
        score = model.scores(inputs)
    gradients = tape.gradient(score, [inputs[name] for name in floats])
    differentiable = [name for name, gradient in zip(floats, gradients) if gradient is not None]
    if not differentiable:
        raise ExplanationError(
            f"the model's score has no gradient for any of its float inputs {floats} (they "
            "pass through rounding, comparisons or lookups), so it is not differentiable in "
            "any input; use Shapley values or a local surrogate"
        )
    return differentiable


def _attributed_groups(groups: Groups, differentiable: Sequence[str]) -> Groups:
    """The groups of differentiable inputs only.

    Raises:
      ExplanationError: a group mixing differentiable inputs with others.
    """
    result = []
    for name, members in groups:
        held = [member for member in members if member not in differentiable]
        if held and len(held) < len(members):
            raise ExplanationError(
                f"feature group {name!r} mixes differentiable float inputs with inputs "
                f"integrated gradients cannot attribute ({held}); group them apart"
            )
        if not held:
            result.append((name, members))
    return result


def _baselines(
    kind: int, background: Columns, names: Sequence[str], weights: Optional[np.ndarray]
) -> Tuple[Columns, Optional[np.ndarray]]:
    """The baseline rows of an IntegratedGradients.Baseline and their weights."""
    if kind == IntegratedGradients.ZERO:
        return {name: np.zeros(1) for name in names}, None
    if kind == IntegratedGradients.BACKGROUND_ROWS:
        return background, weights
    return {
        name: np.average(np.asarray(background[name], np.float64), weights=weights, keepdims=True)
        for name in names
    }, None


def _check_columns(columns: Columns, names: Sequence[str], what: str) -> int:
    missing = [name for name in names if name not in columns]
    if missing:
        raise ExplanationError(
            f"the {what} lack the model inputs {missing}; they have {sorted(columns)}"
        )
    n = num_rows({name: columns[name] for name in names})
    if n == 0:
        raise ExplanationError(f"the {what} have no rows")
    return n


def _path_integrals(
    model: DifferentiableModel,
    rows: Columns,
    baselines: Columns,
    attributed: Sequence[str],
    held: Sequence[str],
    pairs: Tuple[np.ndarray, np.ndarray],
    alphas: np.ndarray,
    weights: np.ndarray,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For (row, baseline) pairs: each attributed input's integral, f(x) and f(baseline).

    alphas end with 0 and 1 (weights 0 there), which score the baseline and the row themselves.
    """
    row_index, baseline_index = pairs
    num_alphas = len(alphas)
    inputs, differences = {}, {}
    for name in attributed:
        x = np.asarray(rows[name], dtype=np.float64)[row_index]
        x0 = np.asarray(baselines[name], dtype=np.float64)[baseline_index]
        differences[name] = x - x0
        inputs[name] = _feed(
            x0[:, None] + alphas[None, :] * differences[name][:, None], model.input_specs[name]
        )
    for name in held:
        inputs[name] = _feed(
            np.repeat(np.asarray(rows[name])[row_index], num_alphas), model.input_specs[name]
        )
    with tf.GradientTape() as tape:
        tape.watch([inputs[name] for name in attributed])
        scores = model.scores(inputs)
    gradients = tape.gradient(
        scores,
        [inputs[name] for name in attributed],
        unconnected_gradients=tf.UnconnectedGradients.ZERO,
    )
    integrals = np.stack(
        [
            gradient.numpy().astype(np.float64).reshape(-1, num_alphas)
            @ weights
            * differences[name]
            for name, gradient in zip(attributed, gradients)
        ],
        axis=1,
    )
    scores = scores.numpy().astype(np.float64).reshape(-1, num_alphas)
    return integrals, scores[:, -1], scores[:, -2]


def path_nodes(steps: int) -> Tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes on [0, 1] and their weights, then 0 and 1 with weight 0 (which
    score the baseline and the row themselves). scipy's roots_legendre takes O(steps) (numpy's
    leggauss solves a dense eigenproblem: 31 s at 4,096 steps)."""
    nodes, node_weights = special.roots_legendre(steps)
    return (
        np.concatenate([(nodes + 1) / 2, [0.0, 1.0]]),
        np.concatenate([node_weights / 2, [0.0, 0.0]]),
    )


def integrated_gradients(
    model: DifferentiableModel,
    rows: Columns,
    background: Columns,
    groups: FeatureGroups = (),
    features: Sequence[str] = (),
    config: Optional[IntegratedGradients] = None,
    background_weights: Optional[np.ndarray] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> IntegratedGradientsAttributions:
    """Integrated gradients of each row, from config.baseline (default: the background's mean).

    Against a single baseline (BACKGROUND_MEAN, ZERO) these are classic integrated gradients;
    against every background row, averaged by background_weights (BACKGROUND_ROWS), expected
    gradients. A group's attribution is the sum of its inputs' (integrated gradients are
    additive).

    Args:
      model: see keras_scores and signature_scores.
      rows: the explained rows: a column per model input, each of shape (n,).
      background: a column per attributed input (unused with a ZERO baseline).
      groups, features: the groups attributed (see masking.feature_groups, over the model's
        inputs); inputs outside them are held at the rows' values.
      config: steps (default 64) and baseline.
      batch_size: path points per model call.

    Raises:
      ExplanationError: a model not differentiable in any input, rows or background lacking a
        model input or empty, bad groups or one mixing attributable and non-attributable inputs,
        a non-finite score or gradient.
    """
    config = config if config is not None else IntegratedGradients()
    steps = config.steps or DEFAULT_STEPS
    n = _check_columns(rows, list(model.input_specs), "explained rows")
    inputs = [name for name in rows if name in model.input_specs]  # in the rows' order
    differentiable = _differentiable_inputs(model, rows)
    resolved = _attributed_groups(feature_groups(inputs, groups, features), differentiable)
    if not resolved:
        raise ExplanationError(
            f"none of the features asked for is a differentiable model input; the model's score "
            f"has gradients for {differentiable}"
        )
    attributed = [member for _, members in resolved for member in members]
    held = [name for name in inputs if name not in attributed]
    if config.baseline != IntegratedGradients.ZERO:
        size = _check_columns(background, attributed, "background rows")
        if background_weights is not None and (
            np.shape(background_weights) != (size,)
            or np.any(np.asarray(background_weights) < 0)
            or not np.sum(background_weights) > 0
        ):
            raise ExplanationError(
                f"background weights must be {size} non-negative numbers with a positive sum; "
                f"got shape {np.shape(background_weights)}"
            )
    baselines, baseline_weights = _baselines(
        config.baseline, background, attributed, background_weights
    )
    b = num_rows({name: baselines[name] for name in attributed})
    alphas, weights = path_nodes(steps)
    row_index, baseline_index = np.divmod(np.arange(n * b), b)
    pairs_per_call = max(1, batch_size // len(alphas))
    parts = [
        _path_integrals(
            model,
            rows,
            baselines,
            attributed,
            held,
            (
                row_index[start : start + pairs_per_call],
                baseline_index[start : start + pairs_per_call],
            ),
            alphas,
            weights,
        )
        for start in range(0, n * b, pairs_per_call)
    ]
    integrals, scores, baseline_scores = (
        np.average(np.concatenate(part).reshape(n, b, -1), axis=1, weights=baseline_weights)
        for part in zip(*parts)
    )
    if not (
        np.isfinite(integrals).all()
        and np.isfinite(scores).all()
        and np.isfinite(baseline_scores).all()
    ):
        raise ExplanationError(
            "the model's scores or gradients are not finite on the path from a baseline "
            "to an explained row"
        )
    position = {name: i for i, name in enumerate(attributed)}
    values = np.stack(
        [integrals[:, [position[m] for m in members]].sum(axis=1) for _, members in resolved],
        axis=1,
    )
    scores, baseline_scores = scores[:, 0], baseline_scores[:, 0]
    attributions = Attributions(
        "integrated_gradients",
        tuple(name for name, _ in resolved),
        values,
        scores,
        float(baseline_scores.mean()),
    )
    return IntegratedGradientsAttributions(
        attributions,
        baseline_scores,
        np.abs(values.sum(axis=1) - (scores - baseline_scores)),
        tuple(held),
        steps,
    )
