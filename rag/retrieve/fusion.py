"""Ways to combine the dense and the keyword ranking of the same candidates into one score."""

from __future__ import annotations

import numpy as np

# Cosine similarities closer together than this are not stretched to the full [0, 1] range.
MIN_DENSE_SPREAD = 0.3


def reciprocal_rank_fusion(ranks: list[np.ndarray], k: int = 60) -> np.ndarray:
    """Sum of 1/(k + rank) over rankings; rank is 1-based, 0 where a ranking left the item out."""
    total = np.zeros(len(ranks[0]), dtype=np.float64)
    for r in ranks:
        total += np.where(r > 0, 1.0 / (k + np.maximum(r, 1)), 0.0)
    return total


def score_mix(dense: np.ndarray, keyword: np.ndarray, dense_weight: float) -> np.ndarray:
    """Convex mix of both scores, each scaled to about [0, 1] over the candidates.

    Dense cosine is min-max scaled, but over a range of at least MIN_DENSE_SPREAD: when every
    candidate is about equally (un)related, a 0.1 cosine difference is noise and must not
    outweigh an exact keyword match (e.g. "What is UNAMI?", whose one passage holding the
    acronym has a low cosine). BM25 is divided by its maximum, so a query whose words occur
    nowhere adds nothing rather than noise.
    """
    return dense_weight * min_max(dense, MIN_DENSE_SPREAD) + (1.0 - dense_weight) * max_scaled(keyword)


def min_max(values: np.ndarray, min_spread: float = 0.0) -> np.ndarray:
    """Scaled so the lowest is 0 and the highest 1, or less than 1 when the values span less
    than `min_spread`; all zeros when they are all equal."""
    if values.size == 0:
        return values.astype(np.float64)
    low, high = float(values.min()), float(values.max())
    spread = max(high - low, min_spread)
    return (values - low) / spread if spread > 0 else np.zeros_like(values, dtype=np.float64)


def max_scaled(values: np.ndarray) -> np.ndarray:
    """Divided by the largest value; all zeros when none is positive."""
    high = float(values.max(initial=0.0))
    return values / high if high > 0 else np.zeros_like(values, dtype=np.float64)


def ranks_of(scores: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of each score (descending, ties by position); 0 where `present` is False."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks if present is None else np.where(present, ranks, 0)
