"""The local backend: an index folder holding a SQLite record and two derived indexes.

    INDEX/index.json          {"format": 3, "data": "d000001"}: the data folder in use
    INDEX/d000001/store.sqlite   the record (rag.index.records): the one source of truth
    INDEX/d000001/keyword/       tantivy, updated with every write (rag.index.keyword)
    INDEX/d000001/dense-g*.faiss FAISS, re-saved when enough changed (rag.index.dense)
    INDEX/.lock                  held by a writer

A write is one SQLite transaction, then one keyword commit; the vector index is caught up in
memory from the record's change log. A crash between the two leaves the keyword index a
generation behind: readers still answer (a passage missing from keyword search until then),
and the next write, or `rag check --repair`, catches it up. A rebuild makes a new data folder
and switches index.json to it, so the old index answers until the new one is complete.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import numpy as np

from rag.dates import date_key
from rag.errors import IndexDamagedError, IndexMismatchError, IndexProblem
from rag.index.base import FileRecord, IndexChange, IndexInfo, IndexStore, Piece, StoredChunk
from rag.index.dense import DenseIndex, kind_for, kind_of, saved_files
from rag.index.keyword import KeywordEntry, KeywordIndex
from rag.index.layout import (POINTER, data_folder, has_index, new_data_folder,
                              remove_temporary_files, switch_to, write_lock_if_free)
from rag.index.listing import ArticleList
from rag.index.local_checks import LocalChecks, keyword_entries, lost_commits
from rag.index.records import STORE_NAME, Records, no_space
from rag.types import Document, DocumentInfo, Where

log = logging.getLogger(__name__)
RESAVE_SHARE = 0.1  # re-save the vector index when this share of it changed since it was saved
RESAVE_MIN = 20_000  # ... but not for fewer changed passages than this


class LocalStore(LocalChecks):
    """The local index folder, implementing rag.index.base.IndexStore (its checks and repairs:
    rag.index.local_checks)."""

    backend = "local"

    def __init__(self, root: Path, create: bool = False, folder: Path | None = None) -> None:
        """Open the index at `root`. With `create`, a first index is made when there is none
        (never a missing file of an existing one). `folder`: an empty data folder to build in
        (a rebuild), made current later by `replace_with`."""
        self.root = root
        self.location = str(root)
        fresh = folder is not None or (create and not has_index(root))
        self.folder = folder or (new_data_folder(root) if fresh else data_folder(root))
        self.records = Records(self.folder / STORE_NAME, create=fresh)
        self._keyword: KeywordIndex | None = KeywordIndex.open(self.folder, create=True) if fresh else None
        if fresh and folder is None:
            switch_to(root, self.folder)
        self._dense: DenseIndex | None = None
        self._generation = -1
        self._pointer_stat: tuple[int, int] | None = None
        self._lock = threading.RLock()
        self._articles: ArticleList | None = None

    def close(self) -> None:
        self.records.close()
        if self._articles is not None:
            self._articles.close()

    # state -------------------------------------------------------------------------------------

    def info(self) -> IndexInfo | None:
        meta = self.records.meta()
        if "build" not in meta:
            return None
        return IndexInfo(self.backend, self.location, int(meta["generation"]), meta["build"],
                         int(meta["documents"]), int(meta["chunks"]), int(meta["dimension"]),
                         meta.get("updated", ""), self.records.file_count())

    def generation(self) -> int:
        return self.records.generation()

    def languages(self) -> dict[str, int]:
        """How many articles of each language the index holds, most first."""
        return self.records.languages()

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its number of articles, most first."""
        return self.records.sources()

    @property
    def _stemming(self) -> bool:
        return bool((self.records.meta().get("build") or {}).get("keyword", {}).get("stemming", True))

    @property
    def dimension(self) -> int:
        return int(self.records.meta().get("dimension") or 0)

    def refresh(self) -> None:
        """Catch the in-memory indexes up with the record (cheap when nothing changed); after a
        rebuild switched the index to a new data folder, open that one."""
        with self._lock:
            if self._pointer_moved():
                self._reopen()
            current = self.records.generation()
            if current == self._generation and self._keyword is not None:
                return
            keyword = self._keyword_current()
            self._keyword = keyword
            if keyword.generation < current:
                self._catch_up_keyword_if_no_writer()
            self._dense = self._caught_up_dense(self._dense, current)
            self._generation = self._dense.generation

    def _catch_up_keyword_if_no_writer(self) -> None:
        """A keyword index behind the record while no writer is at work means a write crashed
        (or met a full disk) between its two commits: catch it up now, as the next write would.
        While a writer holds the lock, it is between the two and does it itself."""
        with write_lock_if_free(self.root) as free:
            if free:
                try:
                    self._catch_up_keyword()
                except (ValueError, OSError) as exc:  # a full disk again: searches still work, a
                    log.warning("could not catch the keyword index up: %s", exc)  # passage short

    def _pointer_moved(self) -> bool:
        try:
            stat = (self.root / POINTER).stat()
        except FileNotFoundError:
            return False
        seen, self._pointer_stat = self._pointer_stat, (stat.st_ino, stat.st_mtime_ns)
        return seen is not None and seen != self._pointer_stat and data_folder(self.root) != self.folder

    def _reopen(self) -> None:
        """Follow index.json to the data folder a rebuild made (the old one may be gone)."""
        self.records.close()
        self.folder = data_folder(self.root)
        self.records = Records(self.folder / STORE_NAME)
        self._keyword = self._dense = None
        self._generation = -1

    def _caught_up_dense(self, dense: DenseIndex | None, current: int) -> DenseIndex:
        """The vector index at generation `current`: this process's, the newest saved one, or
        one built from the record; then the record's later changes applied."""
        for _ in range(2):
            if dense is None:
                dense = DenseIndex.load_newest(self.folder)
            if dense is None:
                dense = self._build_dense(current)
            delta = self.records.changes_since(dense.generation)
            if delta is not None:
                break
            dense = None  # the change log was pruned past it: a newer file was saved
        else:
            dense = self._build_dense(current)
            delta = (current, [], [])
        current, removed, added = delta
        dense.remove(removed)
        gone = set(removed)
        present = [c for c in added if c not in gone]
        for ids, vectors in self.records.iter_vectors(chunk_ids=present):
            dense.add(ids.tolist(), vectors)
        dense.generation = current
        return dense

    def _build_dense(self, generation: int) -> DenseIndex:
        dimension = self.dimension or 1
        count = int(self.records.meta().get("chunks") or 0)
        sample = (v for _, v in self.records.iter_vectors(batch=20_000))
        return DenseIndex.build(dimension, count, self.records.iter_vectors(), sample=_take(sample, 200_000),
                                generation=generation)

    # writing -----------------------------------------------------------------------------------

    def apply(self, change: IndexChange, build: dict, dimension: int) -> int:
        with self._lock:
            info = self.info()
            if info is not None and info.build != build:
                raise IndexMismatchError(f"index at {self.location} was built with other settings: "
                                         f"run `rag ingest --rebuild --index {self.location}`")
            self._catch_up_keyword()
            generation, removed, added = self.records.apply(change, build, dimension)
            entries = [KeywordEntry(0, tokens, new.document.doc_id, new.document.source, date_key(new.document.date))
                       for new in change.add for tokens in new.keyword_tokens]
            try:
                self._keyword_index().update(generation, removed,
                                             [replace(e, chunk_id=cid) for cid, e in zip(added, entries)])
            except (ValueError, OSError) as exc:
                # The record is committed; the keyword index catches up on the next write.
                message = "no space left on the device" if no_space(exc) else str(exc)[:160]
                raise IndexProblem(f"the articles were saved but the keyword index could not be updated "
                                   f"({message}): free space if needed, then run `rag check --repair`") from exc
            return generation

    def _keyword_index(self) -> KeywordIndex:
        if self._keyword is None:
            self._keyword = KeywordIndex.open(self.folder)
        return self._keyword

    def _keyword_current(self) -> KeywordIndex:
        """This process's keyword index, reloaded; reopened when a repair replaced it."""
        keyword = self._keyword
        if keyword is None or keyword.replaced:
            return KeywordIndex.open(self.folder)
        try:
            keyword.reload()
        except IndexDamagedError:
            if not keyword.replaced:
                raise
            return KeywordIndex.open(self.folder)  # a repair switched folders while we reloaded
        return keyword

    def _catch_up_keyword(self) -> None:
        """Apply record changes the keyword index missed (a crash or a full disk after a commit)."""
        keyword = self._keyword_index()
        current = self.records.generation()
        if keyword.generation == current:
            return
        if keyword.generation > current:  # never write over the evidence: `rag check --repair` says it
            raise IndexDamagedError(lost_commits(self.records.path, current, keyword.generation))
        delta = self.records.changes_since(keyword.generation)
        if delta is None:
            self._rebuild_keyword(current)
            return
        _, removed, added = delta
        rows = [r for batch in self.records.iter_keyword_rows(chunk_ids=added) for r in batch]
        keyword.update(current, removed, keyword_entries(rows, self._stemming))

    def maintain(self) -> None:
        """After an ingest (a writer, holding the lock): catch the keyword index up if an earlier
        write crashed between its commits, re-save the vector index when enough changed since it
        was saved (or it should now be of the other kind), forget the change log both derived
        indexes have, copy the write-ahead log into store.sqlite, and drop a killed writer's
        temporary files. Decided from the saved file's name and the log's size: nothing big is
        read otherwise."""
        with self._lock:
            self._catch_up_keyword()
            remove_temporary_files(self.folder)
            current = self.records.generation()
            count = int(self.records.meta().get("chunks") or 0)
            files = saved_files(self.folder)
            saved_generation = files[0][0] if files else None
            changed = self.records.changes_count_since(saved_generation) if files else None
            same_kind = bool(files) and kind_of(files[0][1]) == kind_for(count)
            if changed is None or not same_kind or changed >= max(RESAVE_MIN, RESAVE_SHARE * count):
                base = DenseIndex.load_newest(self.folder) if same_kind and changed is not None else None
                dense = self._caught_up_dense(base, current) if base is not None else self._build_dense(current)
                dense.save(self.folder)
                self._dense, self._generation = None, -1  # readers load the saved file when they need it
                saved_generation = current
            keyword_generation = self._keyword_index().generation
            self.records.prune_changes(min(saved_generation, keyword_generation))
            self.records.checkpoint()

    # reading -----------------------------------------------------------------------------------

    def _ready(self) -> tuple[KeywordIndex, DenseIndex]:
        if self._keyword is None or self._dense is None:
            self.refresh()
        assert self._keyword is not None and self._dense is not None
        return self._keyword, self._dense

    def search_dense(self, vector: np.ndarray, k: int, where: Where | None = None) -> tuple[list[int], list[float]]:
        allowed = self.records.chunk_ranges(where) if where is not None and not where.empty else None
        with self._lock:  # a refresh in another thread may be changing the index
            return self._ready()[1].search(vector, k, allowed)

    def search_keyword(self, terms: list[str], k: int, where: Where | None = None) -> tuple[list[int], list[float]]:
        return self._ready()[0].search(terms, k, where)

    def keyword_scores(self, terms: list[str], chunk_ids: list[int]) -> np.ndarray:
        return self._ready()[0].scores(terms, chunk_ids)

    def term_idf(self, terms: list[str]) -> dict[str, float]:
        return self._ready()[0].idf(terms)

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        return self.records.chunks(chunk_ids)

    def rerank_data(self, chunk_ids: list[int]) -> dict:
        """(text, vector, pieces) of each chunk in one query (see Records.rerank_data)."""
        return self.records.rerank_data(chunk_ids)

    def vectors(self, chunk_ids: list[int]) -> np.ndarray:
        return self.records.vectors(chunk_ids, self.dimension)

    def vectors_by_hash(self, embed_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return self.records.vectors_by_hash(embed_hashes)

    def pieces(self, chunk_ids: Iterable[int], vectors: bool = False) -> dict[int, tuple[Piece, ...]]:
        return self.records.pieces(chunk_ids, vectors)

    def piece_vectors_by_hash(self, embed_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return self.records.piece_vectors_by_hash(embed_hashes)

    def neighbours(self, chunk_ids: Iterable[int]) -> list[int]:
        """The chunks just before and after these in their documents."""
        return self.records.neighbours(chunk_ids)

    def chunk_ids_of(self, doc_ids: Iterable[str]) -> list[int]:
        return self.records.chunk_ids_of(doc_ids)

    def existing_doc_ids(self, doc_ids: Iterable[str]) -> set[str]:
        return self.records.existing_doc_ids(doc_ids)

    def document(self, doc_id: str) -> Document | None:
        return self.records.document(doc_id)

    def documents(self) -> list[DocumentInfo]:
        return self._article_list().documents()

    def find_documents(self, match: str = "", limit: int | None = None,
                       offset: int = 0) -> tuple[list[DocumentInfo], int]:
        """Matched and paged in SQL (rag.index.listing), as `page_of_documents` would."""
        return self._article_list().find(match, limit, offset)

    def document_info(self, doc_id: str) -> DocumentInfo | None:
        return self._article_list().info(doc_id)

    def _article_list(self) -> ArticleList:
        """The list over the record in use (a rebuild may have switched it)."""
        with self._lock:
            if self._articles is None or self._articles.path != self.records.path:
                if self._articles is not None:
                    self._articles.close()
                self._articles = ArticleList(self.records.path)
            return self._articles

    def file_records(self, paths: Iterable[str] | None = None) -> dict[str, FileRecord]:
        return self.records.file_records(paths)

    def files_under(self, folder: str) -> list[str]:
        return self.records.files_under(folder)

    # rebuilding --------------------------------------------------------------------------------

    def rebuild_target(self) -> "LocalStore":
        return LocalStore(self.root, create=True, folder=new_data_folder(self.root))

    def replace_with(self, target: "IndexStore") -> None:
        assert isinstance(target, LocalStore)
        switch_to(self.root, target.folder)
        self.close()


def _take(iterator, limit: int):
    """Arrays from `iterator` until `limit` rows have been taken."""
    taken = 0
    for array in iterator:
        if taken >= limit:
            return
        yield array[: limit - taken]
        taken += len(array)
