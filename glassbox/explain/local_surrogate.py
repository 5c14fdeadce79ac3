"""A LIME-style local surrogate (Ribeiro et al. 2016): per explained row, a kernel-weighted ridge
regression of the model's scores on which feature groups keep the row's values.

Each perturbation masks a random set of groups (uniformly many, then uniformly which) to one
background row's values, drawn by background weight; its kernel weight falls with the fraction
of groups masked, as lime's default exponential kernel. The coefficients are the attributions;
the fit's weighted R^2 says how linear the model is around the row, and refitting with other
seeds says how stable the attributions are: their standard deviation over the seeds (the standard
error of one seed's coefficient) and how well the seeds agree on the groups' importance order.

Hand-written rather than the lime package: lime is unmaintained, calls the model once per
explained row, perturbs features one by one (not feature groups), and its tabular sampler draws
from training statistics rather than background rows; here all rows' and seeds' perturbations go
through the model in large batched calls.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Optional, Sequence

import numpy as np
from scipy import stats

from glassbox.explain.attributions import Attributions
from glassbox.explain.errors import ExplanationError
from glassbox.explain.masking import (
    DEFAULT_CHUNK_SIZE,
    FeatureGroups,
    Groups,
    Masker,
    feature_groups,
)
from glassbox.explain.model_function import Columns, ModelFunction, num_rows
from glassbox.protos.explain_config_pb2 import LocalSurrogate

DEFAULT_NUM_SAMPLES = 1000
DEFAULT_KERNEL_WIDTH = 0.75
DEFAULT_NUM_SEEDS = 3
# lime's ridge penalty.
RIDGE_ALPHA = 1.0


@dataclasses.dataclass(frozen=True)
class LocalSurrogateAttributions:
    """Local surrogates of the explained rows, with their fit and stability.

    Attributes:
      attributions: method 'local_surrogate'; values (rows, groups) the first seed's
        coefficients; standard_errors their standard deviation over the seeds (NaN with one
        seed); base_value the background's mean score.
      intercepts: (rows,) the first seed's intercepts.
      local_r2: (rows,) weighted R^2 of the first seed's fit on its perturbations.
      rank_correlation: (rows,) mean weighted rank correlation of the coefficients' magnitudes
        between pairs of seeds, in [-1, 1] (NaN with one seed); see _rank_correlation.
    """

    attributions: Attributions
    intercepts: np.ndarray
    local_r2: np.ndarray
    rank_correlation: np.ndarray
    num_samples: int
    kernel_width: float
    num_seeds: int
    seed: int

    def to_json(self) -> dict:
        return {
            "method": self.attributions.method,
            "num_samples": self.num_samples,
            "kernel_width": self.kernel_width,
            "num_seeds": self.num_seeds,
            "seed": self.seed,
            "mean_local_r2": float(self.local_r2.mean()),
            "mean_rank_correlation": _nanmean_or_none(self.rank_correlation),
            "mean_coefficient_std": _nanmean_or_none(self.attributions.standard_errors),
        }


def _nanmean_or_none(values: np.ndarray) -> Optional[float]:
    return float(np.nanmean(values)) if np.isfinite(values).any() else None


def _coalitions(rng: np.random.Generator, n: int, num_samples: int, d: int) -> np.ndarray:
    """(rows, samples, d) booleans (True: the group keeps the row's values); sample 0 is the row.

    The others mask k groups, k uniform in 1..d, which ones uniform: those a random permutation
    ranks below k.
    """
    masked_count = rng.integers(1, d + 1, size=(n, num_samples - 1, 1))
    ranks = rng.permuted(
        np.broadcast_to(np.arange(d, dtype=np.int16), (n, num_samples - 1, d)), axis=-1
    )
    return np.concatenate([np.ones((n, 1, d), dtype=bool), ranks >= masked_count], axis=1)


def _perturbed(
    rows: Columns,
    background: Columns,
    groups: Groups,
    row_index: np.ndarray,
    coalitions: np.ndarray,
    background_index: np.ndarray,
) -> Columns:
    """The rows row_index with each group outside its coalition at background row background_index."""
    grouped = {member for _, members in groups for member in members}
    result = {
        name: np.asarray(values)[row_index] for name, values in rows.items() if name not in grouped
    }
    for group, (_, members) in enumerate(groups):
        for member in members:
            result[member] = np.where(
                coalitions[:, group],
                np.asarray(rows[member])[row_index],
                np.asarray(background[member])[background_index],
            )
    return result


def _scores(
    model: ModelFunction,
    rows: Columns,
    background: Columns,
    groups: Groups,
    coalitions: np.ndarray,
    background_index: np.ndarray,
    chunk_size: int,
) -> np.ndarray:
    """The model's scores of the perturbations, (seeds, rows, samples), in calls of chunk_size rows.

    Raises:
      ExplanationError: a non-finite score.
    """
    num_seeds, n, num_samples, d = coalitions.shape
    flat_coalitions = coalitions.reshape(-1, d)
    flat_background = background_index.ravel()
    flat_rows = np.tile(np.repeat(np.arange(n), num_samples), num_seeds)
    scores = np.concatenate(
        [
            np.asarray(
                model(
                    _perturbed(
                        rows,
                        background,
                        groups,
                        flat_rows[start : start + chunk_size],
                        flat_coalitions[start : start + chunk_size],
                        flat_background[start : start + chunk_size],
                    )
                ),
                dtype=np.float64,
            )
            for start in range(0, len(flat_rows), chunk_size)
        ]
    )
    if not np.isfinite(scores).all():
        raise ExplanationError("the model returned non-finite scores for perturbed rows")
    return scores.reshape(num_seeds, n, num_samples)


def _rank_correlation(coefficients: np.ndarray) -> np.ndarray:
    """(rows,) mean weighted rank correlation over pairs of seeds of (seeds, rows, d) coefficients.

    The ranks are of the coefficients' magnitudes (the groups' importance order), compared by
    scipy's weighted Kendall tau: a swap among the most important groups weighs most, one among
    groups the model ignores (whose coefficients are noise around 0) little.
    """
    magnitudes = np.abs(coefficients)
    pairs = list(itertools.combinations(range(len(coefficients)), 2))
    if not pairs:
        return np.full(coefficients.shape[1], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.array(
            [
                np.mean(
                    [
                        stats.weightedtau(magnitudes[a, row], magnitudes[b, row]).statistic
                        for a, b in pairs
                    ]
                )
                for row in range(coefficients.shape[1])
            ]
        )


def local_surrogate(
    model: ModelFunction,
    rows: Columns,
    background: Columns,
    groups: FeatureGroups = (),
    config: Optional[LocalSurrogate] = None,
    seed: int = 0,
    background_weights: Optional[np.ndarray] = None,
    features: Sequence[str] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> LocalSurrogateAttributions:
    """Local surrogate coefficients of each row over the feature groups; equal seeds give equal results.

    Args:
      model: the model function.
      rows: the explained rows' columns, each of shape (n,); columns in no group keep the rows' values.
      background: the background rows' columns (at least the grouped ones).
      groups, features: the groups attributed (see masking.feature_groups).
      config: num_samples (default 1000, including the row itself), kernel_width (default
        0.75), num_seeds (default 3: the first seed's fit is reported, all measure stability).
      seed: the first seed; the others derive from it.
      background_weights: how likely each background row is drawn; default uniform.
      chunk_size: perturbed rows per model call.

    Raises:
      ExplanationError: bad groups or columns, an empty background, bad weights, or a config
        field out of range (named).
    """
    config = config if config is not None else LocalSurrogate()
    num_samples = config.num_samples or DEFAULT_NUM_SAMPLES
    kernel_width = config.kernel_width or DEFAULT_KERNEL_WIDTH
    num_seeds = config.num_seeds or DEFAULT_NUM_SEEDS
    if num_samples < 2 or kernel_width <= 0:
        raise ExplanationError(
            f"LocalSurrogate.num_samples must be at least 2 and kernel_width positive; got "
            f"{num_samples} and {kernel_width}"
        )
    groups = feature_groups(rows, groups, features)
    masker = Masker(
        model, background, groups, background_weights
    )  # checks the background and weights
    n = num_rows(rows)
    rngs = [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(num_seeds)]
    coalitions = np.stack([_coalitions(rng, n, num_samples, len(groups)) for rng in rngs])
    background_index = np.stack(
        [rng.choice(len(masker.weights), size=(n, num_samples), p=masker.weights) for rng in rngs]
    )
    from sklearn import linear_model  # only for LIME (glassbox.deferred_imports)

    scores = _scores(model, rows, background, groups, coalitions, background_index, chunk_size)
    coefficients = np.empty(coalitions.shape[:2] + (len(groups),))
    intercepts, local_r2 = np.empty(n), np.empty(n)
    for k, i in itertools.product(range(num_seeds), range(n)):
        design = coalitions[k, i].astype(np.float64)
        # lime's default kernel sqrt(exp(-distance^2 / width^2)), distance^2 the fraction masked.
        kernel = np.exp(-(1 - design.mean(axis=1)) / (2 * kernel_width**2))
        fit = linear_model.Ridge(alpha=RIDGE_ALPHA).fit(design, scores[k, i], sample_weight=kernel)
        coefficients[k, i] = fit.coef_
        if k == 0:
            intercepts[i] = fit.intercept_
            local_r2[i] = fit.score(design, scores[k, i], sample_weight=kernel)
    errors = (
        coefficients.std(axis=0, ddof=1)
        if num_seeds > 1
        else np.full(coefficients.shape[1:], np.nan)
    )
    attributions = Attributions(
        "local_surrogate",
        tuple(name for name, _ in groups),
        coefficients[0],
        scores[0, :, 0],
        masker.base_value,
        errors,
    )
    return LocalSurrogateAttributions(
        attributions,
        intercepts,
        local_r2,
        _rank_correlation(coefficients),
        num_samples,
        kernel_width,
        num_seeds,
        seed,
    )
