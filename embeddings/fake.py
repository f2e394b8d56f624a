"""A deterministic embedder for plumbing tests: hashed bag of words, no model, no torch."""

from __future__ import annotations

import hashlib

import numpy as np

from embeddings.base import normalize_rows
from rag.text import content_tokens


class FakeEmbedder:
    """Texts sharing words get similar vectors, so retrieval tests mean something.

    `calls` and `texts_embedded` count the work done, for idempotence tests.
    """

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension
        self.calls = 0
        self.texts_embedded = 0

    @property
    def name(self) -> str:
        return f"fake-hashed-bow-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return 512

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        return self._vectors(texts)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in content_tokens(text):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dimension
                sign = 1.0 if digest[4] & 1 else -1.0
                vectors[row, bucket] += sign
        return normalize_rows(vectors)

    def embed_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of the texts and of their character spans (each span's bag of words: free, as a
        real model pools them from the text's own pass)."""
        return self.embed(texts), [self._vectors([t[a:b] for a, b in s]) for t, s in zip(texts, spans)]
