"""Questions asked of some articles only (rag.types.Where): limited inside each search, so a
narrow filter still returns k passages; dates by day, month or year; undated articles in or out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from rag.index.dense import DenseIndex
from rag.types import Where
from tests.conftest import FAKE_SETTINGS

ARTICLES = {
    "un-may.md": ("UN News", "2024-05-14", "Water in Basra"),
    "un-june.md": ("UN News", "2024-06-02", "Water talks in Baghdad"),
    "mee-may.md": ("Middle East Eye", "2024-05-20", "Basra water protests"),
    "undated.md": ("UN News", "", "Water notes"),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("filters") / "articles"
    folder.mkdir()
    for name, (source, date, title) in ARTICLES.items():
        topics = ["dam", "canal", "salt", "farm", "pump", "boat", "school", "market"]
        paragraphs = "\n\n".join(
            f"Water in Basra: the {topic} report {i} for {name}. " + " ".join(f"{topic}{i}x{j}" for j in range(70))
            for i, topic in enumerate(topics))
        front = f"---\ntitle: {title}\nsource: {source}\n" + (f"date: '{date}'\n" if date else "") + "---\n"
        (folder / name).write_text(f"{front}# {title}\n\n{paragraphs}", encoding="utf-8")
    engine = Engine(FAKE_SETTINGS, folder.parent / "index", embedder=FakeEmbedder(64))
    engine.ingest([folder])
    return engine


def docs(answer) -> set[str]:
    return {p.citation.doc_id for p in answer.passages}


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_a_source_and_a_month_limit_the_search_and_k_still_come_back(engine, mode):
    answer = engine.ask("water in Basra", k=5, mode=mode, where=Where(sources=("un news",), since="2024-05", until="2024-05"))
    assert docs(answer) == {"un-may"} and len(answer.passages) == 5


@pytest.mark.parametrize("mode", ["dense", "keyword"])
def test_articles_by_id_and_undated_ones_in_or_out(engine, mode):
    assert docs(engine.ask("water", k=8, mode=mode, where=Where(doc_ids=("mee-may", "undated")))) == {"mee-may", "undated"}
    year = Where(sources=("UN News",), since="2024")
    assert docs(engine.ask("water", k=20, mode=mode, where=year)) == {"un-may", "un-june"}
    with_undated = Where(sources=("UN News",), since="2024", undated=True)
    assert docs(engine.ask("water", k=30, mode=mode, where=with_undated)) == {"un-may", "un-june", "undated"}


def test_a_filter_nothing_matches_says_so(engine):
    answer = engine.ask("water", where=Where(sources=("Nobody",)))
    assert answer.abstained and not answer.passages and answer.reason == "no article matches the filter"


@pytest.mark.parametrize("since, until", [("2024-13", ""), ("May 2024", ""), ("2024-06", "2024-05")])
def test_bad_dates_are_the_callers_error(engine, since, until):
    with pytest.raises(ValueError):
        engine.ask("water", where=Where(since=since, until=until))


def test_the_approximate_index_filters_inside_its_search():
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(60_000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex.build(16, len(vectors), [(np.arange(len(vectors)), vectors)], sample=iter([vectors[:40_000]]))
    assert index.approximate
    few = np.array([[39_990, 20]])  # 20 passages: searched exactly
    ids, _ = index.search(vectors[40_000], 3, few)
    assert ids[0] == 40_000 and set(ids) <= set(range(39_990, 40_010))
    many = np.array([[10_000, 20_000]])  # 20,000 passages: inside the approximate search
    ids, _ = index.search(vectors[25_000], 5, many)
    assert ids[0] == 25_000 and len(ids) == 5 and all(10_000 <= i < 30_000 for i in ids)
