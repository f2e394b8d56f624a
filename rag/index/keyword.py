"""The keyword index: BM25 over the project's own tokens, in tantivy, updated in place.

Chunks are indexed as their `keyword_tokens` (rag.language.tokens: any script, each article's
language's stems, folded) joined by spaces and split on whitespace only, so tantivy sees exactly
the tokens the rest of the project uses. Each chunk also carries its article's id, source
(case-folded) and date (YYYYMMDD; 0: none), so a search can be limited to some articles inside
the search itself (rag.types.Where).
Additions and deletions are tantivy commits (segments merged in the background), never a
rebuild. Like the vector index it is derived from the record: the generation it reflects is
stored inside the same commit (a marker document), so the two cannot disagree after a crash.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from rag.errors import IndexDamagedError

if TYPE_CHECKING:
    from rag.types import Where

_TOKENIZER = "rag_tokens"
_MARKER = -1  # chunk id of the document that records the generation
READY = "READY"
# Segment files end with tantivy's footer: JSON {"version": ..., "crc": CRC-32 of the bytes
# before it}, its length (u32 LE) and this magic number (u32 LE).
_FOOTER_MAGIC = 1337
_SEGMENT_SUFFIXES = {".term", ".idx", ".pos", ".store", ".fast", ".fieldnorm", ".del"}


def library_failure(exc: BaseException) -> bool:
    """Whether `exc` is tantivy failing: one of its errors (ValueError, OSError), or a Rust panic,
    which pyo3 raises as PanicException, a BaseException that `except Exception` lets through."""
    return isinstance(exc, (ValueError, OSError)) or type(exc).__name__ == "PanicException"


def _damaged(folder: Path, exc: BaseException) -> IndexDamagedError:
    detail = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
    return IndexDamagedError(f"{folder} is damaged ({detail}): run `rag check --repair` "
                             "(it rebuilds the keyword index from the record; nothing is embedded again)")


def _ready_folders(data: Path) -> list[Path]:
    """keyword-N folders holding a READY file, newest first."""
    found = [(int(p.name.split("-")[1]), p) for p in data.glob("keyword-*")
             if p.name.split("-")[1].isdigit() and (p / READY).is_file()]
    return [p for _, p in sorted(found, reverse=True)]


def _vanished(exc: BaseException) -> bool:
    """Whether tantivy failed because a segment file disappeared while it opened the index."""
    return "FileDoesNotExist" in str(exc) or "No such file" in str(exc)


def _opened(open_once, attempts: int = 6):
    """`open_once()`, tried again while segment files vanish under it.

    A writer in another process merges segments and deletes the files no commit needs any more;
    a process that read the previous commit's list a moment before then finds a file gone. The
    next try reads the new list. A file still missing after that is real damage.
    """
    for attempt in range(attempts):
        try:
            return open_once()
        except BaseException as exc:
            if not library_failure(exc) or attempt == attempts - 1 or not _vanished(exc):
                raise
            time.sleep(0.01 * 2 ** attempt)


def _analyzer():
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("chunk_id", stored=False, indexed=True, fast=True)
    builder.add_integer_field("generation", stored=False, indexed=False, fast=True)
    builder.add_text_field("tokens", stored=False, tokenizer_name=_TOKENIZER, index_option="freq")
    builder.add_text_field("doc", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("date", stored=False, indexed=True, fast=True)
    return builder.build()


@dataclass(frozen=True)
class KeywordEntry:
    """One chunk as the keyword index holds it."""

    chunk_id: int
    tokens: Sequence[str]
    doc_id: str = ""
    source: str = ""
    date_key: int | None = None


def _filtered(query, schema, where: "Where | None"):
    """`query` limited to the articles `where` names (a filter adds nothing to the scores)."""
    import tantivy

    if where is None or where.empty:
        return query
    conditions = []
    if where.sources:
        conditions.append(tantivy.Query.term_set_query(schema, "source", [s.casefold() for s in where.sources]))
    if where.doc_ids:
        conditions.append(tantivy.Query.term_set_query(schema, "doc", list(where.doc_ids)))
    low, high = where.days()
    if low is not None or high is not None:
        dated = tantivy.Query.range_query(schema, "date", tantivy.FieldType.Integer, low or 1, high)
        undated = tantivy.Query.term_query(schema, "date", 0)
        conditions.append(tantivy.Query.boolean_query([(tantivy.Occur.Should, dated), (tantivy.Occur.Should, undated)])
                          if where.undated else dated)
    must = [(tantivy.Occur.Must, tantivy.Query.const_score_query(c, 0.0)) for c in conditions]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *must])


class KeywordIndex:
    """BM25 (tantivy's: k1 1.2, b 0.75) over chunk tokens, addressed by chunk id.

    It lives in a folder `keyword-N` of the data folder; the newest one holding a READY file is
    in use. A rebuild (`rag check --repair`) fills `keyword-N+1`, marks it ready and only then
    removes the old one, so readers in other processes never find the index missing.
    """

    def __init__(self, folder: Path) -> None:
        import tantivy

        self.folder = folder

        def open_once():
            index = tantivy.Index(_schema(), path=str(folder), reuse=True)
            index.register_tokenizer(_TOKENIZER, _analyzer())
            return index, index.searcher()

        try:
            self._index, self._searcher = _opened(open_once)
        except BaseException as exc:
            if not library_failure(exc):
                raise
            raise _damaged(folder, exc) from exc

    @classmethod
    def open(cls, data: Path, create: bool = False) -> "KeywordIndex":
        """The keyword index in use in data folder `data`; with `create`, an empty first one."""
        for attempt in range(4):
            if attempt:
                time.sleep(0.02 * attempt)  # a repair in another process is switching folders
            ready = _ready_folders(data)
            if not ready:
                if create:
                    index = cls.new(data)
                    index.publish()
                    return index
                continue  # listed before a new folder was ready, checked after the old one went
            try:
                return cls(ready[0])
            except IndexDamagedError:
                if _ready_folders(data)[:1] == ready[:1]:
                    raise  # else a newer one replaced it while we opened it: look again
        if not _ready_folders(data):
            raise IndexDamagedError(f"{data / 'keyword-*'} is missing: run `rag check --repair` (it rebuilds "
                                    "the keyword index from the record; nothing is embedded again)")
        raise IndexDamagedError(f"the keyword index in {data} keeps changing: try again")

    @classmethod
    def new(cls, data: Path) -> "KeywordIndex":
        """An empty index in a new folder, not in use until `publish`."""
        numbers = [int(p.name.split("-")[1]) for p in data.glob("keyword-*") if p.name.split("-")[1].isdigit()]
        folder = data / f"keyword-{max(numbers, default=0) + 1}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return cls(folder)

    def publish(self) -> None:
        """Mark this index ready (in use from now on) and remove the older ones."""
        (self.folder / READY).write_text("ready\n")
        for other in self.folder.parent.glob("keyword*"):
            if other != self.folder and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)

    @property
    def replaced(self) -> bool:
        """Whether a newer index (a repair's) is in use instead of this one."""
        return _ready_folders(self.folder.parent)[:1] != [self.folder]

    # reading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """See the latest commit (of this or another process)."""

        def reload_once():
            self._index.reload()
            return self._index.searcher()

        try:
            self._searcher = _opened(reload_once)
        except BaseException as exc:
            if not library_failure(exc):
                raise
            raise _damaged(self.folder, exc) from exc

    def _read(self, read):
        """`read(searcher)`, once more on a reloaded searcher if a segment proved unreadable.

        tantivy opens some segment files lazily: when a writer in another process deleted one
        between our reading the commit and opening it, the search fails. The reload sees the
        writer's newer commit; failing again (or a panic over a garbled file) means real damage.
        """
        try:
            return read(self._searcher)
        except BaseException as exc:
            if not library_failure(exc):
                raise
            if not isinstance(exc, ValueError):
                raise _damaged(self.folder, exc) from exc
            self.reload()
        try:
            return read(self._searcher)
        except BaseException as exc:
            if not library_failure(exc):
                raise
            raise _damaged(self.folder, exc) from exc

    @property
    def generation(self) -> int:
        """The record generation this index reflects (0: none)."""
        import tantivy

        def read(searcher) -> int:
            hits = searcher.search(tantivy.Query.term_query(self._index.schema, "chunk_id", _MARKER), 1,
                                   count=False).hits
            return int(searcher.fast_field_values("generation", [hits[0][1]])[0] or 0) if hits else 0

        return self._read(read)

    def __len__(self) -> int:
        """Chunks indexed (the marker left out)."""
        generation = self.generation
        return max(0, self._searcher.num_docs - (1 if generation else 0))

    def _terms_query(self, terms: list[str]):
        import tantivy

        schema = self._index.schema
        unique = list(dict.fromkeys(terms))
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "tokens", t)) for t in unique])

    def _run(self, query, limit: int) -> tuple[list[int], list[float]]:
        def read(searcher) -> tuple[list[int], list[float]]:
            hits = searcher.search(query, limit, count=False).hits
            if not hits:
                return [], []
            ids = searcher.fast_field_values("chunk_id", [address for _, address in hits])
            return [int(i) for i in ids], [float(score) for score, _ in hits]

        return self._read(read)

    def search(self, terms: list[str], k: int, where: "Where | None" = None) -> tuple[list[int], list[float]]:
        """The k best chunks for `terms`, best first (only chunks holding a term; with `where`,
        only chunks of the articles it names)."""
        if not terms or k <= 0:
            return [], []
        return self._run(_filtered(self._terms_query(terms), self._index.schema, where), k)

    def scores(self, terms: list[str], chunk_ids: list[int]) -> np.ndarray:
        """BM25 score of each given chunk (0 where it holds no term)."""
        import tantivy

        out = np.zeros(len(chunk_ids), dtype=np.float64)
        if not terms or not chunk_ids:
            return out
        schema = self._index.schema
        only = tantivy.Query.const_score_query(tantivy.Query.term_set_query(schema, "chunk_id", list(chunk_ids)), 0.0)
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, only), (tantivy.Occur.Must, self._terms_query(terms))])
        ids, scores = self._run(query, len(chunk_ids))
        where = {cid: i for i, cid in enumerate(chunk_ids)}
        for cid, score in zip(ids, scores):
            out[where[cid]] = score
        return out

    def idf(self, terms: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each term; a term no chunk holds gets the highest."""
        n = len(self)
        frequencies = self._read(lambda searcher: [searcher.doc_freq("tokens", t) if n else 0 for t in terms])
        return {term: math.log(1.0 + (n - df + 0.5) / (df + 0.5)) for term, df in zip(terms, frequencies)}

    # writing ---------------------------------------------------------------------------------

    def update(self, generation: int, removed: Iterable[int], added: Iterable[KeywordEntry]) -> None:
        """Delete and add chunks and record `generation`, in one commit. Re-applying the same
        change is harmless (an added chunk is deleted first)."""
        import tantivy

        writer = self._index.writer(heap_size=50_000_000, num_threads=1)
        try:
            for cid in removed:
                writer.delete_documents_by_term("chunk_id", int(cid))
            for entry in added:
                writer.delete_documents_by_term("chunk_id", int(entry.chunk_id))
                writer.add_document(tantivy.Document(
                    chunk_id=int(entry.chunk_id), tokens=" ".join(entry.tokens), doc=entry.doc_id,
                    source=entry.source.casefold(), date=int(entry.date_key or 0)))
            writer.delete_documents_by_term("chunk_id", _MARKER)
            writer.add_document(tantivy.Document(chunk_id=_MARKER, generation=int(generation)))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException as exc:
            try:
                writer.rollback()
            except BaseException:  # a writer that panicked may not roll back: the commit never happened
                pass
            if type(exc).__name__ == "PanicException":
                raise _damaged(self.folder, exc) from exc
            raise
        self.reload()

    # checking --------------------------------------------------------------------------------

    def verify_files(self) -> list[str]:
        """Problems of the segment files: each checked against the CRC-32 tantivy wrote in its
        footer (reads every file once, in blocks). A file a merge removed meanwhile is skipped."""
        problems = []
        for path in sorted(self.folder.iterdir()):
            if path.suffix not in _SEGMENT_SUFFIXES:
                continue
            try:
                problem = _footer_problem(path)
            except FileNotFoundError:
                continue
            if problem:
                problems.append(f"{path} is damaged ({problem}): run `rag check --repair` (it rebuilds the "
                                "keyword index from the record; nothing is embedded again)")
        return problems


def _footer_problem(path: Path) -> str:
    """Why a tantivy file fails its own checksum, or "" when it passes."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size < 8:
            return "truncated"
        handle.seek(size - 8)
        length, magic = struct.unpack("<II", handle.read(8))
        if magic != _FOOTER_MAGIC or length + 8 > size:
            return "its footer is garbled"
        handle.seek(size - 8 - length)
        try:
            expected = int(json.loads(handle.read(length))["crc"])
        except (ValueError, KeyError, TypeError):
            return "its footer is garbled"
        handle.seek(0)
        crc, left = 0, size - 8 - length
        while left:
            block = handle.read(min(left, 1 << 20))
            if not block:
                return "truncated"
            crc, left = zlib.crc32(block, crc), left - len(block)
    return "" if crc == expected else "checksum mismatch"
