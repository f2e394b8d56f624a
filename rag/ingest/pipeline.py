"""Ingest: files → documents → chunks → vectors → store, streamed in batches.

Unchanged files (same SHA-256) are skipped without being parsed; a changed file replaces its old
documents, and chunks whose embedded text is unchanged keep their stored vectors. Documents are
embedded and written a batch at a time, so memory stays flat however large the corpus (a JSON
Lines export is read line by line). Each batch is one store transaction holding whole files: a
crash loses at most the batch being written, and a re-run picks up from there.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from embeddings.base import Embedder
from rag.config import Settings
from rag.errors import IndexMismatchError, ReadError
from rag.index.base import FileRecord, IndexChange, IndexStore, NewDocument, Piece
from rag.embedding_text import embed_hash, embedding_text
from rag.language import detect_language, keyword_tokens
from rag.language.detect import CONFIDENT
from rag.ingest.chunker import chunk_document
from rag.ingest.readers import ReadLimits, find_files, iter_documents
from rag.ingest.sentences import piece_spans
from rag.types import Chunk, Document, FileFailure, IngestReport

Progress = Callable[[str, int, int], None]  # (stage, done, total)
BATCH_CHUNKS = 2000  # chunks embedded and written per transaction
EMBED_BATCH = 64
# A file record's hash when the file must be read again whatever its content: written with the
# first part of a long file (cleared by its last part: a crash in between leaves it), and when
# some of a file's articles were removed (ingesting the file again brings them back).
READ_AGAIN = ""


def build_settings(settings: Settings, model_name: str) -> dict:
    """What shapes the stored data; the store records it and every later write must match."""
    return {
        "model": model_name,
        "chunking": settings.chunking.model_dump(),
        "embedding_text": {"title_in_embedding": settings.retrieval.title_in_embedding},
        "keyword": {"stemming": settings.retrieval.stemming},
    }


def check_build(recorded: dict, expected: dict, location: str) -> None:
    """Raise IndexMismatchError naming each difference between the index and the config."""
    import json

    differences = [
        f"{key}: index has {json.dumps(recorded.get(key), sort_keys=True)}, config asks for "
        f"{json.dumps(expected[key], sort_keys=True)}"
        for key in expected if recorded.get(key) != expected[key]
    ]
    if differences:
        hint = ("; the model comes from embedding.backend and embedding.model_path: set them back to "
                "use the index as it is") if recorded.get("model") != expected.get("model") else ""
        raise IndexMismatchError(
            f"index at {location} was built with other settings ({'; '.join(differences)}): "
            f"run `rag ingest --rebuild --index {location}` to rebuild it with the current config{hint}")


@dataclass
class _Run:
    """What one ingest has done so far."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    unsupported: list[FileFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents_added: int = 0
    documents_removed: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0
    assigned_ids: set[str] = field(default_factory=set)
    file_languages: dict[str, dict[str, int]] = field(default_factory=dict)  # confident detections per file


@dataclass
class _Batch:
    """Whole files waiting to be embedded and written together."""

    files: dict[str, tuple[str, list[Document]]] = field(default_factory=dict)  # path -> (sha256, docs)
    chunks: int = 0


class Ingest:
    """Brings one store up to date with the files under some paths."""

    def __init__(self, store: IndexStore, settings: Settings, embedder: Embedder,
                 progress: Progress | None = None) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self.progress = progress or (lambda stage, done, total: None)
        self.build = build_settings(settings, embedder.name)
        self._dimension: int | None = None
        self._index_language: str | None = None
        self.limits = ReadLimits.from_settings(settings.ingest)  # the readers' caps (config `ingest:`)

    def run(self, paths: list[str | Path]) -> IngestReport:
        """Add, update and remove as the files under `paths` say; a file that fails to read
        keeps whatever the index had from it."""
        started = time.perf_counter()
        info = self.store.info()
        if info is not None:
            check_build(info.build, self.build, self.store.location)
        run = _Run()
        files, failures, skipped = find_files(paths)
        run.failures += [FileFailure(p, why) for p, why in failures]
        run.unsupported += [FileFailure(p, why) for p, why in skipped]
        known = self.store.file_records(str(p) for p in files)
        batch = _Batch()
        for done, path in enumerate(files):
            self.progress("reading", done, len(files))
            self._read_file(path, known, batch, run)
            if batch.chunks >= BATCH_CHUNKS:
                self._write(batch, known, run)
                batch = _Batch()
        self.progress("reading", len(files), len(files))
        self._write(batch, known, run)
        self._remove_missing(paths, run)
        if run.added or run.updated or run.removed or self.store.info() is not None:
            # also when nothing changed: upkeep an earlier crashed write left (a keyword index
            # behind the record) is done by the next ingest, whatever it brings
            self.progress("saving", 0, 1)
            self.store.maintain()
            self.progress("saving", 1, 1)
        return IngestReport(
            files_added=tuple(run.added), files_updated=tuple(run.updated), files_skipped=tuple(run.unchanged),
            files_removed=tuple(run.removed), failures=tuple(run.failures),
            files_unsupported=tuple(run.unsupported), documents_added=run.documents_added,
            documents_removed=run.documents_removed, chunks_added=run.chunks_added,
            chunks_embedded=run.chunks_embedded, seconds=round(time.perf_counter() - started, 3),
            warnings=tuple(run.warnings))

    def remove(self, doc_ids: list[str]) -> list[str]:
        """Take documents out of the index; returns the ids that were there.

        In the same write, each file they came from is marked to be read again (its record's
        hash cleared), or forgotten when none of its articles is left: so ingesting that file
        again (its folder, its path, or an upload) brings a removed article back, instead of
        skipping the file as unchanged."""
        present = [d for d in doc_ids if d in self.store.existing_doc_ids(doc_ids)]
        if present:
            info = self.store.info()
            assert info is not None
            paths = {found.path for d in present if (found := self.store.document_info(d)) is not None}
            gone = set(present)
            files: dict[str, FileRecord | None] = {}
            for path, record in self.store.file_records(paths).items():
                left = tuple(d for d in record.documents if d not in gone)
                files[path] = FileRecord(READ_AGAIN, left) if left else None
            self.store.apply(IndexChange(remove_doc_ids=tuple(present), files=files), info.build, info.dimension)
            self.store.maintain()
        return present

    # reading -----------------------------------------------------------------------------------

    def _read_file(self, path: Path, known: dict[str, FileRecord], batch: _Batch, run: _Run) -> None:
        key = str(path)
        try:
            digest = file_sha256(path)
        except OSError as exc:
            run.failures.append(FileFailure(key, f"cannot read: {exc.strerror or exc}"))
            return
        if key in known and known[key].sha256 == digest:
            run.unchanged.append(key)
            return
        outcome = run.updated if key in known else run.added  # decided before a part is written
        documents: list[Document] = []
        warnings: list[str] = []
        reader = iter_documents(path, warnings.append, limits=self.limits)
        try:
            while True:
                try:  # only the reader's errors are the file's: a failing write is the index's
                    document = next(reader)
                except StopIteration:
                    break
                except (ReadError, OSError) as exc:
                    run.failures.append(FileFailure(key, str(exc) if isinstance(exc, ReadError)
                                                    else f"cannot read: {exc.strerror or exc}"))
                    return
                documents.append(document)
                batch.chunks += max(1, len(document.text) // 600)  # a rough count until chunked
                if len(documents) % 500 == 0 and batch.chunks >= BATCH_CHUNKS:
                    self._flush_partial(key, digest, documents, batch, known, run)
                    documents = []
        finally:
            run.warnings += [f"{path.name}: {w}" for w in warnings]
        self._stage(batch, key, digest, documents)
        outcome.append(key)

    @staticmethod
    def _stage(batch: _Batch, key: str, digest: str, documents: list[Document]) -> None:
        previous = batch.files.get(key)
        batch.files[key] = (digest, (previous[1] if previous else []) + documents)

    def _flush_partial(self, key: str, digest: str, documents: list[Document], batch: _Batch,
                       known: dict[str, FileRecord], run: _Run) -> None:
        """Write part of a long file (a big JSON Lines export) so memory stays flat. Its file
        record is written with this first part, marked READ_AGAIN until its last part is
        written: a crash or an error in between leaves the mark, and the next ingest reads the
        file again, replacing what the parts wrote (never adding it twice)."""
        self._stage(batch, key, READ_AGAIN, documents)
        self._write(batch, known, run, partial=key)
        batch.files.clear()
        batch.chunks = 0

    # writing -----------------------------------------------------------------------------------

    def _write(self, batch: _Batch, known: dict[str, FileRecord], run: _Run, partial: str | None = None) -> None:
        if not batch.files:
            return
        title_in_embedding = self.settings.retrieval.title_in_embedding
        stemming = self.settings.retrieval.stemming
        replaced = [d for path in batch.files if path in known for d in known[path].documents]
        taken = self.store.existing_doc_ids(
            d.doc_id for _, docs in batch.files.values() for d in docs) - set(replaced)
        staged: list[tuple[Document, list[Chunk], list[str]]] = []
        records: dict[str, FileRecord | None] = {}
        for path, (digest, documents) in batch.files.items():
            ids = []
            for document in documents:
                document = _unique_id(document, taken | run.assigned_ids, run.warnings)
                if not document.language:
                    document = replace(document, language=self._language_of(document, path, run))
                run.assigned_ids.add(document.doc_id)
                ids.append(document.doc_id)
                chunks = chunk_document(document, self.settings.chunking, self.embedder.count_tokens,
                                        self._token_budget(document, title_in_embedding))
                texts = [embedding_text(document, c, title_in_embedding) for c in chunks]
                staged.append((document, chunks, texts))
            records[path] = FileRecord(READ_AGAIN if path == partial else digest, tuple(ids))
        hashes = [[embed_hash(t) for t in texts] for _, _, texts in staged]
        spans = {h: (len(t) - len(c.text), piece_spans(c.text))
                 for (_, chunks, texts), hs in zip(staged, hashes) for c, t, h in zip(chunks, texts, hs)}
        reused = self.store.vectors_by_hash(h for hs in hashes for h in hs)
        to_embed = {h: t for (_, _, texts), hs in zip(staged, hashes) for t, h in zip(texts, hs)
                    if h not in reused}
        fresh, piece_vectors = self._embed(to_embed, spans, run.warnings)
        vectors = {**reused, **fresh}
        if self.keeps_piece_vectors and reused and hasattr(self.store, "piece_vectors_by_hash"):
            piece_vectors.update(self.store.piece_vectors_by_hash(reused))  # reused chunks keep theirs
        change = IndexChange(
            remove_doc_ids=tuple(dict.fromkeys(replaced)),
            add=tuple(NewDocument(d, tuple(c), np.vstack([vectors[h] for h in hs]) if hs else
                                  np.zeros((0, self.dimension), np.float32),
                                  tuple(hs), tuple(tuple(keyword_tokens(x.text, stemming, d.language)) for x in c),
                                  tuple(_pieces(x.text, spans[h][1], piece_vectors.get(h), stemming, d.language)
                                        for x, h in zip(c, hs)))
                      for (d, c, _), hs in zip(staged, hashes)),
            files=records)
        self.store.apply(change, self.build, self.dimension)
        for path in batch.files:  # its old documents are gone now; what was just written stays
            known[path] = FileRecord(known[path].sha256 if path in known else READ_AGAIN, ())
        run.documents_added += len(staged)
        run.documents_removed += len(change.remove_doc_ids)
        run.chunks_added += sum(len(c) for _, c, _ in staged)
        run.chunks_embedded += len(to_embed)

    def _language_of(self, document: Document, path: str, run: _Run) -> str:
        """The article's language: detected, or where the detector is unsure (a list of names,
        a table, a short snippet), the language most of its file's articles are confidently in,
        else the index's most common one."""
        language, confidence = detect_language(document.text)
        seen = run.file_languages.setdefault(path, {})
        if confidence >= CONFIDENT:
            seen[language] = seen.get(language, 0) + 1
            return language
        if seen:
            return max(seen, key=seen.get)
        if self._index_language is None:
            self._index_language = next(iter(self.store.languages() if hasattr(self.store, "languages") else {}), "")
        return self._index_language  # "" on a first ingest: no stemming rather than a guess

    def _token_budget(self, document: Document, title_in_embedding: bool) -> int:
        """The model tokens a passage of `document` may hold: the window, less the title the
        model sees with each passage (its count includes the special tokens of the pair)."""
        title = embedding_text(document, Chunk(document.doc_id, 0, 0, 0, ""), title_in_embedding).rstrip("\n")
        return self.embedder.max_tokens - (self.embedder.count_tokens(title) if title else 0)

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.embedder.dimension)
        return self._dimension

    @property
    def keeps_piece_vectors(self) -> bool:
        """Whether the embedder gives sentence vectors from the passage's own pass (no extra
        model work); without it, sentence vectors are made per question."""
        return hasattr(self.embedder, "embed_with_spans")

    def _embed(self, texts_by_hash: dict[str, str], spans: dict[str, tuple[int, list[tuple[int, int]]]],
               warnings: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Vectors of the texts, and of their pieces where the embedder can pool them."""
        hashes, texts = list(texts_by_hash), list(texts_by_hash.values())
        if not texts:
            return {}, {}
        too_long = sum(1 for t in texts if self.embedder.count_tokens(t) > self.embedder.max_tokens)
        if too_long:
            warnings.append(f"{too_long} chunks exceed the model's {self.embedder.max_tokens}-token window; "
                            "the model ignores their ends (lower chunking.max_words)")
        out: dict[str, np.ndarray] = {}
        pieces: dict[str, np.ndarray] = {}
        step = max(EMBED_BATCH, self.settings.embedding.batch_size)
        for start in range(0, len(texts), step):
            self.progress("embedding", start, len(texts))
            part = hashes[start:start + step]
            if self.keeps_piece_vectors:
                shifted = [[(a + spans[h][0], b + spans[h][0]) for a, b in spans[h][1]] for h in part]
                vectors, span_vectors = self.embedder.embed_with_spans(texts[start:start + step], shifted)
                pieces.update(zip(part, span_vectors))
            else:
                vectors = self.embedder.embed(texts[start:start + step])
            out.update(zip(part, vectors))
        self.progress("embedding", len(texts), len(texts))
        return out, pieces

    def _remove_missing(self, paths: list[str | Path], run: _Run) -> None:
        """Files indexed from a folder given now but gone from it are removed too."""
        gone: list[str] = []
        for given in paths:
            folder = Path(given).expanduser()
            if folder.is_dir():
                gone += [p for p in self.store.files_under(str(folder.resolve())) if not Path(p).exists()]
        if not gone:
            return
        records = self.store.file_records(gone)
        doc_ids = tuple(d for r in records.values() for d in r.documents)
        info = self.store.info()
        assert info is not None
        self.store.apply(IndexChange(remove_doc_ids=doc_ids, files={p: None for p in gone}),
                         info.build, info.dimension)
        run.removed += gone
        run.documents_removed += len(doc_ids)


def _pieces(text: str, spans: list[tuple[int, int]], vectors: "np.ndarray | tuple | None",
            stemming: bool, language: str) -> tuple[Piece, ...]:
    """A chunk's sentences with their tokens (in the article's language) and (where made) vectors."""
    rows = list(vectors) if vectors is not None and len(vectors) == len(spans) else [None] * len(spans)
    return tuple(Piece(a, b, tuple(keyword_tokens(text[a:b], stemming, language)), v)
                 for (a, b), v in zip(spans, rows))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MB blocks (what unchanged files are known by)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    return replace(document, doc_id=new_id)
