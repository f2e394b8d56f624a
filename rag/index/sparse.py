"""Keyword search with bm25s over tokens that survive dropped apostrophes, quotes and case."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.text import content_tokens


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def keyword_tokens(text: str, stemming: bool = True) -> list[str]:
    """Content words, apostrophes dropped ("Sadr's" = "Sadrs"), stemmed when asked."""
    tokens = content_tokens(text)
    return _stemmer().stemWords(tokens) if stemming and tokens else tokens


class KeywordIndex:
    """BM25 over chunk texts; scores come back for every chunk, aligned with `chunk_ids`."""

    def __init__(self, retriever, chunk_ids: list[int], stemming: bool) -> None:
        self._retriever = retriever
        self.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        self.stemming = stemming

    @classmethod
    def build(cls, chunk_ids: list[int], texts: list[str], stemming: bool) -> "KeywordIndex":
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            retriever.index([keyword_tokens(t, stemming) for t in texts], show_progress=False)
        return cls(retriever, chunk_ids, stemming)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        meta = json.loads((folder / "chunks.json").read_text())
        retriever = bm25s.BM25.load(str(folder), show_progress=False) if meta["chunk_ids"] else bm25s.BM25()
        return cls(retriever, meta["chunk_ids"], meta["stemming"])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if len(self.chunk_ids):
            self._retriever.save(str(folder), show_progress=False)
        (folder / "chunks.json").write_text(
            json.dumps({"chunk_ids": self.chunk_ids.tolist(), "stemming": self.stemming}))

    def query_terms(self, query: str) -> list[str]:
        return keyword_tokens(query, self.stemming)

    def idf(self, terms: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each term; a term no chunk contains gets the highest."""
        n = len(self.chunk_ids)
        vocab = getattr(self._retriever, "vocab_dict", None) or {}
        indptr = self._retriever.scores["indptr"] if n else None
        out = {}
        for term in terms:
            column = vocab.get(term)
            df = int(indptr[column + 1] - indptr[column]) if column is not None else 0
            out[term] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with `chunk_ids`) for the query."""
        terms = self.query_terms(query)
        if not terms or not len(self.chunk_ids):
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)
