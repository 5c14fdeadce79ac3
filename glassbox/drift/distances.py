"""Distances between two distributions summarised by sketches (``sketches``' summaries).

A numeric summary is K equal-mass points (the quantiles at (i + 0.5) / K), a categorical one the
counts of its top values and of the rest ("other"). PSI, Jensen-Shannon and L-infinity compare
histograms: for a numeric feature, the bins between the reference's quantiles at 1/num_bins,
2/num_bins, ...; for a categorical one, every value either side holds, and "other". Wasserstein-1
and Kolmogorov-Smirnov compare the numeric summaries' points themselves.
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

# The proportion a bin empty on one side is raised to before PSI's logarithm (as Evidently and
# most PSI implementations do), so that PSI stays finite.
PSI_FLOOR = 1e-4
NUMERIC = "numeric"
CATEGORICAL = "categorical"
# The distances, by the names configs and files use.
PSI = "psi"
JENSEN_SHANNON = "jensen_shannon"
L_INFINITY = "l_infinity"
WASSERSTEIN = "wasserstein"
KOLMOGOROV_SMIRNOV = "kolmogorov_smirnov"
HISTOGRAM_DISTANCES = (PSI, JENSEN_SHANNON, L_INFINITY)
NUMERIC_DISTANCES = (WASSERSTEIN, KOLMOGOROV_SMIRNOV)


def psi(p: np.ndarray, q: np.ndarray) -> float:
    """Population stability index sum((p - q) ln(p / q)) of two histograms' proportions, each
    floored at PSI_FLOOR."""
    p, q = np.maximum(p, PSI_FLOOR), np.maximum(q, PSI_FLOOR)
    return float(np.sum((p - q) * np.log(p / q)))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0 to 1), as TFDV's drift comparator computes it."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        present = a > 0
        return float(np.sum(a[present] * np.log2(a[present] / m[present])))

    return (kl(p) + kl(q)) / 2


def l_infinity(p: np.ndarray, q: np.ndarray) -> float:
    """The largest difference of one bin's (value's) proportion: TFDV's drift measure for
    categorical features."""
    return float(np.max(np.abs(p - q)))


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 (earth mover's) distance between two samples: the integral of |F_a - F_b|."""
    a, b = np.sort(a), np.sort(b)
    grid = np.sort(np.concatenate([a, b]))
    gaps = np.diff(grid)
    cdf_a = np.searchsorted(a, grid[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, grid[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * gaps))


def kolmogorov_smirnov(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic, the largest |F_a - F_b|."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def numeric_histograms(
    points: np.ndarray, reference: np.ndarray, num_bins: int
) -> Tuple[np.ndarray, np.ndarray]:
    """The proportions of both summaries' points in the bins (e_{i-1}, e_i] whose edges are the
    reference's quantiles at 1/num_bins, ..., (num_bins - 1)/num_bins (repeated edges merged)."""
    edges = np.unique(np.quantile(reference, np.arange(1, num_bins) / num_bins, method="lower"))

    def proportions(x: np.ndarray) -> np.ndarray:
        return (
            np.bincount(np.searchsorted(edges, x, side="left"), minlength=edges.size + 1) / x.size
        )

    return proportions(points), proportions(reference)


def categorical_histograms(summary: Dict, reference: Dict) -> Tuple[np.ndarray, np.ndarray]:
    """The proportions of every value either summary counts, and of "other" (the rest)."""
    values = sorted(set(summary["values"]) | set(reference["values"]))

    def proportions(s: Dict) -> np.ndarray:
        counts = [s["values"].get(v, 0) for v in values] + [s["other"]]
        return np.asarray(counts, dtype=np.float64) / max(s["count"], 1)

    return proportions(summary), proportions(reference)


def distances(summary: Dict, reference: Dict, num_bins: int) -> Dict[str, float]:
    """Every distance of summary from reference (summaries of one kind, neither empty): PSI,
    Jensen-Shannon and L-infinity, and for numeric ones Wasserstein-1 and Kolmogorov-Smirnov."""
    if summary["kind"] == NUMERIC:
        points, ref_points = np.asarray(summary["points"]), np.asarray(reference["points"])
        p, q = numeric_histograms(points, ref_points, num_bins)
        numeric = {
            WASSERSTEIN: wasserstein(points, ref_points),
            KOLMOGOROV_SMIRNOV: kolmogorov_smirnov(points, ref_points),
        }
    else:
        p, q = categorical_histograms(summary, reference)
        numeric = {}
    return {
        PSI: psi(p, q),
        JENSEN_SHANNON: jensen_shannon(p, q),
        L_INFINITY: l_infinity(p, q),
        **numeric,
    }
