"""Chunk store: documents and chunks in SQLite, looked up by chunk id."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from rag.types import Chunk, Citation, Document, DocumentInfo, FilePosition

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
    url TEXT NOT NULL, date TEXT NOT NULL, file_offset INTEGER, file_line INTEGER, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT NOT NULL, embed_hash TEXT NOT NULL,
    file_start INTEGER, file_end INTEGER, line_start INTEGER, line_end INTEGER  -- NULL: extracted text
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ordinal);
"""


def embed_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredChunk:
    """A chunk with its id and the citation that points at it."""

    chunk_id: int
    chunk: Chunk
    citation: Citation


class ChunkStore:
    """One SQLite file. Readers use it as it is; writers work on a copy (see rag.index.folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # reading ---------------------------------------------------------------------------------

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = [int(i) for i in chunk_ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, d.title, d.source,"
            f" d.path, d.url, d.date, c.file_start, c.file_end, c.line_start, c.line_end"
            f" FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({marks})", ids).fetchall()
        return {
            r[0]: StoredChunk(r[0], Chunk(r[1], r[2], r[3], r[4], r[5]),
                              Citation(r[1], r[6], r[7], r[8], r[3], r[4], r[9], r[10],
                                       FilePosition(*r[11:15]) if r[11] is not None else None))
            for r in rows
        }

    def all_chunk_texts(self) -> tuple[list[int], list[str], list[str]]:
        """(chunk ids, chunk texts, their documents' titles), in chunk-id order."""
        rows = self._db.execute(
            "SELECT c.chunk_id, c.text, d.title FROM chunks c JOIN documents d USING (doc_id)"
            " ORDER BY c.chunk_id").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def document(self, doc_id: str) -> Document | None:
        row = self._db.execute(
            "SELECT doc_id, text, title, source, path, url, date, file_offset, file_line FROM documents"
            " WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(*row) if row else None

    def document_infos(self) -> list[DocumentInfo]:
        rows = self._db.execute(
            "SELECT d.doc_id, d.title, d.source, d.path, COUNT(c.chunk_id) FROM documents d"
            " LEFT JOIN chunks c USING (doc_id) GROUP BY d.doc_id ORDER BY d.path, d.rowid").fetchall()
        return [DocumentInfo(*r) for r in rows]

    def doc_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT doc_id FROM documents")}

    def chunk_ids_of(self, doc_ids: Iterable[str]) -> list[int]:
        ids = list(doc_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [r[0] for r in self._db.execute(
            f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", ids)]

    def hashes_of(self, chunk_ids: Iterable[int]) -> dict[int, str]:
        ids = list(chunk_ids)
        marks = ",".join("?" * len(ids))
        return dict(self._db.execute(
            f"SELECT chunk_id, embed_hash FROM chunks WHERE chunk_id IN ({marks})", ids)) if ids else {}

    def counts(self) -> tuple[int, int]:
        docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return docs, chunks

    def next_chunk_id(self) -> int:
        return (self._db.execute("SELECT MAX(chunk_id) FROM chunks").fetchone()[0] or -1) + 1

    # writing ---------------------------------------------------------------------------------

    def remove_documents(self, doc_ids: Iterable[str]) -> None:
        ids = list(doc_ids)
        self._db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(i,) for i in ids])
        self._db.executemany("DELETE FROM documents WHERE doc_id = ?", [(i,) for i in ids])

    def add_document(self, document: Document, chunks: list[tuple[int, Chunk]], hashes: list[str]) -> None:
        """Insert a document with its chunks (ids given) and the hashes of their embedded texts."""
        d = document
        self._db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                         (d.doc_id, d.title, d.source, d.path, d.url, d.date, d.offset, d.line, d.text))
        rows = []
        for (cid, c), h in zip(chunks, hashes):
            position = FilePosition.of(d, c.start, c.end)
            where = (position.start, position.end, position.line_start, position.line_end) if position else (None,) * 4
            rows.append((cid, c.doc_id, c.ordinal, c.start, c.end, c.text, h, *where))
        self._db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    def commit(self) -> None:
        self._db.commit()
