"""The Engine: the one entry point the CLI, the UI and the API call (ingest, ask, stats, documents)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from embeddings import Embedder, calibrated_min_evidence, embed_query, languages_of, make_embedder
from rag.answer.abstain import should_abstain
from rag.answer.extract import Extraction, extract_answer
from rag.answer.ranker import default_ranker
from rag.config import Settings, StoreSettings, default_index_dir
from rag.errors import IndexMismatchError, IndexMissingError, IndexProblem
from rag.index.base import IndexStore
from rag.index.layout import is_old_format, recover_pointer, write_lock
from rag.index.registry import begin_rebuild, open_store
from rag.language import QueryTerms, detect_among, group_coverage, query_terms
from rag.ingest.pipeline import Ingest, Progress, build_settings, check_build
from rag.offline import enforce_offline
from rag.retrieve.followup import resolve_followup
from rag.retrieve.retriever import Retriever
from rag.types import Answer, Document, DocumentInfo, Evidence, IngestReport, Passage, Where

if TYPE_CHECKING:
    from rag.generate import Generation
    from rag.index.milvus_migrate import MigrationReport


class Engine:
    """Answers questions over one index with cited passages.

    The embedder and the index load lazily. Before each question the engine catches up with
    what other processes (or threads) wrote, at the cost of one small query when nothing
    changed. Questions may be asked from several threads, also while another thread ingests:
    a writer works on its own connection under the index's lock.
    """

    def __init__(self, settings: Settings | None = None, index_dir: str | Path | None = None,
                 embedder: Embedder | None = None) -> None:
        enforce_offline()
        self.settings = settings or Settings()
        self.index_dir = Path(index_dir or self.settings.index_dir or default_index_dir()).expanduser()
        self.embedder = embedder or make_embedder(self.settings.embedding)
        self._model_languages = languages_of(self.settings.embedding)  # those the model knows (None: all)
        if self.settings.answer.min_evidence is None:  # the model's own calibrated threshold
            self.settings = self.settings.with_updates(
                answer={"min_evidence": calibrated_min_evidence(self.settings.embedding)})
        self._reader: IndexStore | None = None
        self._checked_generation = -1
        self._languages: tuple[int, tuple[str, ...]] = (-1, ())  # (generation, the index's languages)
        self._sources: tuple[int, list[tuple[str, int]]] = (-1, [])  # (generation, sources and counts)
        self._lock = threading.RLock()

    # writing ---------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str | Path], progress: Progress | None = None,
               rebuild: bool = False) -> IngestReport:
        """Add or update the articles in these files and folders (see rag.ingest.pipeline).

        With `rebuild`, everything is read and embedded again into a new index that replaces
        the current one when complete (no paths: the files the current index lists).
        """
        with write_lock(self.index_dir):
            # An index of an older format cannot be read or added to: the first ingest after an
            # upgrade rebuilds it from the files it lists plus the ones given (it answers until then).
            upgrade = not rebuild and self.settings.store.backend == "local" and is_old_format(self.index_dir)
            if rebuild or upgrade:
                target, publish, known = begin_rebuild(self.settings, self.index_dir)
                if not paths and not known:
                    target.close()
                    raise IndexProblem(f"nothing to rebuild at {self.index_dir}: the index lists no files that "
                                       "still exist; give them: `rag ingest --rebuild PATH...`")
                todo = [*known, *paths] if upgrade else (list(paths) or known)
                try:
                    report = Ingest(target, self.settings, self.embedder, progress).run(todo)
                except BaseException:
                    target.close()
                    raise
                publish()
                target.close()
                if upgrade:
                    report = replace(report, warnings=(
                        f"the index at {self.index_dir} was in an older format: rebuilt from the {len(known)} "
                        f"file(s) it listed and the paths given", *report.warnings))
                return report
            store = open_store(self.settings, self.index_dir, create=True)
            try:
                return Ingest(store, self.settings, self.embedder, progress).run(list(paths))
            finally:
                store.close()

    def remove(self, doc_ids: Sequence[str]) -> list[str]:
        """Remove documents by id; returns those that were removed."""
        with write_lock(self.index_dir):
            try:
                store = open_store(self.settings, self.index_dir)
            except IndexMissingError:
                return []
            try:
                return Ingest(store, self.settings, self.embedder).remove(list(doc_ids))
            finally:
                store.close()

    def migrate(self, store: "StoreSettings", replace: bool = False,
                progress: Callable[[int], None] | None = None) -> "MigrationReport":
        """Copy this engine's local index (its folder) into the Milvus server `store` names:
        vectors, passages, articles and file records as they are, nothing embedded again.
        `progress(n)`: n more articles copied. Refuses a target that holds an index unless
        `replace`."""
        from rag.index.milvus import open_milvus
        from rag.index.milvus_migrate import migrate as copy_index

        local = self.settings.with_updates(store={"backend": "local"})
        with write_lock(self.index_dir):
            source = open_store(local, self.index_dir)
            target = open_milvus(store, create=True)
            try:
                return copy_index(source, target, replace, progress)
            finally:
                source.close()
                target.close()

    def check(self, repair: bool = False, verify: bool = True, full: bool = False) -> list[str]:
        """Problems of the index (empty: healthy): `verify` reads what can be checked quickly,
        `full` everything (see IndexStore.check). With `repair`, restore a lost pointer to the
        data folder and rebuild what can be rebuilt from the stored record (nothing is embedded
        again), and return what was done."""
        if not repair:
            store = self.store(check_build_settings=False)
            return store.check(verify=verify, full=full)
        with write_lock(self.index_dir):
            done = []
            if self.settings.store.backend == "local":
                restored = recover_pointer(self.index_dir)
                done += [restored] if restored else []
            store = open_store(self.settings, self.index_dir)
            try:
                return done + (store.repair() if hasattr(store, "repair") else [])
            finally:
                store.close()

    # reading ---------------------------------------------------------------------------------

    def store(self, check_build_settings: bool = True) -> IndexStore:
        """The index for reading, caught up with the latest write and checked against the
        config (IndexMissingError before the first ingest)."""
        with self._lock:
            if self._reader is None:
                self._reader = open_store(self.settings, self.index_dir)
            reader = self._reader
        reader.refresh()
        generation = reader.generation()
        if check_build_settings and generation != self._checked_generation:
            info = reader.info()
            if info is not None:
                check_build(info.build, build_settings(self.settings, self.embedder.name), reader.location)
            self._checked_generation = generation
        return reader

    def ask(self, question: str, k: int | None = None, history: Sequence[str] = (),
            mode: str | None = None, where: Where | None = None, generate: bool | None = None) -> Answer:
        """The top-k passages answering `question`, with citations and an extractive answer.

        `history` holds the earlier questions of the same chat, oldest first, so follow-ups
        ("why did he cancel it?") are searched with their subject. `mode` overrides the
        configured retrieval mode (dense, keyword, hybrid). `where` asks only some articles
        (sources, a date range, article ids: rag.types.Where); the search itself is limited,
        so k passages come back when the articles hold k. `generate` (None: as
        `answer.generator` says) adds the answer the user's own model writes over the passages,
        each sentence verified (`Answer.generated`; rag.generate).
        """
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        k = self.settings.retrieval.k if k is None else k
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        if where is not None:
            where.days()  # a bad date is the caller's error (ValueError), before any search
        store = self.store()
        query = resolve_followup(question, list(history))
        terms = self.query_terms(store, query)
        query_vector = embed_query(self.embedder, query)
        known_languages = self._model_languages
        hits = Retriever(store, self.embedder, self.settings.retrieval).retrieve(
            query, k, mode, query_vector, terms, where, known_languages)
        stored = store.chunks(h.chunk_id for h in hits)
        hits = [h for h in hits if h.chunk_id in stored]  # removed since the search: left out
        idf = store.term_idf(terms.flat)
        passages = []
        coverages = []
        for rank, hit in enumerate(hits, start=1):
            chunk = stored[hit.chunk_id]
            held = terms.passage_tokens(f"{chunk.citation.title} {chunk.chunk.text}")
            coverages.append(group_coverage(terms.groups, held, idf))
            passages.append(Passage(
                rank, chunk.chunk.text, hit.score, chunk.citation, hit.dense_score, hit.keyword_score,
                tuple(t for t in terms.flat if t in held),
            ))
        # The similarity is evidence where the model knows the question's and the passage's
        # languages; the other passages are judged by their key words alone (abstain.py).
        known = [known_languages is None or (terms.language in known_languages and p.citation.language in known_languages)
                 for p in passages]
        similarity_counts = any(known) or not hits
        evidence = Evidence(max((h.dense_score or 0.0 for h, k in zip(hits, known) if k), default=0.0),
                            max((c for c, k in zip(coverages, known) if k or not similarity_counts), default=0.0))
        words_only = [c for c, k in zip(coverages, known) if not k]
        empty = "no article matches the filter" if where is not None and not where.empty else "the index is empty"
        abstained, reason = (should_abstain(evidence, self.settings.answer, similarity_counts,
                                            max(words_only) if words_only else None) if hits else (True, empty))
        extraction = Extraction()
        if not abstained:
            extraction = extract_answer(
                query, query_vector, set(terms.flat), passages,
                self._sentence_vectors(store, {h.chunk_id: stored[h.chunk_id].chunk.text for h in hits}),
                terms.tokenize, self.settings.answer.max_sentences, store.document,
                default_ranker() if self.settings.answer.explain_order == "learned" else None)
        answer = Answer(question, abstained, tuple(passages) + extraction.added_passages, extraction.sentences,
                        query, reason, evidence if hits else None, extraction.note, len(extraction.added_passages))
        if self.generates(generate):
            from rag.generate import generate_answer

            answer = replace(answer, generated=generate_answer(
                question, answer, self.settings, self.embedder.embed, self._article_text, history))
        return answer

    def generates(self, generate: bool | None = None) -> bool:
        """Whether a question asked with `generate` gets a written answer (None: the config's
        answer.generator)."""
        return self.settings.answer.generator == "llm" if generate is None else generate

    def write_answer(self, answer: Answer, history: Sequence[str] = ()) -> "Generation":
        """The user's model writing an answer over `answer`'s passages, streamed: each sentence
        once complete and verified, then the result (rag.generate.Generation; close() cancels it).
        For the chat and the REST stream; `ask(..., generate=True)` is the same, run to the end."""
        from rag.generate import generate

        return generate(answer.question, answer, self.settings, self.embedder.embed, self._article_text, history)

    def _article_text(self, doc_id: str) -> str | None:
        document = self.document(doc_id)
        return document.text if document is not None else None

    def query_terms(self, store: IndexStore, query: str) -> QueryTerms:
        """The question's key words for this index: its language detected among the index's
        languages, each word's stem in each of them (rag.language.query)."""
        generation = store.generation()
        if self._languages[0] != generation:
            counts = store.languages() if hasattr(store, "languages") else {}
            self._languages = (generation, tuple(counts) or ("en",))
        languages = self._languages[1]
        return query_terms(query, detect_among(query, languages, languages[0]), languages,
                           self.settings.retrieval.stemming)

    def _sentence_vectors(self, store: IndexStore, texts: dict[int, str]) -> Callable[[list[str]], np.ndarray]:
        """How the answer gets sentence vectors: those stored at ingest for the passages (`texts`,
        by chunk id) and their neighbouring chunks (pooled from the passage's own model pass),
        the model for any other sentence."""
        known: dict[str, np.ndarray] = {}
        if hasattr(store, "pieces"):
            texts = dict(texts)
            others = [c for c in (store.neighbours(texts) if hasattr(store, "neighbours") else []) if c not in texts]
            texts.update((c, s.chunk.text) for c, s in store.chunks(others).items())
            for chunk_id, pieces in store.pieces(list(texts), vectors=True).items():
                for piece in pieces:
                    if piece.vector is not None and chunk_id in texts:
                        known.setdefault(texts[chunk_id][piece.start:piece.end], piece.vector)

        def embed_sentences(sentences: list[str]) -> np.ndarray:
            missing = [s for s in dict.fromkeys(sentences) if s not in known]
            if missing:
                known.update(zip(missing, self.embedder.embed(missing)))
            return np.vstack([known[s] for s in sentences]) if sentences else np.zeros((0, 1), np.float32)

        return embed_sentences

    def stats(self) -> dict:
        """Counts and build settings of the index, for `rag stats` (`healthy`, `problems`)."""
        base = {"model": self.embedder.name, "index": str(self.index_dir),
                "backend": getattr(self.settings, "store", None) and self.settings.store.backend or "local"}
        try:
            store = self.store()
        except IndexMissingError:
            return {"documents": 0, "chunks": 0, "files": 0, **base, "exists": False, "healthy": True,
                    "problems": []}
        except IndexMismatchError:
            raise  # the config does not fit the index: the CLI says what to run
        except IndexProblem as exc:  # damaged: exists, unhealthy, and says why
            return {"documents": None, "chunks": None, "files": None, **base, "exists": True, "healthy": False,
                    "problems": [str(exc)]}
        info = store.info()
        problems = store.check()
        if info is None:
            return {"documents": 0, "chunks": 0, "files": 0, **base, "exists": True, "healthy": not problems,
                    "problems": problems, "backend": store.backend, "location": store.location}
        return {
            "documents": info.documents, "chunks": info.chunks, "files": info.files,
            "model": info.build.get("model"), "dimension": info.dimension, "index": str(self.index_dir),
            "exists": True, "generation": info.generation, "updated": info.updated,
            "chunking": info.build.get("chunking"), "retrieval_mode": self.settings.retrieval.mode,
            "backend": store.backend, "location": store.location, "languages": store.languages(),
            "healthy": not problems, "problems": problems,
        }

    def documents(self, match: str = "", limit: int | None = None, offset: int = 0) -> list[DocumentInfo]:
        """Every indexed article with its chunk count, by file; with `match`, those whose title,
        source, file or id holds it (any case); with `limit`/`offset`, that page of them."""
        return self.find_documents(match, limit, offset)[0]

    def find_documents(self, match: str = "", limit: int | None = None,
                       offset: int = 0) -> tuple[list[DocumentInfo], int]:
        """A page of `documents(match)` (`limit` of them, None: all, after the first `offset`)
        and how many match in all: matched and paged by the store, not in Python."""
        if (limit is not None and limit < 0) or offset < 0:
            raise ValueError(f"limit and offset must not be negative (limit {limit}, offset {offset})")
        try:
            return self.store().find_documents(match, limit, offset)
        except IndexMissingError:
            return [], 0

    def document_info(self, doc_id: str) -> DocumentInfo | None:
        """One article's row of the list (title, source, file, chunk count); None: not indexed."""
        try:
            return self.store().document_info(doc_id)
        except IndexMissingError:
            return None

    def document_totals(self) -> tuple[int, int]:
        """(articles, passages) in the index, as the store counts them (cheap: no scan)."""
        try:
            info = self.store().info()
        except IndexMissingError:
            return 0, 0
        return (info.documents, info.chunks) if info else (0, 0)

    def sources(self) -> list[tuple[str, int]]:
        """Every source the articles name, with how many articles each, most first (for the
        filters; cached until the index changes)."""
        try:
            store = self.store()
        except IndexMissingError:
            return []
        generation = store.generation()
        if self._sources[0] != generation:
            if hasattr(store, "sources"):
                found = store.sources()
            else:
                counts: dict[str, int] = {}
                for info in store.documents():
                    counts[info.source] = counts.get(info.source, 0) + 1
                found = sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))
            self._sources = (generation, [(s, n) for s, n in found if s])
        return list(self._sources[1])

    def document(self, doc_id: str) -> Document | None:
        """The full text and metadata of one article, for showing a citation in context."""
        return self.store().document(doc_id)

    def warm_up(self) -> None:
        """Load the model and the index now rather than on the first question."""
        self.embedder.embed(["warm up"])
        try:
            self.store()
        except IndexMissingError:
            pass
