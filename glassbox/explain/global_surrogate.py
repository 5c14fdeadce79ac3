"""A global surrogate (distillation): a shallow decision tree fitted to a model's scores, its
rules as text, and how faithfully it reproduces the model overall and per slice.

String features are one-hot encoded (sklearn's OneHotEncoder; categories rarer than the
``max_categories`` most frequent share one column ``<feature>=infrequent_sklearn``), so a split
reads ``category == b`` / ``category != b``; numeric (float, int, bool) features are split on as
numbers.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.json_values import finite_or_none
from glassbox.explain.slices import slice_masks
from glassbox.protos.explain_config_pb2 import GlobalSurrogate

if (
    TYPE_CHECKING
):  # scikit-learn's parts are imported where used: evaluations without a surrogate skip them
    from sklearn.tree import DecisionTreeRegressor

DEFAULT_MAX_DEPTH = 4
DEFAULT_MIN_SAMPLES_LEAF = 20

# The separator of a one-hot column's name: '<feature>=<value>'.
_ONE_HOT_SEPARATOR = "="
_DECIMALS = 2
# A split reducing the squared error by less than this fraction of the scores' variance only
# fits floating-point rounding (sklearn splits any node whose impurity exceeds machine epsilon).
_MIN_RELATIVE_GAIN = 1e-9


@dataclasses.dataclass(frozen=True)
class Fidelity:
    """How well the tree reproduces the model's scores on a slice's rows.

    r2: coefficient of determination of the tree's scores against the model's.
    agreement: fraction of rows on the same side of the threshold for the tree and the model.
    """

    r2: float
    agreement: float

    def to_json(self) -> Dict[str, Optional[float]]:
        return {"r2": finite_or_none(self.r2), "agreement": finite_or_none(self.agreement)}


@dataclasses.dataclass(frozen=True)
class SurrogateTree:
    """A decision tree distilled from a model: its rules and its fidelity per slice string."""

    rules: str
    fidelity: Dict[str, Fidelity]
    threshold: float
    max_depth: int
    min_samples_leaf: int

    def to_json(self) -> dict:
        return {
            "rules": self.rules,
            "fidelity": {name: f.to_json() for name, f in self.fidelity.items()},
            "threshold": self.threshold,
            "max_depth": self.max_depth,
            "min_samples_leaf": self.min_samples_leaf,
        }


def _as_text(column: np.ndarray) -> np.ndarray:
    """str values of a bytes/str column (bytes decoded as UTF-8)."""
    return np.array(
        [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in column],
        dtype=object,
    )


def _encode(
    columns: Mapping[str, np.ndarray], features: Sequence[str], max_categories: int
) -> Tuple[np.ndarray, List[str], Dict[str, Tuple[str, str]]]:
    """The tree's input matrix, its column names, and each one-hot name's (feature, value)."""
    from sklearn.preprocessing import OneHotEncoder

    blocks, names, one_hot = [], [], {}
    for feature in features:
        column = np.asarray(columns[feature])
        if column.dtype.kind in "biuf":
            blocks.append(column.astype(np.float64).reshape(-1, 1))
            names.append(feature)
            continue
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            sparse_output=False,
            max_categories=max_categories,
            feature_name_combiner=lambda f, value: f"{f}{_ONE_HOT_SEPARATOR}{value}",
        )
        blocks.append(encoder.fit_transform(_as_text(column).reshape(-1, 1)))
        for name in encoder.get_feature_names_out([feature]):
            names.append(str(name))
            one_hot[str(name)] = (feature, str(name)[len(feature) + len(_ONE_HOT_SEPARATOR) :])
    return np.hstack(blocks), names, one_hot


def _readable_rules(
    tree: DecisionTreeRegressor, names: List[str], one_hot: Mapping[str, Tuple[str, str]]
) -> str:
    """export_text's rules, with a split on a one-hot column (always at 0.5) as == / !=."""
    from sklearn.tree import export_text

    rules = export_text(tree, feature_names=names, decimals=_DECIMALS)
    half = f"{0.5:.{_DECIMALS}f}"
    for name, (feature, value) in one_hot.items():
        rules = rules.replace(f"--- {name} <= {half}\n", f"--- {feature} != {value}\n")
        rules = rules.replace(f"--- {name} >  {half}\n", f"--- {feature} == {value}\n")
    return rules


def _check(columns: Mapping[str, np.ndarray], scores: np.ndarray, features: Sequence[str]) -> None:
    if scores.ndim != 1 or len(scores) < 2:
        raise ExplanationError(
            f"scores must be one float per row for at least 2 rows, got shape {scores.shape}"
        )
    if not np.all(np.isfinite(scores)):
        raise ExplanationError(f"scores hold {np.sum(~np.isfinite(scores))} non-finite values")
    if not features:
        raise ExplanationError("no features to fit the global surrogate on")
    for feature in features:
        if feature not in columns:
            raise ExplanationError(
                f"unknown feature {feature!r}; the columns are {sorted(columns)}"
            )
        if np.shape(columns[feature]) != scores.shape:
            raise ExplanationError(
                f"feature {feature!r} has shape {np.shape(columns[feature])}, "
                f"the scores {scores.shape}"
            )


def fit_global_surrogate(
    columns: Mapping[str, np.ndarray],
    scores: np.ndarray,
    features: Sequence[str] = (),
    slices: Optional[Mapping[str, np.ndarray]] = None,
    config: Optional[GlobalSurrogate] = None,
    threshold: float = 0.5,
    seed: int = 0,
    max_categories: int = 20,
) -> SurrogateTree:
    """Fits a decision tree to the model's scores on these rows, and measures its fidelity.

    Takes the scores the model already gave the rows (the Evaluator has them), not the model.
    Fidelity is measured on the rows the tree was fitted to: a tree of depth <= max_depth with
    at least min_samples_leaf rows per leaf has too few leaves to memorise them.

    Args:
      columns: raw feature columns, each of shape (n,).
      scores: the model's score of each row, shape (n,).
      features: the columns the tree may split on; default all.
      slices: boolean row masks keyed by slice string; default the overall slice alone.
      config: max_depth (default 4) and min_samples_leaf (default 20).
      threshold: the score from which a row counts as positive, for the agreement.
      seed: the tree's random_state (it breaks ties between equally good splits).
      max_categories: one-hot columns per string feature, the rarer values sharing the last.

    Raises:
      ExplanationError: an unknown feature, columns and scores of different lengths, non-finite
        scores, or a slice mask of the wrong shape.
    """
    from sklearn.metrics import r2_score
    from sklearn.tree import DecisionTreeRegressor

    config = config if config is not None else GlobalSurrogate()
    max_depth = config.max_depth or DEFAULT_MAX_DEPTH
    min_samples_leaf = config.min_samples_leaf or DEFAULT_MIN_SAMPLES_LEAF
    scores = np.asarray(scores, dtype=np.float64)
    features = list(features or columns)
    _check(columns, scores, features)
    masks = slice_masks(slices, len(scores))
    inputs, names, one_hot = _encode(columns, features, max_categories)
    tree = DecisionTreeRegressor(
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        random_state=seed,
        min_impurity_decrease=_MIN_RELATIVE_GAIN * scores.var(),
    )
    tree.fit(inputs, scores)
    fitted = tree.predict(inputs)
    agrees = (fitted >= threshold) == (scores >= threshold)
    fidelity = {
        name: Fidelity(
            r2=float(r2_score(scores[mask], fitted[mask])) if mask.sum() >= 2 else np.nan,
            agreement=float(agrees[mask].mean()) if mask.any() else np.nan,
        )
        for name, mask in masks.items()
    }
    return SurrogateTree(
        rules=_readable_rules(tree, names, one_hot),
        fidelity=fidelity,
        threshold=threshold,
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
    )
