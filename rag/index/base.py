"""The store interface: what the Engine needs from wherever an index lives.

A backend is one module implementing `IndexStore` plus one line in `rag.index.registry`
(the local folder: SQLite + FAISS + a keyword index; a Milvus server). The Engine does the
reading, chunking, embedding and tokenising; a store only keeps and searches what it is given,
so every backend answers with the same passages.

Chunk ids are assigned by the store, never reused, and keep their meaning for the life of the
index. Every `apply` is one transaction: readers see the state before it or after it, never a
half; a crash or a full disk leaves the last committed state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, runtime_checkable

import numpy as np

from rag.types import Chunk, Citation, Document, DocumentInfo, Where


@dataclass(frozen=True)
class StoredChunk:
    """A chunk with its id and the citation that points at it."""

    chunk_id: int
    chunk: Chunk
    citation: Citation


@dataclass(frozen=True)
class FileRecord:
    """A file the index was built from: its content hash and the documents it gave."""

    sha256: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Piece:
    """A sentence (or snippet fragment) of a chunk: its span in the chunk's text, its keyword
    tokens, and its vector (None where the store keeps none), all made at ingest so a question
    need not tokenise or embed the sentences of its candidate passages."""

    start: int
    end: int
    tokens: tuple[str, ...]
    vector: np.ndarray | None = None


@dataclass(frozen=True)
class KeywordRow:
    """What the keyword index is made from for one chunk: its text (tokenised with its article's
    language) and the fields searches are filtered by."""

    chunk_id: int
    text: str
    language: str
    source: str
    date_key: int | None  # rag.dates.date_key; None: the article has no date
    doc_id: str


@dataclass(frozen=True)
class NewDocument:
    """A document to add, with everything the store keeps of its chunks."""

    document: Document
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray  # (len(chunks), dimension) float32, unit rows
    embed_hashes: tuple[str, ...]  # sha256 of the text each vector was embedded from
    keyword_tokens: tuple[tuple[str, ...], ...]  # normalised (stemmed) tokens of each chunk
    pieces: tuple[tuple[Piece, ...], ...] = ()  # per chunk (optional: a store may ignore them)


@dataclass(frozen=True)
class IndexChange:
    """One write: documents removed, documents added, file records set (None: forgotten)."""

    remove_doc_ids: tuple[str, ...] = ()
    add: tuple[NewDocument, ...] = ()
    files: dict[str, FileRecord | None] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and what it was built with (cheap to read)."""

    backend: str  # "local", "milvus"
    location: str  # the folder, or the server URI and collection
    generation: int  # grows by one with every committed write
    build: dict  # the settings that shaped the stored data (model, chunking, ...)
    documents: int
    chunks: int
    dimension: int
    updated: str  # ISO time of the last write
    files: int  # how many files it was built from (file_records lists them)


@runtime_checkable
class IndexStore(Protocol):
    """Documents, chunks, their vectors and keyword tokens, and search over them."""

    backend: str
    location: str

    # state ---------------------------------------------------------------------------------
    def info(self) -> IndexInfo | None:
        """What the index holds; None when nothing was ever written."""

    def generation(self) -> int:
        """The committed generation (0: empty); cheap, called before every question."""

    def refresh(self) -> None:
        """Bring what this process holds in memory up to the committed generation."""

    def check(self, verify: bool = False, full: bool = False) -> list[str]:
        """Problems found (missing, truncated or disagreeing files), each naming the file and
        the command that repairs it; empty when healthy. Cheap unless asked: `verify` reads what
        can be checked quickly (`rag check`), `full` checks everything (`rag check --full`)."""

    def close(self) -> None:
        """Release files and connections."""

    def maintain(self) -> None:
        """After an ingest: upkeep of derived structures (re-save, compact); may be a no-op."""

    def rebuild_target(self) -> "IndexStore":
        """An empty store beside this one, for `rag ingest --rebuild`: this one keeps answering
        until `replace_with(target)` makes the target the index."""

    def replace_with(self, target: "IndexStore") -> None:
        """Make a completed rebuild target the index, and drop this one's data."""

    # writing -------------------------------------------------------------------------------
    def apply(self, change: IndexChange, build: dict, dimension: int) -> int:
        """Commit one change atomically; returns the new generation. `build` is recorded
        (on the first write) and must equal what is recorded (later writes)."""

    # reading -------------------------------------------------------------------------------
    def search_dense(self, vector: np.ndarray, k: int, where: Where | None = None) -> tuple[list[int], list[float]]:
        """The k chunk ids most similar to `vector` and their cosine similarities, best first;
        with `where`, among the chunks of the articles it names only, limited inside the search
        (never by dropping hits afterwards: k come back when the articles hold k)."""

    def search_keyword(self, terms: list[str], k: int, where: Where | None = None) -> tuple[list[int], list[float]]:
        """The k chunk ids with the highest BM25 score for `terms` (score > 0), best first;
        `where` as in `search_dense`."""

    def languages(self) -> dict[str, int]:
        """How many articles of each language (ISO 639-1) the index holds, most first."""

    def sources(self) -> list[tuple[str, int]]:
        """Each source the articles name, with its number of articles, most first (the filters'
        choices; cheap: read from counts kept at each write, or one indexed scan)."""

    def rerank_data(self, chunk_ids: list[int]) -> dict[int, tuple[str, np.ndarray, tuple[Piece, ...] | None, str]]:
        """(text, vector, stored sentences or None, the article's language) of each chunk, in as
        few requests as the backend allows: what ranking a question's candidates needs."""

    def keyword_scores(self, terms: list[str], chunk_ids: list[int]) -> np.ndarray:
        """BM25 score of each given chunk for `terms` (0 where no term occurs)."""

    def term_idf(self, terms: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each term (a term no chunk holds gets the highest)."""

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        """The stored chunks with their citations, by id (missing ids are left out)."""

    def vectors(self, chunk_ids: list[int]) -> np.ndarray:
        """The stored vectors of these chunks, in order."""

    def pieces(self, chunk_ids: Iterable[int], vectors: bool = False) -> dict[int, tuple[Piece, ...]]:
        """The stored pieces of these chunks (with vectors when asked); chunks stored without
        pieces are left out, and callers compute what they need from the text."""

    def vectors_by_hash(self, embed_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of chunks whose embedded text had these hashes (re-ingest reuses them)."""

    def chunk_ids_of(self, doc_ids: Iterable[str]) -> list[int]:
        """The ids of these documents' chunks."""

    def file_records(self, paths: Iterable[str] | None = None) -> dict[str, FileRecord]:
        """The records of these files (those the index knows), or of every file (None)."""

    def files_under(self, folder: str) -> list[str]:
        """The indexed files whose path lies under `folder` (an absolute path)."""

    def existing_doc_ids(self, doc_ids: Iterable[str]) -> set[str]:
        """Which of these document ids the index holds."""

    def document(self, doc_id: str) -> Document | None:
        """One article's full text and metadata."""

    def documents(self) -> list[DocumentInfo]:
        """Every article, with its chunk count, ordered by path."""

    def find_documents(self, match: str = "", limit: int | None = None,
                       offset: int = 0) -> tuple[list[DocumentInfo], int]:
        """The articles `DocumentInfo.matches(match)` ("" for all), in the order of `documents()`:
        `limit` of them (None: all) after the first `offset`, and how many match in all. This
        default filters `documents()`; a backend that can match and page where the rows are
        should."""
        return page_of_documents(self.documents(), match, limit, offset)

    def document_info(self, doc_id: str) -> DocumentInfo | None:
        """One article's row of the list (None: not in the index). This default scans
        `documents()`; a backend should look the id up."""
        return next((info for info in self.documents() if info.doc_id == doc_id), None)


def page_of_documents(infos: Iterable[DocumentInfo], match: str = "", limit: int | None = None,
                      offset: int = 0) -> tuple[list[DocumentInfo], int]:
    """The page `IndexStore.find_documents` answers, taken from `infos` (every article, in order)."""
    needle = DocumentInfo.needle(match)
    found = [i for i in infos if DocumentInfo.holds(needle, i.title, i.source, i.path, i.doc_id)]
    offset = max(0, offset)
    return found[offset:None if limit is None else offset + max(0, limit)], len(found)
