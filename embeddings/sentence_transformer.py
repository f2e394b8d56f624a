"""sentence-transformers backend: a local model folder, loaded with the network switched off."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from embeddings.base import normalize_rows
from embeddings.folder import ModelNotFoundError, bundled_model_path, resolve_model_path

__all__ = ["SentenceTransformerEmbedder", "ModelNotFoundError", "bundled_model_path"]


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model folder; the model loads on first use."""

    def __init__(self, model_path: str | Path = "", batch_size: int = 32) -> None:
        self.path, self._name = resolve_model_path(model_path)
        self.batch_size = batch_size
        self._model = None
        self._loading = threading.Lock()  # a UI warms up in one thread while another may ask

    @property
    def name(self) -> str:
        return self._name

    @property
    def model(self):
        """The loaded model (loaded once, on first use, whichever thread gets here first)."""
        if self._model is None:
            with self._loading:
                if self._model is None:
                    os.environ["HF_HUB_OFFLINE"] = "1"
                    os.environ["TRANSFORMERS_OFFLINE"] = "1"
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return normalize_rows(vectors)
