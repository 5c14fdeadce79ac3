"""Comparing two models' global attributions: shares of total |attribution|, the attribution shift
and the overlap of their top-k features.

A model's global attribution of a feature on a slice is its mean |attribution| there; its share
is that over the sum for all features. The attribution shift between two models is the total
variation distance between their shares, half their L1 distance: 0 when the models spread their
attribution the same way, 1 when they rely on disjoint features. Features one model lacks count
as a share of 0 there.
"""

from __future__ import annotations

from typing import Dict, List, Mapping

# Top features compared in the explanation summary (the Validator's gates choose their own k).
DEFAULT_TOP_K = 5


def shares(attributions: Mapping[str, float]) -> Dict[str, float]:
    """Each feature's |attribution| over the total |attribution|; all 0 when the total is 0."""
    total = sum(abs(value) for value in attributions.values())
    return {
        feature: abs(value) / total if total > 0 else 0.0 for feature, value in attributions.items()
    }


def attribution_shift(candidate: Mapping[str, float], baseline: Mapping[str, float]) -> float:
    """Half the L1 distance between the two models' shares, in [0, 1]."""
    a, b = shares(candidate), shares(baseline)
    return 0.5 * sum(
        abs(a.get(feature, 0.0) - b.get(feature, 0.0)) for feature in a.keys() | b.keys()
    )


def top_features(attributions: Mapping[str, float], k: int) -> List[str]:
    """The k features of largest |attribution|, largest first; ties by name (deterministic)."""
    return sorted(attributions, key=lambda feature: (-abs(attributions[feature]), feature))[:k]


def top_k_overlap(candidate: Mapping[str, float], baseline: Mapping[str, float], k: int) -> int:
    """How many of the candidate's top k features are among the baseline's top k."""
    return len(set(top_features(candidate, k)) & set(top_features(baseline, k)))


def comparison(
    candidate: Mapping[str, float], baseline: Mapping[str, float], k: int = DEFAULT_TOP_K
) -> dict:
    """The shift and top-k overlap of two models' global attributions, as the summary JSON holds them."""
    return {
        "attribution_shift": attribution_shift(candidate, baseline),
        "top_k": k,
        "top_k_overlap": top_k_overlap(candidate, baseline, k),
        "candidate_top_k": top_features(candidate, k),
        "baseline_top_k": top_features(baseline, k),
        "candidate_shares": shares(candidate),
        "baseline_shares": shares(baseline),
    }
