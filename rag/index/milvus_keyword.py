"""BM25 for the Milvus backend: the same formula as the local index, over global statistics.

Milvus's BM25 function does the candidate search (the `sparse` field). The scores the Engine
fuses are then computed here, exactly, from what the store keeps: each chunk's tokens (the
`keywords` field), the number of chunks and their total length (the committed state), and the
document frequency of each term (the `{prefix}_terms` collection). Why not Milvus's own scores:
Milvus Lite keeps BM25 statistics per segment, deleted rows included (its source says so), so its
scores drift from the local index's as segments come and go; recomputing makes Lite, Standalone
and Distributed answer alike, and costs one small query for the query's terms.

Formula (tantivy's, as the local keyword index): k1 1.2, b 0.75, query terms counted once,
idf = ln(1 + (N - df + 0.5) / (df + 0.5)).
"""

from __future__ import annotations

import math
from collections import Counter

K1 = 1.2
B = 0.75


def idf(chunks: int, df: int) -> float:
    """BM25 inverse document frequency; a term no chunk holds (df 0) gets the highest."""
    return math.log(1.0 + (chunks - df + 0.5) / (df + 0.5))


def bm25_scores(terms: list[str], keywords: list[str], idfs: dict[str, float], avgdl: float) -> list[float]:
    """BM25 of each chunk (its tokens joined by spaces) for the unique `terms`."""
    unique = list(dict.fromkeys(terms))
    avgdl = avgdl if avgdl > 0 else 1.0
    scores = []
    for text in keywords:
        tokens = text.split()
        counts = Counter(tokens)
        norm = K1 * (1.0 - B + B * len(tokens) / avgdl)
        scores.append(sum(idfs[t] * counts[t] * (K1 + 1.0) / (counts[t] + norm) for t in unique if counts[t]))
    return scores


def df_delta(added: list[str], removed: list[str]) -> dict[str, int]:
    """How the document frequency of each term changes when these chunks (tokens joined by
    spaces) are added and removed."""
    delta: Counter = Counter()
    for text in added:
        delta.update(set(text.split()))
    for text in removed:
        delta.subtract(set(text.split()))
    return {term: n for term, n in delta.items() if n}
