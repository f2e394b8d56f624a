"""The retriever: a query in, ranked and de-duplicated Hits out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embeddings.base import Embedder
from rag.config import RetrievalSettings
from rag.index.base import IndexStore
from rag.language import QueryTerms, keyword_tokens, query_terms
from rag.retrieve.diversity import select_diverse
from rag.retrieve.fusion import max_scaled, min_max, ranks_of, reciprocal_rank_fusion, score_mix
from rag.answer_type import answer_type_score, expected_answer_type
from rag.retrieve.rerank import piece_coverage, sentence_coverage
from rag.types import Hit, Where

MODES = ("dense", "keyword", "hybrid")


@dataclass(frozen=True)
class Candidates:
    """Every candidate chunk with both retrievers' evidence, aligned by position."""

    chunk_ids: np.ndarray
    dense: np.ndarray  # cosine similarity
    keyword: np.ndarray  # BM25 score, 0 where no query word occurs
    dense_rank: np.ndarray  # 1-based rank among the dense candidates (0: not among them)
    keyword_rank: np.ndarray
    vectors: np.ndarray
    texts: list[str]
    pieces: list  # the stored sentences of each candidate (None: not stored)
    languages: list[str]  # each candidate's article's language


class Retriever:
    """Dense, keyword (BM25) or hybrid retrieval over one index store."""

    def __init__(self, store: IndexStore, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def retrieve(self, query: str, k: int, mode: str | None = None, query_vector: np.ndarray | None = None,
                 terms: QueryTerms | None = None, where: Where | None = None,
                 model_languages: frozenset[str] | None = None) -> list[Hit]:
        """The k best chunks for the query, best first, no two saying the same thing.

        `query_vector` is the query's embedding and `terms` its key words (rag.language.query)
        when the caller already has them (else: English ones). `where` limits the search to
        some articles, inside each retriever (so k are found when k exist). `model_languages`:
        the languages the embedding model knows (None: all); where the question's or a
        passage's language is not one of them, hybrid ranks that passage by key words alone
        (the similarity is noise there; it only keeps near-duplicates apart).
        """
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise ValueError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
        if query_vector is None:
            query_vector = self.embedder.embed([query])[0]
        terms = terms or query_terms(query, "en", ("en",), self.settings.stemming)
        candidates = self.candidates(query_vector, terms, mode, where)
        if not len(candidates.chunk_ids):
            return []
        relevance = self.fuse(candidates, mode, dense_weights(self.settings.dense_weight, terms.language,
                                                              candidates.languages, model_languages))
        if mode == "hybrid":
            relevance = max_scaled(relevance + self.rerank_bonus(query, terms, candidates.texts, candidates.pieces))
        token_sets = _LazyTokenSets(candidates.texts)  # only the few compared for duplicates are tokenised
        picked = select_diverse(relevance, candidates.vectors, token_sets, k,
                                self.settings.duplicate_similarity, self.settings.mmr_lambda)
        return [
            Hit(int(candidates.chunk_ids[i]), float(relevance[i]),
                float(candidates.dense[i]), float(candidates.keyword[i]),
                int(candidates.dense_rank[i]) or None, int(candidates.keyword_rank[i]) or None)
            for i in picked
        ]

    def candidates(self, query_vector: np.ndarray, query: QueryTerms, mode: str, where: Where | None = None
                   ) -> Candidates:
        """The top `candidates` of each retriever the mode uses, each scored by both retrievers
        (dense scores are computed in every mode: they also drive diversity)."""
        depth = self.settings.candidates
        terms = query.flat
        where = where if where is not None and not where.empty else None
        dense_order = self.store.search_dense(query_vector, depth, where)[0] if mode != "keyword" else []
        keyword_order, keyword_found = self.store.search_keyword(terms, depth, where) if mode != "dense" else ([], [])
        chunk_ids = np.array(list(dict.fromkeys([*dense_order, *keyword_order])), dtype=np.int64)
        texts, vectors, pieces, languages = self._candidate_data(chunk_ids.tolist())
        found = dict(zip(keyword_order, keyword_found))
        unscored = [int(c) for c in chunk_ids if int(c) not in found]
        found.update(zip(unscored, self.store.keyword_scores(terms, unscored)))
        keyword = np.array([found[int(c)] for c in chunk_ids], dtype=np.float64)
        return Candidates(chunk_ids, (vectors @ query_vector).astype(np.float64), keyword,
                          _ranks_in(chunk_ids, dense_order), _ranks_in(chunk_ids, keyword_order), vectors,
                          texts, pieces, languages)

    def _candidate_data(self, ids: list[int]) -> tuple[list[str], np.ndarray, list, list[str]]:
        """Texts, stored vectors, stored sentences (None where not stored) and languages of the
        candidates: one query where the store offers it."""
        if hasattr(self.store, "rerank_data"):
            data = self.store.rerank_data(ids)
            missing = ("", np.zeros(self.embedder.dimension, np.float32), None, "")
            rows = [data.get(c, missing) for c in ids]
            vectors = np.vstack([r[1] for r in rows]) if rows else np.zeros((0, self.embedder.dimension), np.float32)
            return [r[0] for r in rows], vectors, [r[2] for r in rows], [r[3] for r in rows]
        stored = self.store.chunks(ids)
        pieces = self.store.pieces(ids) if hasattr(self.store, "pieces") else {}
        return ([stored[c].chunk.text if c in stored else "" for c in ids], self.store.vectors(ids),
                [pieces.get(c) for c in ids], [stored[c].citation.language if c in stored else "" for c in ids])

    def fuse(self, c: Candidates, mode: str, weights: np.ndarray | None = None) -> np.ndarray:
        """One relevance in [0, 1] per candidate from the retrievers' scores; `weights`: the
        similarity's share in each candidate's mix (None: `dense_weight` for all)."""
        if mode == "dense":
            return min_max(c.dense)
        if mode == "keyword":
            return max_scaled(c.keyword)
        if self.settings.fusion == "rrf":
            ranks = [ranks_of(c.dense), ranks_of(c.keyword, present=c.keyword > 0)]
            return max_scaled(reciprocal_rank_fusion(ranks, self.settings.rrf_k))
        return score_mix(c.dense, c.keyword, self.settings.dense_weight if weights is None else weights)

    def rerank_bonus(self, query: str, terms: QueryTerms, texts: list[str], pieces: list | None = None) -> np.ndarray:
        """Sentence coverage and answer-type evidence, weighted as configured (see rerank.py).
        `pieces[i]`: the stored sentences of text i (None: found from the text)."""
        wanted = expected_answer_type(query)
        pieces = pieces or [None] * len(texts)
        coverage = np.array([piece_coverage(terms.groups, [p.tokens for p in stored]) if stored
                             else sentence_coverage(terms.groups, t, terms.tokenize) for t, stored in zip(texts, pieces)])
        typed = np.array([answer_type_score(t, wanted, query) for t in texts])
        return self.settings.sentence_coverage_weight * coverage + self.settings.answer_type_weight * typed


def dense_weights(dense_weight: float, question_language: str, languages: list[str],
                  model_languages: frozenset[str] | None) -> np.ndarray | None:
    """The similarity's share in each candidate's relevance. Where the model does not know the
    question's or the passage's language the similarity is noise: none (key words alone). A
    passage in another language than the question's cannot share its key words: all (meaning
    alone). Else `dense_weight`. None when every candidate gets `dense_weight` (one language,
    known to the model), so an index in one language is ranked as it always was."""
    known = [model_languages is None or (question_language in model_languages and language in model_languages)
             for language in languages]
    other = [language != question_language and bool(language) for language in languages]
    if all(known) and not any(other):
        return None
    return np.array([0.0 if not k else 1.0 if o else dense_weight for k, o in zip(known, other)])


def _ranks_in(chunk_ids: np.ndarray, ranking: list[int]) -> np.ndarray:
    where = {cid: r for r, cid in enumerate(ranking, start=1)}
    return np.array([where.get(int(c), 0) for c in chunk_ids], dtype=np.int64)


class _LazyTokenSets:
    """Word sets of texts, made on first use: the duplicate check compares only a few."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._sets: dict[int, set[str]] = {}

    def __getitem__(self, i: int) -> set[str]:
        if i not in self._sets:
            self._sets[i] = set(keyword_tokens(self._texts[i], False))
        return self._sets[i]
