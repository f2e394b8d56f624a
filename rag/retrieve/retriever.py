"""The retriever: a query in, ranked and de-duplicated Hits out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embeddings.base import Embedder
from rag.config import RetrievalSettings
from rag.index.folder import Snapshot
from rag.index.sparse import keyword_tokens
from rag.retrieve.diversity import select_diverse
from rag.retrieve.fusion import max_scaled, min_max, ranks_of, reciprocal_rank_fusion, score_mix
from rag.types import Hit


@dataclass(frozen=True)
class Candidates:
    """Every candidate chunk with both retrievers' evidence, aligned by position."""

    chunk_ids: np.ndarray
    dense: np.ndarray  # cosine similarity
    keyword: np.ndarray  # BM25 score, 0 where no query word occurs
    dense_rank: np.ndarray  # 1-based rank in the full dense ranking (0: not retrieved)
    keyword_rank: np.ndarray
    vectors: np.ndarray


class Retriever:
    """Dense (FAISS), keyword (BM25) or hybrid retrieval over one index snapshot."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings

    def retrieve(self, query: str, k: int, mode: str | None = None) -> list[Hit]:
        """The k best chunks for the query, best first, no two saying the same thing."""
        mode = mode or self.settings.mode
        candidates = self.candidates(query, mode)
        if not len(candidates.chunk_ids):
            return []
        relevance = self.fuse(candidates, mode)
        texts = self.snapshot.store.chunks(candidates.chunk_ids.tolist())
        token_sets = [set(keyword_tokens(texts[int(c)].chunk.text, False)) for c in candidates.chunk_ids]
        picked = select_diverse(relevance, candidates.vectors, token_sets, k,
                                self.settings.duplicate_similarity, self.settings.mmr_lambda)
        return [
            Hit(int(candidates.chunk_ids[i]), float(relevance[i]),
                float(candidates.dense[i]), float(candidates.keyword[i]),
                int(candidates.dense_rank[i]) or None, int(candidates.keyword_rank[i]) or None)
            for i in picked
        ]

    def candidates(self, query: str, mode: str) -> Candidates:
        """Top candidates of the retrievers the mode uses, scored by both retrievers."""
        depth = self.settings.candidates
        query_vector = self.embedder.embed([query])[0] if mode != "keyword" or True else None
        keyword_all = self.snapshot.keyword.scores(query)
        keyword_ids = self.snapshot.keyword.chunk_ids
        pool: dict[int, None] = {}
        dense_ids, _ = self.snapshot.dense.search(query_vector, depth) if mode != "keyword" else ([], [])
        pool.update(dict.fromkeys(dense_ids))
        if mode != "dense" and keyword_all.size:
            top = np.argsort(-keyword_all, kind="stable")[:depth]
            pool.update(dict.fromkeys(int(keyword_ids[i]) for i in top if keyword_all[i] > 0))
        if mode == "keyword" and not pool:
            return Candidates(*(np.zeros(0),) * 5, np.zeros((0, self.snapshot.dense.dimension)))
        chunk_ids = np.fromiter(pool, dtype=np.int64, count=len(pool))
        vectors = self.snapshot.dense.vectors(chunk_ids.tolist())
        dense = vectors @ query_vector
        position = {int(c): i for i, c in enumerate(keyword_ids)}
        keyword = np.array([keyword_all[position[int(c)]] for c in chunk_ids], dtype=np.float64)
        dense_rank = _global_ranks(chunk_ids, dense_ids)
        keyword_order = [int(keyword_ids[i]) for i in np.argsort(-keyword_all, kind="stable")
                         if keyword_all[i] > 0][:depth] if keyword_all.size else []
        keyword_rank = _global_ranks(chunk_ids, keyword_order)
        return Candidates(chunk_ids, dense.astype(np.float64), keyword, dense_rank, keyword_rank, vectors)

    def fuse(self, c: Candidates, mode: str) -> np.ndarray:
        """One relevance in [0, 1] per candidate."""
        if mode == "dense":
            return min_max(c.dense)
        if mode == "keyword":
            return max_scaled(c.keyword)
        if self.settings.fusion == "rrf":
            dense_ranks = ranks_of(c.dense)
            keyword_ranks = ranks_of(c.keyword, present=c.keyword > 0)
            return max_scaled(reciprocal_rank_fusion([dense_ranks, keyword_ranks], self.settings.rrf_k))
        return score_mix(c.dense, c.keyword, self.settings.dense_weight)


def _global_ranks(chunk_ids: np.ndarray, ranking: list[int]) -> np.ndarray:
    where = {cid: r for r, cid in enumerate(ranking, start=1)}
    return np.array([where.get(int(c), 0) for c in chunk_ids], dtype=np.int64)
