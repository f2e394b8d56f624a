"""Dense vectors in a FAISS inner-product index (cosine similarity on unit vectors)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class DenseIndex:
    """Exact inner-product search over chunk vectors, addressed by chunk id."""

    def __init__(self, index: "faiss.IndexIDMap2") -> None:
        self._index = index

    @classmethod
    def empty(cls, dimension: int) -> "DenseIndex":
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @property
    def dimension(self) -> int:
        return self._index.d

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, chunk_ids: list[int], vectors: np.ndarray) -> None:
        if chunk_ids:
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(chunk_ids, dtype=np.int64))

    def remove(self, chunk_ids: list[int]) -> None:
        if chunk_ids:
            self._index.remove_ids(np.asarray(chunk_ids, dtype=np.int64))

    def vectors(self, chunk_ids: list[int]) -> np.ndarray:
        """The stored vectors of these chunks, in order."""
        if not chunk_ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._index.reconstruct(int(i)) for i in chunk_ids])

    def search(self, query: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        """The k most similar chunk ids and their cosine similarities, best first."""
        k = min(k, len(self))
        if k == 0:
            return [], []
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return [int(i) for i in ids[0][keep]], [float(s) for s in scores[0][keep]]
