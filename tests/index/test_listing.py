"""The list of articles matched and paged by the local store (rag.index.listing): the same rows,
order and counts as `documents()` filtered with `DocumentInfo.matches` (fake embedder)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from rag.index.base import IndexStore, page_of_documents
from rag.index.listing import like_pattern
from rag.types import DocumentInfo
from tests.conftest import FAKE_SETTINGS

# (id, title, source): ASCII, LIKE's wildcards and escape, quotes, and letters only Python's
# casefold folds (ß, É, the Kelvin sign, the ﬁ ligature, Greek capitals and final sigma).
ARTICLES = [
    ("plain-1", "Oil prices rise", "Reuters"),
    ("straße", "Die Straße nach Berlin", "Spiegel"),
    ("ecole", "ÉCOLE fermée à Paris", "Le Monde"),
    ("percent", "100% of the vote", "AP"),
    ("under", "snake_case names", "AP"),
    ("slash", "back\\slash and 50\\% off", "Wire"),
    ("quotes", "He said \"no\" and 'yes'", "O'Brien Daily"),
    ("kelvin", "Cooling to 3 \u212a", "Science"),
    ("ligature", "The ﬁnal ﬁsh", "Notes"),
    ("greek", "ΟΔΥΣΣΕΥΣ returns", "Ελληνικά"),
    ("arabic", "الصدر يلغي اعتكافه", "Raseef22"),
    ("curly", "How Sadr’s foes “won”", "Middle East Eye"),
    ("Mixed-ID-9", "untitled", ""),
]
TRICKY = ["", "   ", "oil", "OIL", "  Oil  ", "%", "_", "\\", "\\%", "50\\%", "100%", "e_n", "snake_case",
          "\"", "'", "o'brien", "\"no\"", "strasse", "STRASSE", "straße", "ß", "é", "É", "école", "ÉCOLE", "k", "K",
          "\u212a", "fi", "ﬁ", "final", "οδυσσευσ", "ΟΔΥΣΣΕΥΣ", "ελληνικά", "الصدر", "’", "sadr’s", "“won”",
          "mixed-id", "jsonl", "no such thing", "x\x00y", "\ud800", "a" * 300]


def write_articles(folder: Path, name: str, articles) -> Path:
    """A JSON Lines file of (id, title, source) articles."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "source": s, "text": f"{t}. An article about {i}."})
                              for i, t, s in articles) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def listed(tmp_path) -> Engine:
    """An engine whose index holds ARTICLES in two files, the later-named file ingested first
    (so neither insertion nor id order is the list's order), plus a file of ten more."""
    engine = Engine(FAKE_SETTINGS, tmp_path / "index", embedder=FakeEmbedder(64))
    engine.ingest([write_articles(tmp_path / "a", "z-second.jsonl", ARTICLES[7:])])
    engine.ingest([write_articles(tmp_path / "a", "m-first.jsonl", ARTICLES[:7]),
                   write_articles(tmp_path / "a", "b-more.jsonl", [(f"more-{n}", f"More {9 - n}", "Wire")
                                                                     for n in range(10)])])
    return engine


def in_python(infos: list[DocumentInfo], match: str) -> list[DocumentInfo]:
    return [i for i in infos if i.matches(match)]


@pytest.mark.parametrize("match", TRICKY)
def test_matching_in_sql_is_documentinfo_matches(listed, match):
    store = listed.store()
    every = store.documents()
    found, total = store.find_documents(match)
    assert found == in_python(every, match) and total == len(found)
    assert (found, total) == IndexStore.find_documents(store, match)  # the interface's default


def test_matches_that_only_case_folding_finds_are_found(listed):
    store = listed.store()

    def ids(match: str) -> list[str]:
        return [i.doc_id for i in store.find_documents(match)[0]]
    assert ids("STRASSE") == ids("strasse") == ["straße"]
    assert ids("école") == ["ecole"] and ids("3 \u212a") == ids("3 k") == ["kelvin"]
    assert ids("ﬁnal") == ids("FINAL") == ["ligature"] and ids("οδυσσευσ") == ["greek"]
    assert ids("100%") == ["percent"] and ids("%") == ["percent", "slash"]
    assert ids("e_n") == []  # "_" is no wildcard: "case names" holds "e n", not "e_n"
    assert ids("50\\%") == ["slash"] and ids("o'brien") == ["quotes"] and ids("sadr’s") == ["curly"]
    assert len(ids("")) == len(ids("  ")) == len(ARTICLES) + 10 and ids("x\x00y") == ids("\ud800") == []


def test_the_order_is_that_of_documents_by_file_then_as_added(listed, tmp_path):
    store = listed.store()
    every = store.documents()
    assert [Path(i.path).name for i in every] == ["b-more.jsonl"] * 10 + ["m-first.jsonl"] * 7 + ["z-second.jsonl"] * 6
    # within a file as added, not by title or id
    assert [i.doc_id for i in every] == ([f"more-{n}" for n in range(10)] + [a[0] for a in ARTICLES[:7]]
                                         + [a[0] for a in ARTICLES[7:]])
    assert store.find_documents()[0] == every
    assert store.find_documents("e")[0] == in_python(every, "e")


def test_pages_cut_the_matching_list_and_count_all_of_it(listed):
    store = listed.store()
    for match in ("", "a", "more", "%", "É"):
        everything = in_python(store.documents(), match)
        for limit in (0, 1, 3, 7, 100, None):
            for offset in (0, 1, 5, len(everything), len(everything) + 4):
                end = None if limit is None else offset + limit
                assert store.find_documents(match, limit, offset) == (everything[offset:end], len(everything))
                assert IndexStore.find_documents(store, match, limit, offset) == (everything[offset:end],
                                                                                   len(everything))
        pages = [store.find_documents(match, 4, start)[0] for start in range(0, len(everything), 4)]
        assert [i for page in pages for i in page] == everything


def test_random_substrings_in_any_case_match_as_in_python(listed):
    store = listed.store()
    every = store.documents()
    fields = [f for i in every for f in (i.title, i.source, i.path, i.doc_id) if f]
    rng = random.Random(7)
    for _ in range(150):
        text = rng.choice(fields)
        start = rng.randrange(len(text))
        piece = text[start:start + rng.randint(1, 6)]
        match = rng.choice([piece, piece.upper(), piece.lower(), piece.casefold(), piece.swapcase()])
        assert store.find_documents(match, 5, 1) == page_of_documents(every, match, 5, 1), repr(match)


def test_one_article_by_id(listed):
    store = listed.store()
    by_id = {i.doc_id: i for i in store.documents()}
    assert store.document_info("straße") == by_id["straße"] and by_id["straße"].chunks >= 1
    assert store.document_info("Mixed-ID-9") == by_id["Mixed-ID-9"]
    assert store.document_info("mixed-id-9") is None and store.document_info("") is None
    assert listed.document_info("kelvin") == by_id["kelvin"] and listed.document_info("gone") is None


def test_an_index_made_before_the_listing_index_lists_the_same_and_gets_it_on_the_next_write(listed, tmp_path):
    store = listed.store()
    before = {m: store.find_documents(m, 5, 2) for m in ("", "a", "STRASSE", "%")}
    path = store.records.path
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX documents_listing")
    assert {m: store.find_documents(m, 5, 2) for m in before} == before
    listed.ingest([write_articles(tmp_path / "b", "late.jsonl", [("late", "Late news", "Wire")])])
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'documents_listing'").fetchone()
    assert listed.find_documents("late news") == ([listed.document_info("late")], 1)


def test_the_engine_pages_what_the_store_finds_and_follows_writes(listed, tmp_path):
    assert listed.documents("more", 2, 3) == listed.find_documents("more", 2, 3)[0]
    assert [i.doc_id for i in listed.documents("more", 2, 3)] == ["more-3", "more-4"]
    assert listed.find_documents("more", 0) == ([], 10)
    assert listed.documents("MORE") == listed.documents()[:10]
    assert listed.document_totals() == (len(ARTICLES) + 10, sum(i.chunks for i in listed.documents()))
    listed.remove(["more-3"])
    assert listed.find_documents("more", 2, 3)[1] == 9 and listed.document_info("more-3") is None
    with pytest.raises(ValueError):
        listed.find_documents("", -1)
    with pytest.raises(ValueError):
        listed.documents("", None, -2)


def test_a_rebuild_switches_the_list_to_the_new_record(listed, tmp_path):
    assert listed.find_documents("more")[1] == 10
    listed.ingest([write_articles(tmp_path / "c", "only.jsonl", [("only", "The only one", "Wire")])], rebuild=True)
    assert listed.find_documents() == (listed.store().documents(), 1)
    assert listed.find_documents("more") == ([], 0)


def test_no_index_lists_nothing(tmp_path):
    engine = Engine(FAKE_SETTINGS, tmp_path / "none", embedder=FakeEmbedder(64))
    assert engine.find_documents("x", 5) == ([], 0) and engine.documents() == []
    assert engine.document_info("x") is None and engine.document_totals() == (0, 0)
    assert not (tmp_path / "none").exists()


def test_like_patterns_take_the_text_literally():
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
