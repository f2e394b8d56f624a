"""Conversations kept beside the index: each question of a chat with its answer (or the message
shown instead) and the filter it was asked under, in SQLite at INDEX/conversations.sqlite.

The file is made by the first write (a server that only reads never creates it) in WAL mode, so
reading never waits for a writer; every write is one transaction. It sits beside the index's data
folders, which `rag ingest --rebuild` replaces: the conversations are left as they are.

A turn's answer is stored as `Answer.to_json()`, and next to it what that JSON leaves out or
rounds (each passage's score, similarity, key-word score and matched key words; the evidence), so
a reopened answer is the Answer that was given.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from rag.types import Answer, Evidence, Where

FILE_NAME = "conversations.sqlite"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    touched INTEGER NOT NULL          -- order of the last write: newest first, whatever the clock says
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,                      -- Answer.to_json(), or NULL when a message was shown instead
    evidence TEXT,                    -- {"passages": [[score, dense, keyword, terms]...], "evidence": [...]}
    message TEXT NOT NULL DEFAULT '',
    filter TEXT,                      -- Where.to_json(), or NULL: asked of every article
    asked TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
"""


class ConversationsError(RuntimeError):
    """The conversations file cannot be read or written; the message names it."""


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and what came of it: an Answer, a message shown instead
    (no index yet, a bad filter, an error), or nothing yet (`pending`). `where`: the filter it was
    asked under (None: every article)."""

    question: str
    answer: Answer | None = None
    message: str = ""
    where: Where | None = None
    writing: bool = False  # the user's model is still writing the answer (shown as it comes; never kept)

    @property
    def pending(self) -> bool:
        return self.answer is None and not self.message


@dataclass(frozen=True)
class ConversationSummary:
    """A row of the list of conversations. Times are ISO 8601 in UTC."""

    id: str
    title: str
    created: str
    updated: str
    turns: int


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: str
    updated: str
    turns: tuple[Turn, ...]


def title_of(question: str, limit: int = 120) -> str:
    """A conversation's title: its first question on one line, cut at `limit` characters."""
    text = " ".join(question.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def where_from_json(data: dict[str, Any] | None) -> Where | None:
    """The Where that `Where.to_json` wrote (None for none, or one that filters nothing)."""
    if not data:
        return None
    where = Where(tuple(data.get("sources") or ()), data.get("since") or "", data.get("until") or "",
                  tuple(data.get("doc_ids") or ()), data.get("undated") == "include")
    return None if where.empty else where


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class ConversationStore:
    """The conversations of one index folder (`ConversationStore.in_index(engine.index_dir)`).

    Safe from several threads and processes: each call opens its own connection. `clock` and
    `new_id` are for tests (ISO 8601 time in UTC; a fresh id)."""

    def __init__(self, path: str | Path, clock: Callable[[], str] = _now,
                 new_id: Callable[[], str] = lambda: secrets.token_hex(6)) -> None:
        self.path = Path(path)
        self.clock = clock
        self.new_id = new_id

    @classmethod
    def in_index(cls, index_dir: str | Path, **options: Any) -> "ConversationStore":
        return cls(Path(index_dir).expanduser() / FILE_NAME, **options)

    # reading -----------------------------------------------------------------------------------

    def list(self) -> list[ConversationSummary]:
        """Every conversation, the one written to last first."""
        with self._reading() as db:
            if db is None:
                return []
            rows = db.execute("SELECT c.id, c.title, c.created, c.updated, COUNT(t.position) FROM conversations c "
                              "LEFT JOIN turns t ON t.conversation_id = c.id GROUP BY c.id "
                              "ORDER BY c.touched DESC").fetchall()
        return [ConversationSummary(*row) for row in rows]

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with its turns in order; None if there is none with this id."""
        with self._reading() as db:
            if db is None:
                return None
            head = db.execute("SELECT id, title, created, updated FROM conversations WHERE id = ?",
                              (conversation_id,)).fetchone()
            if head is None:
                return None
            rows = db.execute("SELECT question, answer, evidence, message, filter FROM turns "
                              "WHERE conversation_id = ? ORDER BY position", (conversation_id,)).fetchall()
        return Conversation(*head, tuple(_turn(*row) for row in rows))

    def latest(self) -> Conversation | None:
        """The conversation written to last (None: there is none)."""
        with self._reading() as db:
            row = None if db is None else db.execute(
                "SELECT id FROM conversations ORDER BY touched DESC LIMIT 1").fetchone()
        return None if row is None else self.get(row[0])

    # writing -----------------------------------------------------------------------------------

    def add_turn(self, conversation_id: str | None, turn: Turn) -> str:
        """Append a settled turn to the conversation (None, or an id no longer stored: a new
        conversation titled by its question); returns the conversation's id. One transaction."""
        if turn.pending:
            raise ValueError("a turn is stored once it has its answer or message")
        answer, evidence = _answer_record(turn.answer)
        where = json.dumps(turn.where.to_json(), ensure_ascii=False) if turn.where and not turn.where.empty else None
        now = self.clock()
        with self._writing() as db:
            touched = db.execute("SELECT COALESCE(MAX(touched), 0) + 1 FROM conversations").fetchone()[0]
            exists = conversation_id is not None and db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if exists:
                db.execute("UPDATE conversations SET updated = ?, touched = ? WHERE id = ?",
                           (now, touched, conversation_id))
            else:
                conversation_id = self.new_id()
                db.execute("INSERT INTO conversations (id, title, created, updated, touched) VALUES (?, ?, ?, ?, ?)",
                           (conversation_id, title_of(turn.question), now, now, touched))
            position = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?",
                                  (conversation_id,)).fetchone()[0]
            db.execute("INSERT INTO turns (conversation_id, position, question, answer, evidence, message, filter, "
                       "asked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (conversation_id, position, turn.question, answer, evidence, turn.message, where, now))
        return conversation_id

    def delete(self, conversation_id: str) -> bool:
        """Delete the conversation and its turns; False if there was none with this id."""
        if not self.path.exists():
            return False
        with self._writing() as db:
            db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            return db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount > 0

    # connections -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 10000")
        return db

    def _reading(self) -> "_Session":
        return _Session(self, write=False)

    def _writing(self) -> "_Session":
        return _Session(self, write=True)


class _Session:
    """A connection for one call: None to read when the file does not exist yet; for a write,
    the file and its tables are made first, and the call's statements are one transaction."""

    def __init__(self, store: ConversationStore, write: bool) -> None:
        self.store, self.write, self.db = store, write, None

    def __enter__(self) -> sqlite3.Connection | None:
        path = self.store.path
        if not self.write and not path.exists():
            return None
        try:
            if self.write:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self.store._connect()
            if self.write:
                self.db.execute("PRAGMA journal_mode = WAL")
                if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:
                    self.db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
                self.db.execute("BEGIN IMMEDIATE")
            elif self.db.execute("PRAGMA user_version").fetchone()[0] == 0:  # made, never written
                self.db.close()
                self.db = None
            elif (version := self.db.execute("PRAGMA user_version").fetchone()[0]) > SCHEMA_VERSION:
                raise ConversationsError(f"{path} was written by a newer version of rag-news (schema {version})")
        except sqlite3.Error as exc:
            self._close()
            raise ConversationsError(f"cannot open the conversations in {path}: {exc}") from exc
        return self.db

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if self.db is not None and self.write:
                self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        except sqlite3.Error as exc:
            raise ConversationsError(f"cannot write the conversations in {self.store.path}: {exc}") from exc
        finally:
            self._close()
        if isinstance(error, sqlite3.Error):
            raise ConversationsError(f"cannot use the conversations in {self.store.path}: {error}") from error

    def _close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def _answer_record(answer: Answer | None) -> tuple[str | None, str | None]:
    """(Answer JSON, JSON of what it leaves out or rounds) as stored."""
    if answer is None:
        return None, None
    extra = {"passages": [[p.score, p.dense_score, p.keyword_score, list(p.matched_terms)] for p in answer.passages],
             "evidence": None if answer.evidence is None else [answer.evidence.dense_similarity,
                                                                answer.evidence.keyword_coverage]}
    return json.dumps(answer.to_json(), ensure_ascii=False), json.dumps(extra, ensure_ascii=False)


def _turn(question: str, answer: str | None, evidence: str | None, message: str, where: str | None) -> Turn:
    """A stored turn read back; an answer that cannot be read is a message saying so."""
    filter_ = where_from_json(json.loads(where)) if where else None
    if answer is None:
        return Turn(question, None, message or "(no answer was kept)", filter_)
    try:
        restored = Answer.from_json(json.loads(answer))
        extra = json.loads(evidence) if evidence else {}
        extra = extra if isinstance(extra, dict) else {}  # what it leaves out is lost: the JSON is enough
        scores = extra.get("passages") or []
        if len(scores) == len(restored.passages):
            restored = replace(restored, passages=tuple(
                replace(p, score=score, dense_score=dense, keyword_score=keyword, matched_terms=tuple(terms))
                for p, (score, dense, keyword, terms) in zip(restored.passages, scores)))
        if extra.get("evidence") and restored.evidence is not None:
            restored = replace(restored, evidence=Evidence(*extra["evidence"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Turn(question, None, f"This answer could not be read back ({type(exc).__name__}: {exc}).", filter_)
    return Turn(question, restored, message, filter_)

