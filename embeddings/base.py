"""The Embedder protocol: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """Identifies the model in the index manifest; a different name means a rebuild."""

    @property
    def dimension(self) -> int:
        """Length of every vector."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), dimension) float32 array of L2-normalised rows."""

    def count_tokens(self, text: str) -> int:
        """How many model tokens the text becomes (to check it fits the model's window)."""

    @property
    def max_tokens(self) -> int:
        """Tokens past this are ignored by the model."""


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """The vector of a question. Models trained with a question prefix (e5's "query: ") say so
    with an `embed_queries` method; for the others a question is embedded like any text."""
    embed_queries = getattr(embedder, "embed_queries", None)
    return (embed_queries or embedder.embed)([text])[0]


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
