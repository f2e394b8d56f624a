"""How the record stores vectors: float16 passage vectors, int8 sentence vectors with a scale."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def batches(items: list, size: int) -> Iterator[list]:
    """`items` in consecutive lists of at most `size` (SQLite takes at most 999 parameters)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def pack_vector(vector: np.ndarray) -> bytes:
    """A unit vector as float16 (cosines change by < 0.001)."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def pack_int8_rows(rows: np.ndarray) -> bytes:
    """Rows as a float16 scale each, then int8s (a quarter of float32: sentence vectors are
    only compared with the question to pick answer sentences)."""
    rows = np.asarray(rows, dtype=np.float32)
    scale = np.maximum(np.abs(rows).max(axis=1), 1e-12) / 127.0
    return scale.astype(np.float16).tobytes() + np.round(rows / scale[:, None]).astype(np.int8).tobytes()


def unpack_int8_rows(blob: bytes, count: int) -> np.ndarray:
    scale = np.frombuffer(blob[:2 * count], dtype=np.float16).astype(np.float32)
    values = np.frombuffer(blob[2 * count:], dtype=np.int8).reshape(count, -1).astype(np.float32)
    return values * scale[:, None]
