"""The Engine: the one entry point the CLI and the UI call (ingest, ask, stats, documents)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

from embeddings import Embedder, make_embedder
from rag.answer.abstain import keyword_coverage, should_abstain
from rag.answer.extract import extract_answer
from rag.config import Settings, default_index_dir
from rag.index.build import Progress, build_settings, remove_documents, update_index
from rag.index.folder import Snapshot, load_snapshot
from rag.index.manifest import check_compatible, read_manifest
from rag.index.sparse import keyword_tokens
from rag.offline import enforce_offline
from rag.retrieve.followup import resolve_followup
from rag.retrieve.retriever import Retriever
from rag.types import Answer, Document, DocumentInfo, Evidence, IngestReport, Passage


class Engine:
    """Answers questions over one index folder with cited passages.

    The embedder loads lazily; the index is re-read when another process (or this one) has
    written a new generation, so the CLI and a running UI can share a folder. Questions may be
    asked from several threads, also while another thread ingests: writers take the index
    folder's lock, and a reader keeps the generation it started with.
    """

    def __init__(self, settings: Settings | None = None, index_dir: str | Path | None = None,
                 embedder: Embedder | None = None) -> None:
        enforce_offline()
        self.settings = settings or Settings()
        self.index_dir = Path(index_dir or self.settings.index_dir or default_index_dir()).expanduser()
        self.embedder = embedder or make_embedder(self.settings.embedding)
        self._snapshot: Snapshot | None = None
        self._lock = threading.RLock()

    # writing ---------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str | Path], progress: Progress | None = None,
               rebuild: bool = False) -> IngestReport:
        """Add or update the articles in these files and folders (see rag.index.build)."""
        return update_index(self.index_dir, list(paths), self.settings, self.embedder, progress, rebuild)

    def remove(self, doc_ids: Sequence[str]) -> list[str]:
        """Remove documents by id; returns those that were removed."""
        return remove_documents(self.index_dir, list(doc_ids), self.settings, self.embedder)

    # reading ---------------------------------------------------------------------------------

    def ask(self, question: str, k: int | None = None, history: Sequence[str] = (),
            mode: str | None = None) -> Answer:
        """The top-k passages answering `question`, with citations and an extractive answer.

        `history` holds the earlier questions of the same chat, oldest first, so follow-ups
        ("why did he cancel it?") are searched with their subject. `mode` overrides the
        configured retrieval mode (dense, keyword, hybrid).
        """
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        k = k or self.settings.retrieval.k
        snapshot = self.snapshot()
        query = resolve_followup(question, list(history))
        query_vector = self.embedder.embed([query])[0]
        hits = Retriever(snapshot, self.embedder, self.settings.retrieval).retrieve(query, k, mode, query_vector)
        stored = snapshot.store.chunks(h.chunk_id for h in hits)
        query_terms = keyword_tokens(query, snapshot.keyword.stemming)
        idf = snapshot.keyword.idf(query_terms)
        passages = []
        coverage = 0.0
        for rank, hit in enumerate(hits, start=1):
            chunk = stored[hit.chunk_id]
            terms = set(keyword_tokens(f"{chunk.citation.title} {chunk.chunk.text}", snapshot.keyword.stemming))
            coverage = max(coverage, keyword_coverage(query_terms, terms, idf))
            passages.append(Passage(
                rank, chunk.chunk.text, hit.score, chunk.citation, hit.dense_score, hit.keyword_score,
                tuple(t for t in dict.fromkeys(query_terms) if t in terms),
            ))
        evidence = Evidence(max((h.dense_score or 0.0 for h in hits), default=0.0), coverage)
        abstained, reason = should_abstain(evidence, self.settings.answer) if hits else (True, "the index is empty")
        answer = ()
        if not abstained:
            answer = extract_answer(
                query, query_vector, set(query_terms), passages, self.embedder,
                lambda s: keyword_tokens(s, snapshot.keyword.stemming), self.settings.answer.max_sentences)
        return Answer(question, abstained, tuple(passages), answer, query, reason, evidence if hits else None)

    def stats(self) -> dict:
        """Counts and build settings of the index, for `rag stats`."""
        manifest = read_manifest(self.index_dir)
        if manifest is None:
            return {"documents": 0, "chunks": 0, "files": 0, "model": self.embedder.name,
                    "index": str(self.index_dir), "exists": False}
        return {
            "documents": manifest.documents, "chunks": manifest.chunks, "files": len(manifest.files),
            "model": manifest.model, "dimension": manifest.dimension, "index": str(self.index_dir),
            "exists": True, "generation": manifest.generation, "updated": manifest.updated,
            "chunking": manifest.chunking, "retrieval_mode": self.settings.retrieval.mode,
        }

    def documents(self) -> list[DocumentInfo]:
        """Every indexed article with its chunk count."""
        if read_manifest(self.index_dir) is None:
            return []
        return self.snapshot().store.document_infos()

    def document(self, doc_id: str) -> Document | None:
        """The full text and metadata of one article, for showing a citation in context."""
        return self.snapshot().store.document(doc_id)

    def warm_up(self) -> None:
        """Load the model and the index now rather than on the first question."""
        self.embedder.embed(["warm up"])
        if read_manifest(self.index_dir) is not None:
            self.snapshot()

    def snapshot(self) -> Snapshot:
        """The current index generation, reloaded when a newer one has been written.

        A replaced generation is not closed here: a question in another thread may still be
        reading it. Its SQLite connection closes when the last reference goes.
        """
        with self._lock:
            manifest = read_manifest(self.index_dir)
            current = self._snapshot
            if current is None or manifest is None or manifest.generation != current.manifest.generation:
                self._snapshot = None
                snapshot = load_snapshot(self.index_dir)
                check_compatible(snapshot.manifest, build_settings(self.settings, self.embedder.name),
                                 self.index_dir)
                self._snapshot = snapshot
            return self._snapshot
