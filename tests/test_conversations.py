"""rag/conversations.py: conversations kept in SQLite beside the index, with exact expectations."""

from __future__ import annotations

import sqlite3
import threading
from itertools import count

import pytest

from rag.conversations import (FILE_NAME, Conversation, ConversationsError, ConversationStore, ConversationSummary,
                               Turn, title_of, where_from_json)
from rag.types import Answer, AnswerSentence, Citation, Evidence, FilePosition, Passage, Where

MAY = Where(sources=("UN News",), since="2024-05", until="2024-05")


def answer(question: str = "why did Sadr cancel his itikaf?") -> Answer:
    cited = Citation("iraq-archive-5", "How Sadr’s foes are trying", "Middle East Eye", "/data/iraq-archive.txt",
                     120, 480, url="https://example.org/sadr", date="2024-05-03",
                     file=FilePosition(25166, 25526, 185, 191), language="en")
    other = Citation("iraq-archive-4", "Despite gains", "UN News", "/data/iraq-archive.txt", 0, 200)
    return Answer(question, False,
                  (Passage(1, "He cancelled his itikaf. The aides said so.", 1.0, cited, 0.6123, 2.5,
                           ("cancel", "itikaf")),
                   Passage(2, "The council met.", 0.25, other, 0.1875, None, ())),
                  (AnswerSentence("He cancelled his itikaf.", 1),), question, "", Evidence(0.6123, 0.75),
                  note="The articles report that this happened but not why.")


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    """A store whose clock ticks a second per write and whose ids are c1, c2, ..."""
    ticks, ids = count(0), count(1)
    return ConversationStore.in_index(tmp_path / "index", clock=lambda: f"2024-05-03T09:00:{next(ticks):02d}+00:00",
                                      new_id=lambda: f"c{next(ids)}")


def test_reading_never_creates_the_file(store):
    assert store.list() == [] and store.get("c1") is None and store.latest() is None
    assert store.delete("c1") is False
    assert not store.path.exists() and store.path.name == FILE_NAME


def test_turns_come_back_exactly_as_kept_with_their_filter(store):
    first = Turn("why did Sadr cancel his itikaf?", answer(), where=MAY)
    cid = store.add_turn(None, first)
    assert cid == "c1"
    message = Turn("And in June?", message="No articles are indexed yet.")
    assert store.add_turn(cid, message) == "c1"
    kept = store.get("c1")
    assert kept == Conversation("c1", "why did Sadr cancel his itikaf?", "2024-05-03T09:00:00+00:00",
                                "2024-05-03T09:00:01+00:00", (first, message))
    # what Answer.to_json leaves out is kept too: the cards read as they did
    assert kept.turns[0].answer.passages[0].matched_terms == ("cancel", "itikaf")
    assert kept.turns[0].answer.passages[0].dense_score == 0.6123
    assert store.list() == [ConversationSummary("c1", "why did Sadr cancel his itikaf?", "2024-05-03T09:00:00+00:00",
                                                "2024-05-03T09:00:01+00:00", 2)]


def test_the_file_is_sqlite_in_wal_mode_with_a_schema_version(store):
    store.add_turn(None, Turn("q", message="m"))
    db = sqlite3.connect(store.path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
    finally:
        db.close()


def test_the_list_is_newest_first_by_last_write_even_within_one_second(tmp_path):
    ids = count(1)
    same_second = ConversationStore.in_index(tmp_path, clock=lambda: "2024-05-03T09:00:00+00:00",
                                             new_id=lambda: f"c{next(ids)}")
    for question in ("first?", "second?", "third?"):
        same_second.add_turn(None, Turn(question, message="m"))
    assert [c.id for c in same_second.list()] == ["c3", "c2", "c1"]
    same_second.add_turn("c1", Turn("first again?", message="m"))
    assert [c.id for c in same_second.list()] == ["c1", "c3", "c2"]
    assert same_second.latest().id == "c1" and len(same_second.latest().turns) == 2


def test_delete_removes_the_conversation_and_its_turns(store):
    store.add_turn(None, Turn("one?", message="m"))
    store.add_turn(None, Turn("two?", message="m"))
    assert store.delete("c1") is True and store.delete("c1") is False
    assert [c.id for c in store.list()] == ["c2"] and store.get("c1") is None
    db = sqlite3.connect(store.path)
    try:
        assert db.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = 'c1'").fetchone() == (0,)
    finally:
        db.close()


def test_a_turn_for_a_deleted_conversation_starts_a_new_one(store):
    store.add_turn(None, Turn("one?", message="m"))
    store.delete("c1")
    assert store.add_turn("c1", Turn("two?", message="m")) == "c2"


def test_a_pending_turn_is_not_kept(store):
    with pytest.raises(ValueError, match="once it has its answer or message"):
        store.add_turn(None, Turn("still searching?"))
    assert not store.path.exists()


def test_titles_are_the_first_question_on_one_line_cut_short():
    assert title_of("  why did\nSadr   cancel it? ") == "why did Sadr cancel it?"
    assert title_of("x" * 200) == "x" * 119 + "…"


def test_filters_read_back_as_they_were_and_an_empty_one_is_none():
    assert where_from_json(MAY.to_json()) == MAY
    undated = Where(doc_ids=("a", "b"), since="2024", undated=True)
    assert where_from_json(undated.to_json()) == undated
    assert where_from_json(Where().to_json()) is None and where_from_json(None) is None


def test_an_answer_that_cannot_be_read_back_is_a_message(store):
    store.add_turn(None, Turn("q?", answer()))
    db = sqlite3.connect(store.path)
    try:
        db.execute("UPDATE turns SET answer = '{\"question\": \"q?\"}'")
        db.commit()
    finally:
        db.close()
    turn = store.get("c1").turns[0]
    assert turn.answer is None and turn.message == "This answer could not be read back (KeyError: 'abstained')."


def test_a_damaged_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not a database" * 100)
    damaged = ConversationStore(path)
    with pytest.raises(ConversationsError, match=str(path)):
        damaged.list()
    with pytest.raises(ConversationsError, match=str(path)):
        damaged.add_turn(None, Turn("q", message="m"))


def test_writes_from_many_threads_are_each_one_transaction(tmp_path):
    store = ConversationStore(tmp_path / FILE_NAME)
    cid = store.add_turn(None, Turn("start", message="m"))

    def write(n: int) -> None:
        for i in range(10):
            store.add_turn(cid, Turn(f"thread {n} question {i}", message="m"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    turns = store.get(cid).turns
    assert len(turns) == 41 and len({t.question for t in turns}) == 41
    for n in range(4):  # each thread's questions in its order
        mine = [t.question for t in turns if t.question.startswith(f"thread {n} ")]
        assert mine == [f"thread {n} question {i}" for i in range(10)]


def test_conversations_survive_a_rebuild_of_the_index(fake_engine, sample_copy):
    fake_engine.ingest([sample_copy])
    store = ConversationStore.in_index(fake_engine.index_dir)
    cid = store.add_turn(None, Turn("why did Sadr cancel his itikaf?", fake_engine.ask("Sadr itikaf")))
    before = store.get(cid)
    fake_engine.ingest([], rebuild=True)
    assert store.get(cid) == before
    assert (fake_engine.index_dir / FILE_NAME).exists()
