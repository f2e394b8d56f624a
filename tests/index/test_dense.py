"""The vector index: exact below the threshold, IVF with 8-bit vectors above it; ids, removal,
files named by generation, and recall of the approximate index against exact search."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from rag.index import dense as dense_module
from rag.index.dense import DenseIndex, saved_files
from tests.conftest import FAKE_SETTINGS


def clustered(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 centres, as embeddings of texts on a few topics are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, d))
    x = centres[rng.integers(0, 50, n)] + rng.normal(scale=0.6, size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_small_indexes_are_exact_and_ids_survive_removal():
    x = clustered(500)
    index = DenseIndex.build(64, 500, [(np.arange(500) * 3, x)])
    assert not index.approximate
    ids, scores = index.search(x[7], 3)
    assert ids[0] == 21 and scores[0] == pytest.approx(1.0, abs=1e-5)
    index.remove([21])
    assert 21 not in index.search(x[7], 10)[0] and len(index) == 499


def test_above_the_threshold_an_ivf_index_finds_what_exact_search_finds(monkeypatch):
    monkeypatch.setattr(dense_module, "ANN_THRESHOLD", 2000)
    x = clustered(6000)
    ids = np.arange(6000, dtype=np.int64) + 100
    index = DenseIndex.build(64, 6000, [(ids[:3000], x[:3000]), (ids[3000:], x[3000:])], sample=iter([x]))
    assert index.approximate and len(index) == 6000
    queries = clustered(100, seed=5)
    found = 0
    for q in queries:
        exact = set((ids[np.argsort(-(x @ q))[:10]]).tolist())
        found += len(exact & set(index.search(q, 10)[0]))
    assert found / 1000 >= 0.95
    index.remove([100, 101])
    assert len(index) == 5998 and 100 not in index.search(x[0], 10)[0]


def test_files_are_named_by_generation_and_the_newest_loads(tmp_path):
    x = clustered(50)
    for generation in (3, 4, 5):
        DenseIndex.build(64, 50, [(np.arange(50), x)], generation=generation).save(tmp_path)
    assert [g for g, _ in saved_files(tmp_path)] == [5, 4]  # older ones removed, the previous kept
    assert DenseIndex.load_newest(tmp_path).generation == 5
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_index_growing_past_the_threshold_becomes_approximate_and_answers_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(dense_module, "ANN_THRESHOLD", 40)
    monkeypatch.setattr("rag.index.local.RESAVE_MIN", 10)
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(60):
        (folder / f"a{n}.txt").write_text(f"Story {n}\n\n" + "\n\n".join(
            f"Paragraph {p} of story {n} about topic{n % 7} and place{p}." for p in range(4)))
    engine = Engine(FAKE_SETTINGS, tmp_path / "index", embedder=FakeEmbedder(64))
    engine.ingest([folder])
    store = engine.store()
    assert store._ready()[1].approximate and len(store._ready()[1]) == engine.stats()["chunks"] == 60
    answer = engine.ask("story 17 about topic3", k=1)
    assert answer.passages[0].citation.doc_id == "a17"
