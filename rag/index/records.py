"""The record of an index: documents, chunks and their vectors in one SQLite file (WAL mode).

SQLite is the one source of truth of the local backend. Every write is one transaction, so a
crash or a full disk leaves the last committed state, and readers (in this or other processes)
see a consistent snapshot while a writer works. The vector and keyword indexes are derived from
it: each remembers the generation it reflects and catches up from the `changes` log.

    meta(key, value)         format, generation, build settings, dimension, counts, next chunk id
    files(path, sha256)      the files the index was built from (their documents: documents.path)
    documents(doc_id, ...)   article text and metadata, language, date as a day number, chunk range
    chunks(chunk_id, ...)    passage text, span, file position, embedded-text hash, vector, and
                             its sentences' spans, keyword tokens and (int8) vectors
    changes(generation, chunk_id, added)   what each generation added (1) or removed (0)
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np

from rag.dates import date_key
from rag.errors import IndexDamagedError, IndexProblem
from rag.index.base import FileRecord, IndexChange, NewDocument
from rag.index.chunk_reads import ChunkReads
from rag.index.listing import LISTING_INDEX
from rag.index.packing import batches as _batches
from rag.index.packing import pack_int8_rows, pack_vector
from rag.index.sqlite import GuardedConnection
from rag.types import Document, FilePosition, Where

FORMAT = 4  # 3: one SQLite record, derived FAISS and keyword indexes; 4: tokens of every script,
# each article's language and date key, the keyword index's filter fields
STORE_NAME = "store.sqlite"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
    url TEXT NOT NULL, date TEXT NOT NULL, file_offset INTEGER, file_line INTEGER,
    page_starts TEXT NOT NULL, text TEXT NOT NULL,
    source_key TEXT NOT NULL, -- the source case-folded: what filters compare
    language TEXT NOT NULL,   -- ISO 639-1 code ("": not detected)
    date_key INTEGER,         -- the date as YYYYMMDD (rag.dates.date_key); NULL: none
    first_chunk INTEGER NOT NULL, chunk_count INTEGER NOT NULL  -- its chunks' ids (consecutive)
);
CREATE INDEX documents_by_source ON documents(source_key, date_key);
CREATE INDEX documents_by_date ON documents(date_key);
CREATE TABLE chunks (
    chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL, embed_hash TEXT NOT NULL,
    file_start INTEGER, file_end INTEGER, line_start INTEGER, line_end INTEGER, page INTEGER,
    vector BLOB NOT NULL, -- float16 (re-scoring candidates needs no more; half the disk)
    pieces TEXT,         -- JSON [[start, end, "tokens"], ...] of the chunk's sentences
    piece_vectors BLOB   -- their vectors, one row per piece: a float16 scale + int8s (NULL: none kept)
);
CREATE INDEX chunks_by_doc ON chunks(doc_id, ordinal);
CREATE INDEX chunks_by_hash ON chunks(embed_hash);
CREATE INDEX documents_by_path ON documents(path);
CREATE TABLE changes (generation INTEGER NOT NULL, chunk_id INTEGER NOT NULL, added INTEGER NOT NULL);
CREATE INDEX changes_by_generation ON changes(generation);
"""

def no_space(exc: BaseException) -> bool:
    """True when the error means the disk (or quota) is full."""
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text or getattr(exc, "errno", None) == 28


class Records(ChunkReads):
    """One SQLite file. `create=False` never makes a missing file: a lost store is damage."""

    def __init__(self, path: Path, create: bool = False) -> None:
        self.path = path
        if not path.is_file() and not create:
            raise IndexDamagedError(f"{path} is missing: the index lost its record of articles; "
                                    "rebuild it with `rag ingest --rebuild PATH...` (naming your article folders)")
        try:
            self._db = GuardedConnection(sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                                         timeout=60), path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if create and not self._has_schema():
                self._db.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
                self._set_meta({"format": FORMAT, "generation": 0, "next_chunk_id": 0,
                                "documents": 0, "chunks": 0})
            self.meta()
        except sqlite3.DatabaseError as exc:
            raise IndexDamagedError(f"{path} is damaged ({exc}): rebuild the index with "
                                    "`rag ingest --rebuild PATH...`") from exc

    def _has_schema(self) -> bool:
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is not None

    def close(self) -> None:
        self._db.close()

    # state -------------------------------------------------------------------------------------

    def meta(self) -> dict:
        """Every meta value, JSON-decoded."""
        try:
            return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}
        except sqlite3.DatabaseError as exc:
            raise IndexDamagedError(f"{self.path} is damaged ({exc}): rebuild the index with "
                                    "`rag ingest --rebuild PATH...`") from exc

    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def file_records(self, paths: Iterable[str] | None = None) -> dict[str, FileRecord]:
        """Records of these files (or of all), with the documents read from them."""
        if paths is None:
            rows = self._db.execute("SELECT path, sha256 FROM files").fetchall()
        else:
            rows = []
            for part in _batches(list(paths), 900):
                marks = ",".join("?" * len(part))
                rows += self._db.execute(f"SELECT path, sha256 FROM files WHERE path IN ({marks})", part).fetchall()
        documents: dict[str, list[str]] = {p: [] for p, _ in rows}
        for part in _batches(list(documents), 900):
            marks = ",".join("?" * len(part))
            for doc_id, path in self._db.execute(
                    f"SELECT doc_id, path FROM documents WHERE path IN ({marks}) ORDER BY rowid", part):
                documents[path].append(doc_id)
        return {p: FileRecord(h, tuple(documents[p])) for p, h in rows}

    def files_under(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return [r[0] for r in self._db.execute(
            "SELECT path FROM files WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))]

    def file_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    def integrity_problems(self, full: bool = False) -> list[str]:
        """SQLite's own check of every page: `quick_check` (pages and rows; seconds at a million
        passages), or with `full` the `integrity_check` that also compares every index with its
        table. Empty when whole."""
        fix = ("rebuild the index with `rag ingest --rebuild PATH...` (naming your article folders; "
               "`rag docs --json` may still list what it held)")
        try:
            rows = [r[0] for r in self._db.execute(f"PRAGMA {'integrity_check' if full else 'quick_check'}")]
        except IndexDamagedError as exc:
            return [str(exc)]
        return [] if rows == ["ok"] else [f"{self.path} is damaged ({'; '.join(rows[:3])}): {fix}"]

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file, so that what an ingest committed no
        longer depends on store.sqlite-wal (a lost or garbled -wal then loses nothing). Best
        effort: on a full disk the log keeps the commits, as SQLite always does."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError:
            pass

    def count_rows(self) -> tuple[int, int]:
        docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        return docs, self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    # writing -----------------------------------------------------------------------------------

    def apply(self, change: IndexChange, build: dict, dimension: int) -> tuple[int, list[int], list[int]]:
        """Commit `change` as one transaction; returns (new generation, removed chunk ids, added
        chunk ids). Raises IndexProblem (nothing changed) on a full disk."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute(LISTING_INDEX)  # indexes made before it had none
            meta = self.meta()
            generation = int(meta["generation"]) + 1
            if "build" not in meta:
                self._set_meta({"build": build, "dimension": dimension})
            removed = self.chunk_ids_of(change.remove_doc_ids)
            languages = self._languages_after(meta.get("languages") or {}, change)
            db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in change.remove_doc_ids])
            db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in change.remove_doc_ids])
            next_id = int(meta["next_chunk_id"])
            added: list[int] = []
            for new in change.add:
                ids = list(range(next_id, next_id + len(new.chunks)))
                next_id += len(new.chunks)
                self._insert_document(new, ids)
                added.extend(ids)
            for path, record in change.files.items():
                if record is None:
                    db.execute("DELETE FROM files WHERE path = ?", (path,))
                else:
                    db.execute("INSERT OR REPLACE INTO files VALUES (?,?)", (path, record.sha256))
            db.executemany("INSERT INTO changes VALUES (?,?,0)", [(generation, c) for c in removed])
            db.executemany("INSERT INTO changes VALUES (?,?,1)", [(generation, c) for c in added])
            documents, chunks = self.count_rows()
            self._set_meta({"generation": generation, "next_chunk_id": next_id, "documents": documents,
                            "chunks": chunks, "languages": languages,
                            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and no_space(exc):
                raise IndexProblem(f"no space left on the device of {self.path}; nothing was changed: "
                                   "free some space and run the ingest again") from exc
            raise
        return generation, removed, added

    def _languages_after(self, counts: dict[str, int], change: IndexChange) -> dict[str, int]:
        """How many articles of each language the index holds once `change` is applied."""
        counts = dict(counts)
        for part in _batches(list(change.remove_doc_ids), 900):
            marks = ",".join("?" * len(part))
            for language, n in self._db.execute(
                    f"SELECT language, COUNT(*) FROM documents WHERE doc_id IN ({marks}) GROUP BY language", part):
                counts[language] = counts.get(language, 0) - n
        for new in change.add:
            counts[new.document.language] = counts.get(new.document.language, 0) + 1
        return {language: n for language, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n > 0}

    def chunk_ranges(self, where: Where) -> np.ndarray:
        """(first chunk id, chunk count) of each article `where` names: an (n, 2) int64 array."""
        conditions, values = [], []
        if where.sources:
            conditions.append(f"source_key IN ({','.join('?' * len(where.sources))})")
            values += [s.casefold() for s in where.sources]
        if where.doc_ids:
            conditions.append(f"doc_id IN ({','.join('?' * len(where.doc_ids))})")
            values += list(where.doc_ids)
        low, high = where.days()
        if low is not None or high is not None:
            dated = "date_key BETWEEN ? AND ?"
            conditions.append(f"({dated} OR date_key IS NULL)" if where.undated else dated)
            values += [low or 0, high or 99991231]
        rows = self._db.execute(f"SELECT first_chunk, chunk_count FROM documents WHERE {' AND '.join(conditions) or '1'}"
                                " AND chunk_count > 0", values).fetchall()
        return np.array(rows, dtype=np.int64).reshape(-1, 2)

    def sources(self) -> list[tuple[str, int]]:
        """Each source (as first written) with its number of articles, most first."""
        rows = self._db.execute("SELECT MIN(source), COUNT(*) AS n FROM documents GROUP BY source_key"
                                " ORDER BY n DESC, source_key").fetchall()
        return [(source, int(n)) for source, n in rows]

    def next_chunk_id(self) -> int:
        """One more than the largest chunk id ever given (the size of a bitmap over chunk ids)."""
        return int(self.meta().get("next_chunk_id") or 0)

    def languages(self) -> dict[str, int]:
        """How many articles of each language the index holds, most first."""
        return dict(self.meta().get("languages") or {})

    def _insert_document(self, new: NewDocument, ids: list[int]) -> None:
        d = new.document
        self._db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (d.doc_id, d.title, d.source, d.path, d.url, d.date, d.offset, d.line,
                          json.dumps(list(d.page_starts)), d.text, d.source.casefold(), d.language,
                          date_key(d.date), ids[0] if ids else -1, len(ids)))
        vectors = np.ascontiguousarray(new.vectors, dtype=np.float32)
        pieces = new.pieces or ((),) * len(ids)
        rows = []
        for cid, c, h, v, chunk_pieces in zip(ids, new.chunks, new.embed_hashes, vectors, pieces):
            p = FilePosition.of(d, c.start, c.end)
            where = (p.start, p.end, p.line_start, p.line_end, p.page) if p else (None,) * 5
            spans = json.dumps([[x.start, x.end, " ".join(x.tokens)] for x in chunk_pieces]) if chunk_pieces else None
            piece_vectors = (pack_int8_rows(np.vstack([x.vector for x in chunk_pieces]))
                             if chunk_pieces and all(x.vector is not None for x in chunk_pieces) else None)
            rows.append((cid, d.doc_id, c.ordinal, c.start, c.end, c.text, h, *where, pack_vector(v), spans,
                         piece_vectors))
        self._db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def _set_meta(self, values: dict) -> None:
        self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             [(k, json.dumps(v)) for k, v in values.items()])

    def prune_changes(self, up_to: int) -> None:
        """Forget the change log up to generation `up_to` (every derived index has it)."""
        if up_to <= int(self.meta().get("pruned_through", 0)):
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("DELETE FROM changes WHERE generation <= ?", (up_to,))
        self._set_meta({"pruned_through": up_to})
        self._db.execute("COMMIT")

    # reading -----------------------------------------------------------------------------------

    def changes_since(self, generation: int) -> tuple[int, list[int], list[int]] | None:
        """(newest generation, chunk ids removed, chunk ids added and still present) since
        `generation`; None when the log no longer reaches back that far."""
        self._db.execute("BEGIN")  # one snapshot for the generation and its log
        try:
            meta = self.meta()
            current = int(meta["generation"])
            if generation < int(meta.get("pruned_through", 0)):
                return None
            rows = self._db.execute("SELECT chunk_id, added FROM changes WHERE generation > ? ORDER BY rowid",
                                    (generation,)).fetchall()
        finally:
            self._db.execute("COMMIT")
        removed = [c for c, a in rows if not a]
        added = [c for c, a in rows if a]
        return current, removed, added

    def changes_count_since(self, generation: int) -> int | None:
        """How many chunks were added or removed since `generation` (None: the log was pruned
        past it)."""
        meta = self.meta()
        if generation < int(meta.get("pruned_through", 0)):
            return None
        return self._db.execute("SELECT COUNT(*) FROM changes WHERE generation > ?", (generation,)).fetchone()[0]

    def chunk_ids_of(self, doc_ids: Iterable[str]) -> list[int]:
        out: list[int] = []
        for part in _batches(list(doc_ids), 900):
            marks = ",".join("?" * len(part))
            out.extend(r[0] for r in self._db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", part))
        return out

    def existing_doc_ids(self, doc_ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for part in _batches(list(doc_ids), 900):
            marks = ",".join("?" * len(part))
            out.update(r[0] for r in self._db.execute(f"SELECT doc_id FROM documents WHERE doc_id IN ({marks})", part))
        return out

    def document(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT doc_id, text, title, source, path, url, date, file_offset, file_line,"
                               " page_starts, language FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(*row[:9], page_starts=tuple(json.loads(row[9])), language=row[10]) if row else None
