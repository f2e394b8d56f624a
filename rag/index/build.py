"""Ingest: files → documents → chunks → vectors → a new index generation.

Unchanged files (same SHA-256) are skipped without reading; a changed file replaces its old
documents, and chunks whose embedded text is unchanged keep their old vectors.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from embeddings.base import Embedder
from rag.config import Settings
from rag.index.folder import GenerationWriter, write_lock
from rag.index.manifest import (FileRecord, IndexProblem, Manifest, check_compatible, read_manifest,
                                read_raw_manifest)
from rag.index.store import embed_hash
from rag.ingest.chunker import chunk_document
from rag.ingest.readers import ReadError, find_files, read_documents
from rag.types import Chunk, Document, FileFailure, IngestReport

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BATCH = 64


def build_settings(settings: Settings, model_name: str) -> dict:
    """What shapes the stored data; the manifest keeps it and loading compares it."""
    return {
        "model": model_name,
        "chunking": settings.chunking.model_dump(),
        "embedding_text": {"title_in_embedding": settings.retrieval.title_in_embedding},
        "keyword": {"stemming": settings.retrieval.stemming},
    }


def embedding_text(document: Document, chunk: Chunk, title_in_embedding: bool) -> str:
    """What the model sees for a chunk: the article title gives a passage its context."""
    if title_in_embedding and document.title and document.title != document.doc_id:
        return f"{document.title}\n{chunk.text}"
    return chunk.text


@dataclass(frozen=True)
class _Applied:
    doc_ids_by_file: dict[str, list[str]]
    documents_added: int
    documents_removed: int
    chunks_added: int
    chunks_embedded: int


@dataclass
class _Plan:
    """What one ingest will change."""

    new_documents: dict[str, list[Document]] = field(default_factory=dict)  # path -> documents
    file_hashes: dict[str, str] = field(default_factory=dict)
    removed_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    unsupported: list[FileFailure] = field(default_factory=list)  # found under a folder, not read
    warnings: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.new_documents or self.removed_files)


def update_index(root: Path, paths: list[str | Path], settings: Settings, embedder: Embedder,
                 progress: Progress | None = None, rebuild: bool = False) -> IngestReport:
    """Bring the index at `root` up to date with the files under `paths`.

    With `rebuild`, every file is read and embedded again (with no paths: the files the index
    already holds). A file that fails to read keeps whatever the index had from it.
    """
    started = time.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    with write_lock(root):
        expected = build_settings(settings, embedder.name)
        if rebuild:
            base, generation, paths = None, *_rebuild_sources(root, paths)
        else:
            base = read_manifest(root)
            if base:
                check_compatible(base, expected, root)
            generation = base.generation + 1 if base else 1
        plan = _plan(paths, base, progress)
        if not plan.changes:
            return _report(plan, base, started)
        writer = GenerationWriter(root, base, generation, embedder.dimension)
        try:
            applied = _apply(writer, plan, base, settings, embedder, progress)
            files = dict(base.files) if base else {}
            for path in plan.removed_files:
                files.pop(path, None)
            for path, doc_ids in applied.doc_ids_by_file.items():
                files[path] = FileRecord(sha256=plan.file_hashes[path], documents=doc_ids)
            progress("saving", 0, 1)
            _commit(writer, expected, embedder, files)
            progress("saving", 1, 1)
        except BaseException:
            writer.abort()
            raise
    return _report(plan, base, started, documents_added=applied.documents_added,
                   documents_removed=applied.documents_removed, chunks_added=applied.chunks_added,
                   chunks_embedded=applied.chunks_embedded)


def remove_documents(root: Path, doc_ids: list[str], settings: Settings, embedder: Embedder) -> list[str]:
    """Take documents out of the index; returns the ids that were there. Re-ingesting the file
    brings them back only when it has changed (or with --rebuild)."""
    with write_lock(root):
        previous = read_manifest(root)
        if previous is None:
            return []
        expected = build_settings(settings, embedder.name)
        check_compatible(previous, expected, root)
        writer = GenerationWriter(root, previous, previous.generation + 1, previous.dimension)
        try:
            present = [d for d in doc_ids if d in writer.store.doc_ids()]
            if not present:
                writer.abort()
                return []
            writer.dense.remove(writer.store.chunk_ids_of(present))
            writer.store.remove_documents(present)
            files = {}
            for path, record in previous.files.items():
                kept = [d for d in record.documents if d not in present]
                if kept:
                    files[path] = FileRecord(sha256=record.sha256, documents=kept)
            _commit(writer, expected, embedder, files, dimension=previous.dimension)
        except BaseException:
            writer.abort()
            raise
    return present


def _commit(writer: GenerationWriter, expected: dict, embedder: Embedder,
            files: dict[str, FileRecord], dimension: int | None = None) -> None:
    documents, chunks = writer.store.counts()
    writer.commit(Manifest(
        generation=writer.generation, model=expected["model"],
        dimension=dimension or embedder.dimension, chunking=expected["chunking"],
        embedding_text=expected["embedding_text"], keyword=expected["keyword"], files=files,
        documents=documents, chunks=chunks,
        updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    ))


def _rebuild_sources(root: Path, paths: list[str | Path]) -> tuple[int, list[str | Path]]:
    """The next generation number and the files to rebuild from: `paths`, else the files the
    index holds (read from a manifest of any version, since a rebuild replaces outdated ones)."""
    raw = read_raw_manifest(root)
    generation = raw.get("generation") if isinstance(raw.get("generation"), int) else 0
    if not paths:
        paths = [p for p in raw.get("files") or {} if Path(p).exists()]
        if not paths:
            raise IndexProblem(f"nothing to rebuild at {root}: the index lists no files that still "
                               "exist; give them: `rag ingest --rebuild PATH...`")
    return generation + 1, paths


def _plan(paths: list[str | Path], base: Manifest | None, progress: Progress) -> _Plan:
    plan = _Plan()
    files, problems, unsupported = find_files(paths)
    plan.failures.extend(FileFailure(p, msg) for p, msg in problems)
    plan.unsupported.extend(FileFailure(p, msg) for p, msg in unsupported)
    known = base.files if base else {}
    for done, path in enumerate(files):
        progress("reading", done, len(files))
        key = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            plan.failures.append(FileFailure(key, f"cannot read: {exc.strerror or exc}"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if key in known and known[key].sha256 == digest:
            plan.skipped.append(key)
            continue
        try:
            result = read_documents(path, data)
        except ReadError as exc:
            plan.failures.append(FileFailure(key, str(exc)))
            continue
        plan.new_documents[key] = result.documents
        plan.file_hashes[key] = digest
        plan.warnings.extend(result.warnings)
    progress("reading", len(files), len(files))
    # Files that were indexed from a folder given now but are gone from it are removed too.
    folders = [Path(p).expanduser().resolve() for p in paths if Path(p).expanduser().is_dir()]
    for key in known:
        if any(Path(key).is_relative_to(f) for f in folders) and not Path(key).exists():
            plan.removed_files.append(key)
    return plan


def _apply(writer: GenerationWriter, plan: _Plan, base: Manifest | None, settings: Settings,
           embedder: Embedder, progress: Progress) -> _Applied:
    """Remove replaced documents and add the new ones to the writer's copy of the index."""
    known = base.files if base else {}
    replaced_docs = [d for path in [*plan.new_documents, *plan.removed_files] if path in known
                     for d in known[path].documents]
    old_chunk_ids = writer.store.chunk_ids_of(replaced_docs)
    reusable = {h: cid for cid, h in writer.store.hashes_of(old_chunk_ids).items()}
    reusable_vectors = dict(zip(reusable, writer.dense.vectors(list(reusable.values()))))
    writer.store.remove_documents(replaced_docs)
    writer.dense.remove(old_chunk_ids)

    taken = writer.store.doc_ids()
    next_id = max(writer.store.next_chunk_id(), max(old_chunk_ids, default=-1) + 1)
    staged: list[tuple[Document, list[tuple[int, Chunk]], list[str], list[str]]] = []
    assigned: dict[str, list[str]] = {}
    for path, documents in plan.new_documents.items():
        assigned[path] = []
        for document in documents:
            document = _unique_id(document, taken, plan.warnings)
            taken.add(document.doc_id)
            assigned[path].append(document.doc_id)
            chunks = chunk_document(document, settings.chunking)
            texts = [embedding_text(document, c, settings.retrieval.title_in_embedding) for c in chunks]
            ids = list(range(next_id, next_id + len(chunks)))
            next_id += len(chunks)
            staged.append((document, list(zip(ids, chunks)), texts, [embed_hash(t) for t in texts]))

    to_embed = {h: t for _, _, texts, hashes in staged for t, h in zip(texts, hashes)
                if h not in reusable_vectors}
    vectors = dict(reusable_vectors)
    vectors.update(_embed_all(embedder, to_embed, progress, plan.warnings))
    for document, id_chunks, _, hashes in staged:
        writer.store.add_document(document, id_chunks, hashes)
        writer.dense.add([cid for cid, _ in id_chunks], np.vstack([vectors[h] for h in hashes]))
    return _Applied(assigned, len(staged), len(replaced_docs),
                    sum(len(c) for _, c, _, _ in staged), len(to_embed))


def _embed_all(embedder: Embedder, texts_by_hash: dict[str, str], progress: Progress,
               warnings: list[str]) -> dict[str, np.ndarray]:
    hashes, texts = list(texts_by_hash), list(texts_by_hash.values())
    too_long = sum(1 for t in texts if embedder.count_tokens(t) > embedder.max_tokens)
    if too_long:
        warnings.append(f"{too_long} chunks exceed the model's {embedder.max_tokens}-token window; "
                        "the model ignores their ends (lower chunking.max_words)")
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(texts), EMBED_BATCH):
        progress("embedding", start, len(texts))
        batch = embedder.embed(texts[start:start + EMBED_BATCH])
        out.update(zip(hashes[start:start + EMBED_BATCH], batch))
    progress("embedding", len(texts), len(texts))
    return out


def _unique_id(document: Document, taken: set[str], warnings: list[str]) -> Document:
    if document.doc_id not in taken:
        return document
    suffix = hashlib.sha1(document.path.encode()).hexdigest()[:6]
    new_id = f"{document.doc_id}-{suffix}"
    n = 2
    while new_id in taken:
        new_id, n = f"{document.doc_id}-{suffix}-{n}", n + 1
    warnings.append(f"{Path(document.path).name}: document id {document.doc_id!r} is already used "
                    f"by another file; indexed as {new_id!r}")
    return Document(**{**document.__dict__, "doc_id": new_id})


def _report(plan: _Plan, base: Manifest | None, started: float, **counts) -> IngestReport:
    known = base.files if base else {}
    return IngestReport(
        files_added=tuple(p for p in plan.new_documents if p not in known),
        files_updated=tuple(p for p in plan.new_documents if p in known),
        files_skipped=tuple(plan.skipped),
        files_removed=tuple(plan.removed_files),
        failures=tuple(plan.failures),
        files_unsupported=tuple(plan.unsupported),
        warnings=tuple(plan.warnings),
        seconds=round(time.perf_counter() - started, 3),
        **counts,
    )
