"""Reading chunks back from the index's SQLite record: passages with their citations, vectors,
sentence pieces and keyword rows, in batches that keep each query under SQLite's variable limit.

`ChunkReads` is a part of `rag.index.records.Records`: it needs only the connection `_db` and
`meta()`. Nothing here writes.
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator

import numpy as np

from rag.index.base import KeywordRow, Piece, StoredChunk
from rag.index.packing import batches as _batches
from rag.index.packing import unpack_int8_rows, unpack_vector
from rag.types import Chunk, Citation, FilePosition

_CHUNK_COLUMNS = ("c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, d.title, d.source, d.path, d.language,"
                  " d.url, d.date, c.file_start, c.file_end, c.line_start, c.line_end, c.page")


class ChunkReads:
    """The read side of the chunk table (mixed into `Records`)."""

    _db: object

    def meta(self) -> dict:  # provided by Records
        raise NotImplementedError

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = [int(i) for i in chunk_ids]
        out: dict[int, StoredChunk] = {}
        for part in _batches(ids, 900):
            marks = ",".join("?" * len(part))
            for r in self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d USING (doc_id)"
                                      f" WHERE c.chunk_id IN ({marks})", part):
                position = FilePosition(*r[12:17]) if any(v is not None for v in r[12:17]) else None
                out[r[0]] = StoredChunk(r[0], Chunk(r[1], r[2], r[3], r[4], r[5]),
                                        Citation(r[1], r[6], r[7], r[8], r[3], r[4], r[10], r[11], position, r[9]))
        return out

    def rerank_data(self, chunk_ids: list[int]) -> dict[int, tuple[str, np.ndarray, tuple[Piece, ...] | None, str]]:
        """(text, vector, pieces without vectors, the article's language) of each chunk, in one
        query: what ranking the candidates of a question needs."""
        out: dict[int, tuple[str, np.ndarray, tuple[Piece, ...] | None, str]] = {}
        for part in _batches([int(i) for i in chunk_ids], 900):
            marks = ",".join("?" * len(part))
            for cid, text, blob, spans, language in self._db.execute(
                    f"SELECT c.chunk_id, c.text, c.vector, c.pieces, d.language FROM chunks c JOIN documents d"
                    f" USING (doc_id) WHERE c.chunk_id IN ({marks})", part):
                pieces = tuple(Piece(a, b, tuple(t.split())) for a, b, t in json.loads(spans)) if spans else None
                out[cid] = (text, unpack_vector(blob), pieces, language)
        return out

    def vectors(self, chunk_ids: list[int], dimension: int) -> np.ndarray:
        """The stored vectors of these chunks, in order (zeros for an unknown id)."""
        found: dict[int, bytes] = {}
        for part in _batches([int(i) for i in chunk_ids], 900):
            marks = ",".join("?" * len(part))
            found.update(self._db.execute(f"SELECT chunk_id, vector FROM chunks WHERE chunk_id IN ({marks})", part))
        out = np.zeros((len(chunk_ids), dimension), dtype=np.float32)
        for row, cid in enumerate(chunk_ids):
            blob = found.get(int(cid))
            if blob is not None:
                out[row] = unpack_vector(blob)
        return out

    def iter_vectors(self, batch: int = 20000, chunk_ids: list[int] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) in batches: every chunk, or the given ids."""
        if chunk_ids is not None:
            dimension = int(self.meta().get("dimension") or 0)
            for part in _batches(chunk_ids, batch):
                yield np.asarray(part, dtype=np.int64), self.vectors(part, dimension)
            return
        for rows in self._every_chunk("vector", batch):
            yield (np.array([r[0] for r in rows], dtype=np.int64),
                   np.vstack([unpack_vector(r[1]) for r in rows]))

    def iter_keyword_rows(self, batch: int = 5000, chunk_ids: list[int] | None = None) -> Iterator[list[KeywordRow]]:
        """What the keyword index holds of each chunk, in batches: every chunk, or the given ids."""
        select = ("SELECT c.chunk_id, c.text, d.language, d.source, d.date_key, d.doc_id FROM chunks c"
                  " JOIN documents d USING (doc_id)")
        if chunk_ids is not None:
            for part in _batches(chunk_ids, 900):
                marks = ",".join("?" * len(part))
                yield [KeywordRow(*r) for r in self._db.execute(f"{select} WHERE c.chunk_id IN ({marks})", part)]
            return
        last = -1
        while True:
            rows = self._db.execute(f"{select} WHERE c.chunk_id > ? ORDER BY c.chunk_id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [KeywordRow(*r) for r in rows]

    def _every_chunk(self, column: str, batch: int) -> Iterator[list[tuple]]:
        """(chunk id, `column`) of every chunk in chunk-id order, `batch` rows at a time (keyset
        paging: each batch starts after the last id, so no OFFSET scan). `column` is ours, never input."""
        last = -1
        while True:
            rows = self._db.execute(f"SELECT chunk_id, {column} FROM chunks WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?",
                                    (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def pieces(self, chunk_ids: Iterable[int], vectors: bool = False) -> dict[int, tuple[Piece, ...]]:
        out: dict[int, tuple[Piece, ...]] = {}
        column = "piece_vectors" if vectors else "NULL"
        for part in _batches([int(i) for i in chunk_ids], 900):
            marks = ",".join("?" * len(part))
            for cid, spans, blob in self._db.execute(
                    f"SELECT chunk_id, pieces, {column} FROM chunks WHERE chunk_id IN ({marks}) AND pieces IS NOT NULL",
                    part):
                items = json.loads(spans)
                rows = unpack_int8_rows(blob, len(items)) if blob is not None else [None] * len(items)
                out[cid] = tuple(Piece(a, b, tuple(t.split()), v) for (a, b, t), v in zip(items, rows))
        return out

    def piece_vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored piece vectors of chunks whose embedded text had these hashes."""
        out: dict[str, np.ndarray] = {}
        for part in _batches(list(dict.fromkeys(hashes)), 900):
            marks = ",".join("?" * len(part))
            for h, spans, blob in self._db.execute(
                    f"SELECT embed_hash, pieces, piece_vectors FROM chunks WHERE embed_hash IN ({marks})"
                    " AND piece_vectors IS NOT NULL", part):
                out[h] = unpack_int8_rows(blob, len(json.loads(spans)))
        return out

    def neighbours(self, chunk_ids: Iterable[int]) -> list[int]:
        """The chunks just before and after these in their documents."""
        out: list[int] = []
        for part in _batches([int(i) for i in chunk_ids], 400):
            marks = ",".join("?" * len(part))
            out += [r[0] for r in self._db.execute(
                f"SELECT n.chunk_id FROM chunks c JOIN chunks n ON n.doc_id = c.doc_id"
                f" AND n.ordinal IN (c.ordinal - 1, c.ordinal + 1) WHERE c.chunk_id IN ({marks})", part)]
        return out

    def vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for part in _batches(list(dict.fromkeys(hashes)), 900):
            marks = ",".join("?" * len(part))
            for h, blob in self._db.execute(f"SELECT embed_hash, vector FROM chunks WHERE embed_hash IN ({marks})", part):
                out[h] = unpack_vector(blob)
        return out
