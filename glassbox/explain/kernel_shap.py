"""Shapley values estimated by paired KernelSHAP, with a standard error per value.

KernelSHAP (Lundberg & Lee 2017) fits phi minimising sum_S w(S) (v(S) - v(empty) - sum_{i in S} phi_i)^2
under sum_i phi = v(all) - v(empty), where w is the Shapley kernel; the solution over all coalitions
is the Shapley values. We draw coalitions in complementary pairs (S with its complement), which
makes the fit exact for models whose interactions are at most pairwise (Covert & Lee 2021,
"Improving KernelSHAP"): the error comes from higher-order interactions only. As shap's
KernelExplainer does, coalition sizes whose pairs all fit in the budget are enumerated, smallest
(and largest) first, with their exact kernel weights; the rest are sampled by kernel weight.
Unlike shap's default we never drop features by L1 selection. The standard errors come from
refitting on BATCHES independent parts of the sampled pairs.

Hand-written rather than shap.KernelExplainer: shap's builds every masked row in Python loops,
drops features silently with its default l1_reg, cannot feed a Keras 3 dict-of-features model,
and explains one row per model call; here all rows share the coalitions, go through the masking
engine in large batched calls, and the constrained fit is one linear solve for all rows.
"""

from __future__ import annotations

import itertools
import math
from typing import Optional, Tuple

import numpy as np

from glassbox.explain.attributions import Attributions
from glassbox.explain.errors import ExplanationError
from glassbox.explain.masking import FeatureGroups, Masker, feature_groups
from glassbox.explain.model_function import Columns, ModelFunction

DEFAULT_NUM_COALITIONS = 2048
# Independent parts of the sampled pairs refitted for the standard errors.
BATCHES = 8
# Pairs kept for sampling the sizes not enumerated (at least a few per batch).
_MIN_SAMPLED_PAIRS = 4 * BATCHES


def kernel_weights_by_size(d: int) -> np.ndarray:
    """Probability of each coalition size 0..d under the Shapley kernel (0 for sizes 0 and d)."""
    sizes = np.arange(1, d)
    weights = np.zeros(d + 1)
    weights[1:d] = (d - 1) / (sizes * (d - sizes))
    return weights / weights.sum()


def paired_design(d: int, num_coalitions: int, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coalitions, their kernel weights, and their batch (-1: enumerated, else 0..BATCHES-1).

    Sizes s and d - s form one stratum of pairs; strata are enumerated from the smallest s while
    the budget allows (leaving _MIN_SAMPLED_PAIRS unless the enumeration can be completed), then
    the remaining pairs are sampled across the other strata by kernel weight.
    """
    by_size = kernel_weights_by_size(d)
    pairs_left = num_coalitions // 2
    coalitions, weights = [], []
    strata = list(range(1, d // 2 + 1))
    pairs_of = {size: math.comb(d, size) // (2 if 2 * size == d else 1) for size in strata}
    while strata:
        size = strata[0]
        pairs = pairs_of[size]
        reserve = 0 if sum(pairs_of[s] for s in strata) <= pairs_left else _MIN_SAMPLED_PAIRS
        if pairs + reserve > pairs_left:
            break
        members = np.zeros((math.comb(d, size), d), dtype=bool)
        for row, subset in enumerate(itertools.combinations(range(d), size)):
            members[row, list(subset)] = True
        if 2 * size != d:
            members = np.concatenate([members, ~members])
        coalitions.append(members)
        weights.append(by_size[members.sum(axis=1)] / math.comb(d, size))
        pairs_left -= pairs
        strata.pop(0)
    batch = [np.full(sum(len(c) for c in coalitions), -1)]
    if strata:
        mass = np.array([by_size[s] + (by_size[d - s] if 2 * s != d else 0) for s in strata])
        sizes = rng.choice(strata, size=pairs_left, p=mass / mass.sum())
        members = rng.random((pairs_left, d)).argsort(axis=1) < sizes[:, None]
        coalitions.append(np.concatenate([members, ~members]))
        weights.append(np.full(2 * pairs_left, mass.sum() / (2 * pairs_left)))
        batch.append(np.tile(np.arange(pairs_left) % BATCHES, 2))
    return np.concatenate(coalitions), np.concatenate(weights), np.concatenate(batch)


def constrained_fit(coalitions: np.ndarray, weights: np.ndarray, values: np.ndarray,
                    totals: np.ndarray) -> np.ndarray:
    """(rows, d) phi minimising sum_k weights_k (values[:, k] - coalitions_k . phi)^2 with sum(phi) = totals."""
    d = coalitions.shape[1]
    z = coalitions.astype(np.float64)
    kkt = np.zeros((d + 1, d + 1))
    kkt[:d, :d] = z.T @ (weights[:, None] * z)
    kkt[:d, d] = kkt[d, :d] = 1.0
    rhs = np.concatenate([(z.T * weights) @ values.T, totals[None, :]])
    return np.linalg.lstsq(kkt, rhs, rcond=None)[0][:d].T


def kernel_shap(model: ModelFunction, rows: Columns, background: Columns, groups: FeatureGroups = (),
                num_coalitions: int = DEFAULT_NUM_COALITIONS, seed: int = 0,
                background_weights: Optional[np.ndarray] = None) -> Attributions:
    """Paired-KernelSHAP estimates of each row's Shapley values over the feature groups, with
    standard errors; equal seeds give equal results.

    Each row's values sum to its score minus the background's mean score (a constraint of the
    fit). With a budget of all 2^d - 2 coalitions the values are exact and the errors zero.
    num_coalitions: model evaluations per row and background row (in pairs), shared by all rows.

    Raises:
      ExplanationError: num_coalitions below twice the number of groups, or bad groups/columns.
    """
    groups = feature_groups(rows, groups)
    d = len(groups)
    if num_coalitions < 2 * d:
        raise ExplanationError(f"num_coalitions {num_coalitions} is too few for {d} feature groups; "
                               f"at least {2 * d}")
    masker = Masker(model, background, groups, background_weights)
    coalitions, weights, batch = paired_design(d, min(num_coalitions, 2 ** d - 2), np.random.default_rng(seed))
    predictions = model(rows)
    gains = masker.values(rows, coalitions) - masker.base_value
    totals = predictions - masker.base_value
    values = constrained_fit(coalitions, weights, gains, totals)
    errors = np.zeros_like(values)
    if (batch >= 0).any():
        enumerated = batch < 0
        parts = [constrained_fit(coalitions[keep], np.where(enumerated, 1, BATCHES)[keep] * weights[keep],
                                 gains[:, keep], totals)
                 for keep in (enumerated | (batch == b) for b in range(BATCHES))]
        errors = np.std(parts, axis=0, ddof=1) / math.sqrt(BATCHES)
    return Attributions("kernel_shap", tuple(name for name, _ in groups), values, predictions,
                        masker.base_value, errors)
