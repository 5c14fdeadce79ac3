"""Shapley values estimated by paired KernelSHAP, with a standard error per value.

KernelSHAP (Lundberg & Lee 2017) fits phi minimising sum_S w(S) (v(S) - v(empty) - sum_{i in S} phi_i)^2
under sum_i phi_i = v(all) - v(empty), where w is the Shapley kernel; the solution over all
coalitions is the Shapley values. We draw coalitions in complementary pairs (S with its
complement), which makes the fit exact for games whose interactions are at most pairwise (Covert &
Lee 2021, "Improving KernelSHAP"): the error comes from higher-order interactions only. As shap's
KernelExplainer does, the smallest (and largest) coalition sizes are enumerated with their exact
kernel weights while the budget would sample them fully anyway; the rest are sampled by kernel weight.
Unlike shap's default we never drop features by L1 selection.

The interventional Shapley values are the (weighted) mean over background rows b of the Shapley
values of the single-baseline game v_b(S) = f(row on S, b elsewhere); each background row gets its
own sampled coalitions, so their sampling errors average out over the background instead of adding
up as with coalitions shared by all background rows (half the error at equal cost in our
benchmark). The standard errors come from refitting on BATCHES independent parts of the sampled
pairs.

Hand-written rather than shap.KernelExplainer: shap's drops features silently with its default
l1_reg, cannot feed a Keras 3 dict-of-features model, builds masked rows row by row and explains
one row per model call; here rows go through the masking engine in large batched calls, and the
fits of all rows share one precomputed inverse per background row.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np

from glassbox.explain.attributions import Attributions
from glassbox.explain.errors import ExplanationError
from glassbox.explain.masking import DEFAULT_CHUNK_SIZE, FeatureGroups, Masker, feature_groups
from glassbox.explain.model_function import Columns, ModelFunction, num_rows

DEFAULT_NUM_COALITIONS = 2048
# Independent parts of the sampled pairs refitted for the standard errors.
BATCHES = 8
# Pairs kept for sampling the sizes not enumerated (at least a few per batch).
_MIN_SAMPLED_PAIRS = 4 * BATCHES
# Model evaluations held in memory at once (rows x background x coalitions values).
_BLOCK_EVALUATIONS = 4 * DEFAULT_CHUNK_SIZE


class Design(NamedTuple):
    """Coalitions of a paired KernelSHAP fit, for each of several background rows.

    enumerated: (e, d) coalitions of the enumerated sizes, shared; enumerated_weights (e,) their
    kernel weights. sampled: (designs, BATCHES, m, d) sampled coalitions of each design (each
    batch: m/2 coalitions, then their complements); sampled_weight: the kernel weight of each.
    """

    enumerated: np.ndarray
    enumerated_weights: np.ndarray
    sampled: np.ndarray
    sampled_weight: float

    def coalitions(self) -> np.ndarray:
        """(designs, e + BATCHES * m, d): every coalition of each design, enumerated ones first."""
        designs, _, _, d = self.sampled.shape
        enumerated = np.broadcast_to(self.enumerated, (designs,) + self.enumerated.shape)
        return np.concatenate([enumerated, self.sampled.reshape(designs, -1, d)], axis=1)


def kernel_weights_by_size(d: int) -> np.ndarray:
    """Probability of each coalition size 0..d under the Shapley kernel (0 for sizes 0 and d)."""
    sizes = np.arange(1, d)
    weights = np.zeros(d + 1)
    weights[1:d] = (d - 1) / (sizes * (d - sizes))
    return weights / weights.sum() if d > 1 else weights


def paired_design(
    d: int, num_coalitions: int, rng: np.random.Generator, num_designs: int = 1
) -> Design:
    """num_designs designs of at most num_coalitions coalitions each.

    Sizes s and d - s form one stratum of pairs. Strata are enumerated from the smallest s while
    sampling would draw at least as many pairs from them as they hold (shap's rule; enumerating
    larger strata costs budget that sampling spends better) and _MIN_SAMPLED_PAIRS remain, or
    all of them when they fit, the same in every design; then each design samples its remaining
    pairs (a multiple of BATCHES) independently across the other strata by kernel weight.
    """
    by_size = kernel_weights_by_size(d)
    pairs_left = num_coalitions // 2
    enumerated, weights = [np.zeros((0, d), dtype=bool)], [np.zeros(0)]
    strata = list(range(1, d // 2 + 1))
    pairs_of = {size: math.comb(d, size) // (2 if 2 * size == d else 1) for size in strata}
    mass_of = {s: by_size[s] + (by_size[d - s] if 2 * s != d else 0) for s in strata}
    while strata:
        size = strata[0]
        if sum(pairs_of[s] for s in strata) > pairs_left:
            share = pairs_left * mass_of[size] / sum(mass_of[s] for s in strata)
            if share < pairs_of[size] or pairs_of[size] + _MIN_SAMPLED_PAIRS > pairs_left:
                break
        members = np.zeros((math.comb(d, size), d), dtype=bool)
        for row, subset in enumerate(itertools.combinations(range(d), size)):
            members[row, list(subset)] = True
        if 2 * size != d:
            members = np.concatenate([members, ~members])
        enumerated.append(members)
        weights.append(by_size[members.sum(axis=1)] / math.comb(d, size))
        pairs_left -= pairs_of[size]
        strata.pop(0)
    per_batch = pairs_left // BATCHES if strata else 0
    sampled = np.zeros((num_designs, BATCHES, 2 * per_batch, d), dtype=bool)
    sampled_weight = 0.0
    if per_batch:
        mass = np.array([by_size[s] + (by_size[d - s] if 2 * s != d else 0) for s in strata])
        sizes = rng.choice(strata, size=(num_designs, BATCHES, per_batch), p=mass / mass.sum())
        members = (
            rng.random((num_designs, BATCHES, per_batch, d)).argsort(axis=3) < sizes[..., None]
        )
        sampled = np.concatenate([members, ~members], axis=2)
        sampled_weight = mass.sum() / (2 * per_batch * BATCHES)
    return Design(np.concatenate(enumerated), np.concatenate(weights), sampled, sampled_weight)


class _Fits:
    """The constrained least-squares fits of a design: phi minimising
    sum_k w_k (gain_k - coalition_k . phi)^2 subject to sum(phi) = total, for every row and design
    at once, and refitted on each batch of sampled pairs (with the enumerated coalitions).

    The normal equations depend on the coalitions only, so their (KKT) inverses are computed once
    for all rows.
    """

    def __init__(self, design: Design):
        self._design = design
        z = design.sampled.astype(np.float64)
        self._weighted_sampled = design.sampled_weight * z.swapaxes(
            -1, -2
        )  # (designs, BATCHES, d, m)
        self._weighted_enumerated = (
            design.enumerated * design.enumerated_weights[:, None]
        ).T  # (d, e)
        enumerated_gram = self._weighted_enumerated @ design.enumerated
        batch_grams = self._weighted_sampled @ z  # (designs, BATCHES, d, d)
        # Enumerated sizes include the singletons and their complements, which determine every fit.
        invert = np.linalg.inv if len(design.enumerated) else _pseudo_inverse
        self._inverse = invert(_kkt(enumerated_gram + batch_grams.sum(axis=1)))
        self._batch_inverse = invert(_kkt(enumerated_gram + BATCHES * batch_grams))

    @property
    def has_batches(self) -> bool:
        return self._design.sampled.shape[2] > 0

    def solve(
        self, gains: np.ndarray, totals: np.ndarray, weights: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Shapley values (rows, d) and their standard errors from gains (rows, designs, k) of
        Design.coalitions() and totals (rows, designs), averaged over designs with weights."""
        n, designs, _ = gains.shape
        e = len(self._design.enumerated)
        m = self._design.sampled.shape[2]
        enumerated_rhs = gains[:, :, :e] @ self._weighted_enumerated.T  # (rows, designs, d)
        sampled_gains = gains[:, :, e:].reshape(n, designs, BATCHES, m).transpose(1, 2, 3, 0)
        batch_rhs = (self._weighted_sampled @ sampled_gains).transpose(
            3, 0, 1, 2
        )  # (rows, designs, BATCHES, d)
        values = np.einsum(
            "rbd,b->rd",
            _solve(self._inverse, enumerated_rhs + batch_rhs.sum(axis=2), totals),
            weights,
        )
        if not self.has_batches:
            return values, np.zeros_like(values)
        parts = _solve(
            self._batch_inverse,
            enumerated_rhs[:, :, None] + BATCHES * batch_rhs,
            totals[:, :, None],
        )
        parts = np.einsum("rbgd,b->grd", parts, weights)
        return values, np.std(parts, axis=0, ddof=1) / math.sqrt(BATCHES)


def _kkt(gram: np.ndarray) -> np.ndarray:
    """The systems [[gram, 1], [1', 0]] (..., d+1, d+1) of the fits with sum(phi) fixed."""
    d = gram.shape[-1]
    kkt = np.zeros(gram.shape[:-2] + (d + 1, d + 1))
    kkt[..., :d, :d] = gram
    kkt[..., :d, d] = kkt[..., d, :d] = 1.0
    return kkt


def _pseudo_inverse(kkt: np.ndarray) -> np.ndarray:
    """For designs with no enumerated size, whose fits may be under-determined."""
    return np.linalg.pinv(kkt, hermitian=True)


def _solve(inverse: np.ndarray, rhs: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """phi (rows, ..., d) from KKT inverses (..., d+1, d+1), right-hand sides (rows, ..., d) and totals (rows, ...)."""
    right = np.concatenate(
        [rhs, np.broadcast_to(totals[..., None], rhs.shape[:-1] + (1,))], axis=-1
    )
    return np.einsum("...ij,r...j->r...i", inverse, right)[..., :-1]


def kernel_shap(
    model: ModelFunction,
    rows: Columns,
    background: Columns,
    groups: FeatureGroups = (),
    num_coalitions: int = DEFAULT_NUM_COALITIONS,
    seed: int = 0,
    background_weights: Optional[np.ndarray] = None,
    features: Sequence[str] = (),
) -> Attributions:
    """Paired-KernelSHAP estimates of each row's Shapley values over the feature groups, with
    standard errors; equal seeds give equal results.

    Each row's values sum to its score minus the background's mean score (a constraint of every
    fit); with columns in no group (held at the row's values), minus the mean score of the
    background with the row's held values. With a budget of all 2^d - 2 coalitions the values
    are exact and the errors zero.
    num_coalitions: coalitions per row and background row (model evaluations per row: that
      times the background size).
    groups, features: the groups attributed (see masking.feature_groups).

    Raises:
      ExplanationError: num_coalitions below 2 * max(groups, BATCHES), or bad groups/columns.
    """
    groups = feature_groups(rows, groups, features)
    d = len(groups)
    least = 2 * max(d, BATCHES)
    if num_coalitions < least:
        raise ExplanationError(
            f"num_coalitions {num_coalitions} is too few for {d} feature groups; at least {least}"
        )
    masker = Masker(model, background, groups, background_weights)
    design = paired_design(
        d,
        min(num_coalitions, 2**d - 2),
        np.random.default_rng(seed),
        num_designs=len(masker.weights),
    )
    fits = _Fits(design)
    coalitions = design.coalitions()
    games = masker.baseline_games(coalitions)
    predictions = masker.scores(rows)
    values, errors = np.empty((len(predictions), d)), np.empty((len(predictions), d))
    bases = np.empty(len(predictions))
    block = max(1, _BLOCK_EVALUATIONS // max(1, coalitions[..., 0].size))
    block_gains = np.empty(
        (min(block, len(predictions)),) + coalitions.shape[:2]
    )  # reused: see baseline_games
    for start in range(0, num_rows(rows), block):
        chosen = slice(start, start + block)
        block_rows = {name: column[chosen] for name, column in rows.items()}
        empty = masker.empty_values(block_rows)
        gains = games(block_rows, block_gains[: len(empty)])
        gains -= empty[:, :, None]
        totals = predictions[chosen, None] - empty
        bases[chosen] = empty @ masker.weights
        values[chosen], errors[chosen] = fits.solve(gains, totals, masker.weights)
    return Attributions(
        "kernel_shap",
        tuple(name for name, _ in groups),
        values,
        predictions,
        float(bases.mean()),
        errors,
    )
