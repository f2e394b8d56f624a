"""Rows of the Milvus backend's collections: built from the Engine's records, read back into them."""

from __future__ import annotations

import base64
import hashlib
import json

import numpy as np

from rag.dates import date_key
from rag.errors import IndexMismatchError, IndexProblem
from rag.index.base import NewDocument, StoredChunk
from rag.index.milvus_schema import PLACEHOLDER, TEXT_PART, VARCHAR_MAX, encode_token
from rag.types import Chunk, Citation, Document, DocumentInfo, FilePosition


def chunk_rows(new: NewDocument, first_id: int, generation: int, dimension: int) -> list[dict]:
    """The chunks rows of a new document: chunk ids from `first_id`, invisible until
    `generation` commits; each carries its article's filter keys (milvus_schema.where_filter)."""
    doc = new.document
    source_key, day = doc.source.casefold(), date_key(doc.date) or 0
    vectors = np.asarray(new.vectors, dtype=np.float32)
    if vectors.shape != (len(new.chunks), dimension):
        raise IndexMismatchError(f"{doc.doc_id}: {vectors.shape} vectors for {len(new.chunks)} chunks of "
                                 f"dimension {dimension}: run `rag ingest --rebuild PATH...`")
    rows = []
    pieces = getattr(new, "pieces", ()) or ((),) * len(new.chunks)
    for i, (chunk, tokens) in enumerate(zip(new.chunks, new.keyword_tokens)):
        if len(chunk.text.encode("utf-8")) > VARCHAR_MAX:
            raise IndexProblem(f"{doc.doc_id}: passage {chunk.ordinal} is longer than Milvus's 64 KB text "
                               "field; lower chunking.hard_max_words")
        position = FilePosition.of(doc, chunk.start, chunk.end)
        rows.append({
            "chunk_id": first_id + i, "gen": generation, "doc_id": doc.doc_id, "ordinal": chunk.ordinal,
            "char_start": chunk.start, "char_end": chunk.end, "text": chunk.text, "embed_hash": new.embed_hashes[i],
            "title": doc.title, "source": doc.source, "path": doc.path, "url": doc.url, "date": doc.date,
            "language": doc.language, "source_key": source_key, "date_key": day,
            "file_start": _int(position and position.start), "file_end": _int(position and position.end),
            "line_start": _int(position and position.line_start), "line_end": _int(position and position.line_end),
            "page": _int(position and position.page),
            "keywords": " ".join(encode_token(t) for t in tokens), "vector": vectors[i].tolist(),
            **pieces_fields(pieces[i]),
        })
    return rows


def pieces_fields(pieces) -> dict:
    """A chunk's sentences (spans and tokens, JSON) and their vectors (float16, base64), as the
    local record keeps them; empty strings when there are none or they do not fit a field."""
    spans = json.dumps([[p.start, p.end, " ".join(p.tokens)] for p in pieces]) if pieces else ""
    vectors = ""
    if pieces and all(p.vector is not None for p in pieces):
        vectors = base64.b64encode(np.vstack([p.vector for p in pieces]).astype(np.float16).tobytes()).decode()
    if len(spans.encode("utf-8")) > VARCHAR_MAX:
        spans, vectors = "", ""
    return {"pieces": spans, "piece_vectors": vectors if len(vectors) <= VARCHAR_MAX else ""}


def read_pieces(row: dict, vectors: bool) -> tuple:
    """The Pieces of a chunk row (see pieces_fields)."""
    from rag.index.base import Piece

    items = json.loads(row["pieces"])
    rows = [None] * len(items)
    if vectors and row.get("piece_vectors"):
        rows = np.frombuffer(base64.b64decode(row["piece_vectors"]), dtype=np.float16).reshape(len(items), -1)
        rows = list(rows.astype(np.float32))
    return tuple(Piece(a, b, tuple(t.split()), v) for (a, b, t), v in zip(items, rows))


def document_rows(new: NewDocument, generation: int) -> list[dict]:
    """The documents rows of a new document: its text in parts, its metadata (JSON) on part 0."""
    doc = new.document
    parts = [doc.text[i:i + TEXT_PART] for i in range(0, len(doc.text), TEXT_PART)] or [""]
    meta = json.dumps({"title": doc.title, "source": doc.source, "path": doc.path, "url": doc.url,
                       "date": doc.date, "offset": doc.offset, "line": doc.line,
                       "page_starts": list(doc.page_starts), "chunks": len(new.chunks), "language": doc.language})
    if len(meta.encode("utf-8")) > VARCHAR_MAX:
        raise IndexProblem(f"{doc.doc_id}: its metadata exceeds Milvus's 64 KB text field")
    return [{"key": f"{generation}:{i}:{doc.doc_id}", "gen": generation, "doc_id": doc.doc_id, "part": i,
             "parts": len(parts), "text": part, "meta": meta if i == 0 else "", "placeholder": PLACEHOLDER}
            for i, part in enumerate(parts)]


def read_document(doc_id: str, rows: list[dict]) -> Document:
    """An article from its documents rows (all parts, in order)."""
    m = json.loads(rows[0]["meta"])
    return Document(doc_id, "".join(r["text"] for r in rows), m["title"], m["source"], m["path"], m["url"],
                    m["date"], m["offset"], m["line"], tuple(m["page_starts"]), language=m.get("language", ""))


def document_info(row: dict) -> DocumentInfo:
    """The list row of an article from its first documents row."""
    m = json.loads(row["meta"])
    return DocumentInfo(row["doc_id"], m["title"], m["source"], m["path"], m["chunks"], m.get("language", ""),
                        m["date"])


def language_and_source(row: dict) -> tuple[str, str]:
    """(language, source) of an article from its first documents row (language "": not recorded)."""
    m = json.loads(row["meta"])
    return m.get("language", ""), m["source"]


def _int(value: int | None) -> int:
    return -1 if value is None else int(value)


def stored_chunk(row: dict) -> StoredChunk:
    start, end = int(row["char_start"]), int(row["char_end"])
    fields = [None if row[f] < 0 else int(row[f]) for f in ("file_start", "file_end", "line_start", "line_end", "page")]
    file = FilePosition(*fields) if any(v is not None for v in fields) else None
    chunk = Chunk(row["doc_id"], int(row["ordinal"]), start, end, row["text"])
    citation = Citation(row["doc_id"], row["title"], row["source"], row["path"], start, end, row["url"],
                        row["date"], file, row.get("language", ""))
    return StoredChunk(int(row["chunk_id"]), chunk, citation)


def file_row(path: str, record, generation: int) -> dict:
    """A file record at `generation`; an empty sha256 marks the file forgotten."""
    key = hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()
    return {"key": f"{generation}:{key}", "gen": generation, "path": path,
            "sha256": record.sha256 if record else "",
            "documents": json.dumps(list(record.documents) if record else []), "placeholder": PLACEHOLDER}


def latest_files(rows: list[dict]) -> dict[str, dict]:
    """Per path, the row of the highest generation (forgotten files left out)."""
    latest: dict[str, dict] = {}
    for row in rows:
        if row["path"] not in latest or row["gen"] > latest[row["path"]]["gen"]:
            latest[row["path"]] = row
    return {path: row for path, row in latest.items() if row["sha256"]}
