"""Copy an index into Milvus without embedding anything: the vectors are read from the source.

Everything is read through the source's `IndexStore` interface (documents, chunks, vectors,
the sentences' pieces and vectors, file records, build settings) and written into a fresh data namespace of the target, which
becomes the index in one commit at the end (`replace_with`): an interrupted copy leaves the
target as it was. The keyword tokens and embedded-text hashes are recomputed from the stored
text exactly as an ingest computes them (each article's in its own language), so a later
`rag ingest` of the same files skips them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from rag.errors import IndexProblem
from rag.index.base import IndexChange, IndexStore, NewDocument
from rag.index.milvus import MilvusStore
from rag.embedding_text import embed_hash, embedding_text
from rag.language.tokens import keyword_tokens

DOCUMENTS_PER_WRITE = 200


@dataclass(frozen=True)
class MigrationReport:
    source: str
    target: str
    documents: int
    chunks: int
    files: int
    embedded: int  # always 0: nothing is embedded again
    seconds: float

    def to_json(self) -> dict:
        return self.__dict__.copy()


def migrate(source: IndexStore, target: MilvusStore, replace: bool = False,
            progress: Callable[[int], None] | None = None) -> MigrationReport:
    """Copy every document of `source` (with its chunks, vectors and file records) into `target`.

    Refuses a target that already holds an index unless `replace`. `progress(n)` is called
    after each batch with the number of documents copied in it.
    """
    started = time.perf_counter()
    info = source.info()
    if info is None or not info.documents:
        raise IndexProblem(f"the index at {source.location} is empty: nothing to migrate")
    existing = target.info()
    if existing is not None and existing.documents and not replace:
        raise IndexProblem(f"{target.location} already holds an index ({existing.documents} articles): "
                           "pass --replace to replace it, or set --collection to another prefix")
    build, dimension = info.build, info.dimension
    title_in_embedding = bool(build.get("embedding_text", {}).get("title_in_embedding", True))
    stemming = bool(build.get("keyword", {}).get("stemming", True))
    building = target.rebuild_target()
    files = source.file_records(None)
    documents = [d.doc_id for d in source.documents()]
    chunks_copied = 0
    try:
        for start in range(0, len(documents), DOCUMENTS_PER_WRITE):
            batch = documents[start:start + DOCUMENTS_PER_WRITE]
            ids = source.chunk_ids_of(batch)
            stored = source.chunks(ids)
            vectors = dict(zip(ids, source.vectors(ids)))
            pieces = source.pieces(ids, vectors=True) if hasattr(source, "pieces") else {}
            by_doc: dict[str, list[int]] = {d: [] for d in batch}
            for chunk_id in ids:
                by_doc[stored[chunk_id].chunk.doc_id].append(chunk_id)
            add = []
            for doc_id in batch:
                document = source.document(doc_id)
                mine = sorted(by_doc[doc_id], key=lambda c: stored[c].chunk.ordinal)
                chunks = tuple(stored[c].chunk for c in mine)
                add.append(NewDocument(
                    document, chunks, _stack([vectors[c] for c in mine], dimension),
                    tuple(embed_hash(embedding_text(document, c, title_in_embedding)) for c in chunks),
                    tuple(tuple(keyword_tokens(c.text, stemming, document.language)) for c in chunks),
                    **({"pieces": tuple(pieces.get(c, ()) for c in mine)} if pieces else {})))
                chunks_copied += len(chunks)
            building.apply(IndexChange(add=tuple(add), files=dict(files) if start == 0 else {}), build, dimension)
            if progress:
                progress(len(batch))
        target.replace_with(building)
    finally:
        building.close()
    return MigrationReport(source.location, target.location, len(documents), chunks_copied, len(files), 0,
                           round(time.perf_counter() - started, 2))


def _stack(rows, dimension: int):
    import numpy as np

    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, dimension), np.float32)
