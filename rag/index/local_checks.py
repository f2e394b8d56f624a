"""The local index's checks and repairs: whether its three parts are whole and agree, and
rebuilding the two derived from the record (the keyword and vector indexes) when they are not."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from rag.errors import IndexDamagedError
from rag.index.dense import file_problem, saved_files
from rag.index.base import KeywordRow
from rag.index.keyword import KeywordEntry, KeywordIndex
from rag.index.layout import POINTER, complete_data_folders, remove_temporary_files
from rag.language.tokens import keyword_tokens


class LocalChecks:
    """Checks and repairs of rag.index.local.LocalStore (a mixin: it uses the store's record,
    folders and in-memory indexes)."""

    def check(self, verify: bool = False, full: bool = False) -> list[str]:
        """Problems of the index, each naming the file and the command that repairs it.

        Always the cheap agreement checks: the record's counts against both derived indexes, and
        their generations (a keyword index ahead of the record means the record lost its last
        commits). With `verify`, also what reading the files can tell (`rag check`): SQLite's
        quick_check, tantivy's checksums, the vector file's header and size. With `full`, SQLite's
        integrity_check and every stored vector compared with the vector index (`rag check --full`).
        """
        problems: list[str] = []
        if verify or full:
            problems += self.records.integrity_problems(full=full)
            if problems:
                return problems  # the record is the source of truth: nothing else can be trusted
        meta = self.records.meta()
        documents, chunks = self.records.count_rows()
        if (documents, chunks) != (meta.get("documents"), meta.get("chunks")):
            problems.append(f"{self.records.path}: counts disagree with its own rows; "
                            "run `rag ingest --rebuild PATH...`")
        problems += self._stray_folders()
        try:
            self.refresh()
        except IndexDamagedError as exc:
            return problems + [str(exc)]
        assert self._keyword is not None and self._dense is not None
        if verify or full:
            problems += self._keyword.verify_files()
            problems += [p for _, path in saved_files(self.folder)[:1]
                         if (p := file_problem(path, self.dimension))]
        if self._keyword.generation > meta["generation"]:
            problems.append(lost_commits(self.records.path, meta["generation"], self._keyword.generation))
        elif self._keyword.generation != meta["generation"]:
            problems.append(f"{self._keyword.folder} reflects generation {self._keyword.generation}, the record "
                            f"{meta['generation']}: run `rag check --repair` (or any ingest)")
        elif len(self._keyword) != chunks:
            problems.append(f"{self._keyword.folder} holds {len(self._keyword)} passages, the record {chunks}: "
                            "run `rag check --repair`")
        if len(self._dense) != chunks:
            problems.append(f"the vector index holds {len(self._dense)} passages, the record {chunks}: "
                            "run `rag check --repair`")
        elif full:
            problems += self._compare_vectors()
        return problems

    def _stray_folders(self) -> list[str]:
        """Complete data folders newer than the one in use: no write leaves them (a pointer
        restored by hand to an older folder?), so they are reported, never deleted."""
        number = int(self.folder.name[1:]) if self.folder.name[1:].isdigit() else 0
        return [f"{p} is a complete index that {self.root / POINTER} does not name (it names {self.folder.name}): "
                "if it is the right one, point index.json at it; else delete it"
                for p in complete_data_folders(self.root) if int(p.name[1:]) > number]

    def _compare_vectors(self) -> list[str]:
        """Every stored vector against the vector index's nearest neighbour of it (`--full`)."""
        assert self._dense is not None
        wrong = 0
        for ids, vectors in self.records.iter_vectors():
            wrong += self._dense.count_missing(ids, vectors, lambda found: self.records.vectors(found, self.dimension))
        return [f"the vector index does not find {wrong} stored passage(s) as their own nearest neighbour: "
                "run `rag check --repair`"] if wrong else []

    def repair(self) -> list[str]:
        """Rebuild both derived indexes from the record (nothing is embedded again); says so when
        the record had lost commits the derived indexes had seen."""
        done = []
        with self._lock:
            generation = self.records.generation()
            try:
                ahead = KeywordIndex.open(self.folder).generation
            except IndexDamagedError:
                ahead = 0
            if ahead > generation:
                done.append(lost_commits(self.records.path, generation, ahead, repaired=True))
            remove_temporary_files(self.folder)
            self._rebuild_keyword(generation)
            done.append(f"rebuilt the keyword index ({len(self._keyword or [])} passages)")
            for _, path in saved_files(self.folder):
                path.unlink(missing_ok=True)
            self._dense = self._build_dense(generation)
            self._dense.save(self.folder)
            done.append(f"rebuilt the vector index ({len(self._dense)} passages)")
            self._generation = generation
        return done

    def _rebuild_keyword(self, generation: int) -> None:
        """A new keyword index from the record, in batches (the last records the generation)."""
        keyword = KeywordIndex.new(self.folder)
        batches = self.records.iter_keyword_rows(batch=20_000)
        rows = next(batches, [])
        while True:
            following = next(batches, None)
            keyword.update(generation if following is None else 0, [], keyword_entries(rows, self._stemming))
            if following is None:
                break
            rows = following
        keyword.publish()
        self._keyword = keyword


def keyword_entries(rows: Iterable[KeywordRow], stemming: bool) -> list[KeywordEntry]:
    """The keyword index's entries for these chunks: their texts tokenised in their articles'
    languages, as ingest tokenised them."""
    return [KeywordEntry(r.chunk_id, keyword_tokens(r.text, stemming, r.language), r.doc_id, r.source, r.date_key)
            for r in rows]


def lost_commits(record: Path, generation: int, seen: int, repaired: bool = False) -> str:
    """The message for a record behind its derived indexes: its last commits were lost."""
    lost = seen - generation
    head = (f"{record} is at generation {generation}, but the keyword index had seen {seen}: the record "
            f"lost its last {lost} write(s) (was {record.name}-wal deleted or damaged?)")
    if repaired:
        return (f"{head}; the keyword and vector indexes now agree with the record. Run `rag ingest` on your "
                "article folders again to add back what those writes added (files they removed come back too)")
    return (f"{head}: run `rag check --repair`, then `rag ingest` on your article folders again to add back "
            "what those writes added")


