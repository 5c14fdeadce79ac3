"""Permutation feature importance: how much an evaluation metric worsens, per slice, when a
feature group's values are shuffled across the rows (breaking its link with the label).

The metrics are sklearn's: each importance needs the metric on every (group, repeat) copy of
every slice, so a few exact metrics of (labels, scores, weights) arrays are what is needed, not
an EvalConfig's TFMA computations (whose AUC is an approximation over 10,000 buckets of the same
quantity).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.json_values import finite_or_none
from glassbox.explain.masking import FeatureGroups, Groups, feature_groups
from glassbox.explain.model_function import Columns, ModelFunction
from glassbox.explain.slices import slice_masks
from glassbox.protos.explain_config_pb2 import PermutationImportance

DEFAULT_NUM_REPEATS = 5
# Rows handed to the model function per call (permuted copies of all rows, concatenated).
_MIN_ROWS_PER_CALL = 16384


class Metric(NamedTuple):
    """compute(labels, scores, sample_weight); whether a higher value is better; whether labels
    must be 0/1, scores probabilities; whether it is undefined on rows of a single class."""

    compute: Callable[..., float]
    higher_is_better: bool
    binary: bool = False
    probabilities: bool = False
    needs_both_classes: bool = False


def _sklearn(name: str) -> Callable[..., float]:
    """scikit-learn's metric `name`, imported when first computed (evaluations without
    permutation importance do not load scikit-learn)."""

    def compute(*args, **kwargs) -> float:
        from sklearn import metrics

        return getattr(metrics, name)(*args, **kwargs)

    return compute


def _log_loss(labels, scores, sample_weight):
    return _sklearn("log_loss")(labels, scores, sample_weight=sample_weight, labels=[0, 1])


def _accuracy(labels, scores, sample_weight):
    return _sklearn("accuracy_score")(
        labels, (scores >= 0.5).astype(labels.dtype), sample_weight=sample_weight
    )


METRICS: Dict[str, Metric] = {
    "auc": Metric(
        _sklearn("roc_auc_score"), higher_is_better=True, binary=True, needs_both_classes=True
    ),
    "log_loss": Metric(_log_loss, higher_is_better=False, binary=True, probabilities=True),
    "accuracy": Metric(_accuracy, higher_is_better=True, binary=True, probabilities=True),
    "mse": Metric(_sklearn("mean_squared_error"), higher_is_better=False),
    "mae": Metric(_sklearn("mean_absolute_error"), higher_is_better=False),
}


@dataclasses.dataclass(frozen=True)
class SliceImportance:
    """One slice's metric on the rows as they are, and each group's importance per repeat:
    the metric's worsening (positive: the model relies on the group), shape (groups, repeats).
    NaN where the metric is undefined on the slice (e.g. AUC of a slice with one class)."""

    metric_value: float
    importances: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.importances.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        """The spread over repeats (sample standard deviation; NaN with a single repeat)."""
        if self.importances.shape[1] < 2:
            return np.full(len(self.importances), np.nan)
        return self.importances.std(axis=1, ddof=1)


@dataclasses.dataclass(frozen=True)
class PermutationImportances:
    """Importances of the feature groups per slice string."""

    metric: str
    group_names: Tuple[str, ...]
    num_repeats: int
    seed: int
    slices: Dict[str, SliceImportance]

    def to_json(self) -> dict:
        return {
            "metric": self.metric,
            "num_repeats": self.num_repeats,
            "seed": self.seed,
            "slices": {
                name: {
                    "metric_value": finite_or_none(s.metric_value),
                    "importance": {
                        group: {"mean": finite_or_none(mean), "std": finite_or_none(std)}
                        for group, mean, std in zip(self.group_names, s.mean, s.std)
                    },
                }
                for name, s in self.slices.items()
            },
        }


def _check(
    columns: Columns, labels: np.ndarray, weights: Optional[np.ndarray], num_repeats: int
) -> int:
    if num_repeats < 1:
        raise ExplanationError(
            f"PermutationImportance.num_repeats must be at least 1, got {num_repeats}"
        )
    n = len(labels)
    if labels.ndim != 1 or n < 2:
        raise ExplanationError(
            f"labels must be one value per row for at least 2 rows, got shape {labels.shape}"
        )
    if weights is not None and np.shape(weights) != labels.shape:
        raise ExplanationError(f"weights have shape {np.shape(weights)}, the labels {labels.shape}")
    for name, values in columns.items():
        if np.shape(values) != labels.shape:
            raise ExplanationError(
                f"feature {name!r} has shape {np.shape(values)}, the labels {labels.shape}"
            )
    return n


def _chosen_metric(name: str, labels: np.ndarray, scores: np.ndarray) -> str:
    """name, or by default 'log_loss' for probabilities of binary labels, else 'mse'.

    Raises:
      ExplanationError: an unknown metric, or labels or scores outside its domain.
    """
    binary = bool(np.isin(labels, (0, 1)).all())
    probabilities = scores.min() >= 0 and scores.max() <= 1
    if not name:
        return "log_loss" if binary and probabilities else "mse"
    if name not in METRICS:
        raise ExplanationError(
            f"PermutationImportance.metric {name!r} is unknown; permutation importance "
            f"computes {sorted(METRICS)}"
        )
    if METRICS[name].binary and not binary:
        raise ExplanationError(
            f"metric {name!r} needs binary labels (0 or 1); the labels hold "
            f"{np.unique(labels[~np.isin(labels, (0, 1))])[:5].tolist()}"
        )
    if METRICS[name].probabilities and not probabilities:
        raise ExplanationError(
            f"metric {name!r} needs probabilities in [0, 1]; the model's scores range over "
            f"[{scores.min():g}, {scores.max():g}] (explain a probability output)"
        )
    return name


def _scores(model: ModelFunction, columns: Columns, n: int) -> np.ndarray:
    """The model's scores of n rows of columns.

    Raises:
      ExplanationError: not one finite score per row.
    """
    scores = np.asarray(model(columns), dtype=np.float64)
    if scores.shape != (n,) or not np.all(np.isfinite(scores)):
        raise ExplanationError(
            f"the model function returned scores of shape {scores.shape} (non-finite: "
            f"{np.sum(~np.isfinite(scores))}) for {n} rows; expected one finite float per row"
        )
    return scores


def _permuted_copies(
    columns: Columns, n: int, groups: Groups, num_repeats: int, rng: np.random.Generator
) -> Iterator[Dict[str, np.ndarray]]:
    """For each group and repeat, the columns with the group's columns permuted together."""
    for _, group_columns in groups:
        for _ in range(num_repeats):
            permutation = rng.permutation(n)
            yield {
                name: np.asarray(values)[permutation] if name in group_columns else values
                for name, values in columns.items()
            }


def scores_of_copies(
    model: ModelFunction, copies: Iterator[Dict[str, np.ndarray]], num_copies: int, n: int
) -> np.ndarray:
    """The model's scores of each copy, (num_copies, n), from calls of >= _MIN_ROWS_PER_CALL rows."""
    copies_per_call = math.ceil(_MIN_ROWS_PER_CALL / n)
    scores: List[np.ndarray] = []
    for start in range(0, num_copies, copies_per_call):
        chunk = [next(copies) for _ in range(min(copies_per_call, num_copies - start))]
        scores.append(
            _scores(
                model,
                {name: np.concatenate([c[name] for c in chunk]) for name in chunk[0]},
                len(chunk) * n,
            )
        )
    return np.concatenate(scores).reshape(num_copies, n)


def _metric_value(
    metric: Metric, labels: np.ndarray, scores: np.ndarray, weights: Optional[np.ndarray]
) -> float:
    """The metric, NaN where it is undefined (no rows, or one class for AUC)."""
    if not len(labels) or (metric.needs_both_classes and len(np.unique(labels)) < 2):
        return np.nan
    return float(metric.compute(labels, scores, sample_weight=weights))


def permutation_importance(
    model: ModelFunction,
    columns: Columns,
    labels: np.ndarray,
    groups: FeatureGroups = (),
    config: Optional[PermutationImportance] = None,
    slices: Optional[Mapping[str, np.ndarray]] = None,
    seed: int = 0,
    weights: Optional[np.ndarray] = None,
    features: Sequence[str] = (),
) -> PermutationImportances:
    """Each feature group's permutation importance on config.metric, per slice.

    A group's columns are permuted together (one permutation per repeat, drawn across all rows,
    i.e. from the population's distribution), the model rescores every row, and the metric is
    recomputed on each slice's rows: one set of model calls serves every slice.

    Args:
      model: the model function (probabilities for 'log_loss' and 'accuracy').
      columns: raw feature columns, each of shape (n,).
      labels: the label of each row, shape (n,) (config.label_key names the caller's source).
      groups, features: the groups permuted (see masking.feature_groups).
      config: metric (one of METRICS; default 'log_loss' for probabilities of 0/1 labels, else
        'mse') and num_repeats (default 5).
      slices: boolean row masks keyed by slice string; default the overall slice alone.
      seed: seed of the permutations.
      weights: optional example weights, shape (n,).

    Raises:
      ExplanationError: unknown metric, feature or group, mismatched shapes, labels or scores
        outside the metric's domain, non-finite scores, or a malformed slice mask.
    """
    config = config if config is not None else PermutationImportance()
    num_repeats = config.num_repeats or DEFAULT_NUM_REPEATS
    labels = np.asarray(labels)
    n = _check(columns, labels, weights, num_repeats)
    groups = feature_groups(columns, groups, features)
    masks = slice_masks(slices, n)
    scores = _scores(model, columns, n)
    metric = _chosen_metric(config.metric, labels, scores)
    copies = _permuted_copies(columns, n, groups, num_repeats, np.random.default_rng(seed))
    permuted = scores_of_copies(model, copies, len(groups) * num_repeats, n).reshape(
        len(groups), num_repeats, n
    )
    chosen = METRICS[metric]
    sign = 1.0 if chosen.higher_is_better else -1.0
    results = {}
    for name, mask in masks.items():
        w = None if weights is None else np.asarray(weights)[mask]
        value = _metric_value(chosen, labels[mask], scores[mask], w)
        drops = [
            [sign * (value - _metric_value(chosen, labels[mask], copy[mask], w)) for copy in group]
            for group in permuted
        ]
        results[name] = SliceImportance(
            metric_value=value, importances=np.array(drops).reshape(len(groups), num_repeats)
        )
    return PermutationImportances(
        metric=metric,
        group_names=tuple(name for name, _ in groups),
        num_repeats=num_repeats,
        seed=seed,
        slices=results,
    )
