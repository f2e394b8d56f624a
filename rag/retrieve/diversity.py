"""Keep answers from repeating themselves: drop near-duplicates, prefer passages that add something."""

from __future__ import annotations

import numpy as np


def select_diverse(relevance: np.ndarray, vectors: np.ndarray, token_sets: list[set[str]], k: int,
                   duplicate_similarity: float, mmr_lambda: float) -> list[int]:
    """Indices of up to k candidates, chosen by maximal marginal relevance.

    `relevance` is in [0, 1]. A candidate is skipped outright as a duplicate when its vector
    cosine, or the share of its words found in an already chosen one (or the reverse), reaches
    `duplicate_similarity`, which catches overlapping chunks and repeated paragraphs.
    """
    chosen: list[int] = []
    remaining = list(np.argsort(-relevance, kind="stable"))
    while remaining and len(chosen) < k:
        best, best_value = None, -np.inf
        for i in remaining:
            redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            value = mmr_lambda * relevance[i] - (1.0 - mmr_lambda) * max(redundancy, 0.0)
            if value > best_value:
                best, best_value = i, value
        remaining.remove(best)
        if any(_is_duplicate(best, j, vectors, token_sets, duplicate_similarity) for j in chosen):
            continue
        chosen.append(int(best))
    return chosen


def _is_duplicate(a: int, b: int, vectors: np.ndarray, token_sets: list[set[str]], threshold: float) -> bool:
    if float(vectors[a] @ vectors[b]) >= threshold:
        return True
    smaller = min(len(token_sets[a]), len(token_sets[b]))
    contained = len(token_sets[a] & token_sets[b]) / smaller if smaller else 1.0
    return contained >= threshold
