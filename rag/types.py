"""Small frozen records passed between stages: files → Document → Chunk → Hit → Answer."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.generate.result import Generated


@dataclass(frozen=True)
class Document:
    """One article. `text` is what chunks are cut from; `offset` and `line` are where it starts
    in the file's (decoded) text, both None when the text was extracted (HTML, JSON Lines)."""

    doc_id: str
    text: str
    title: str
    source: str
    path: str
    url: str = ""
    date: str = ""
    offset: int | None = 0  # None when the text was extracted (HTML) rather than sliced verbatim
    line: int | None = 1  # 1-based line of the file where `text` begins
    # Paged formats (PDF): where each page begins in `text` (the first is 0); empty otherwise.
    page_starts: tuple[int, ...] = ()
    language: str = ""  # ISO 639-1 code; detected at ingest when the file does not say


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: `document.text[start:end] == text`."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class FilePosition:
    """Where a passage lies in its file: character offsets (end exclusive) and 1-based lines of
    a text file, or the 1-based page of a paged file (PDF); the fields that do not apply are None."""

    start: int | None
    end: int | None
    line_start: int | None
    line_end: int | None
    page: int | None = None

    @classmethod
    def of(cls, document: "Document", start: int, end: int) -> "FilePosition | None":
        """The position of document.text[start:end] in the file; None when nothing is known
        (text extracted from HTML or JSON Lines)."""
        page = bisect_right(document.page_starts, start) if document.page_starts else None
        if document.offset is None or document.line is None:
            return cls(None, None, None, None, page) if page else None
        line_start = document.line + document.text.count("\n", 0, start)
        return cls(document.offset + start, document.offset + end, line_start,
                   line_start + document.text.count("\n", start, end), page)

    def describe(self) -> str:
        """"lines 45–51 (characters 9000–9596)", or "p. 3" for a page."""
        parts = [f"p. {self.page}"] if self.page else []
        if self.line_start is not None:
            lines = (f"line {self.line_start}" if self.line_start == self.line_end
                     else f"lines {self.line_start}–{self.line_end}")
            parts.append(f"{lines} (characters {self.start}–{self.end})")
        return ", ".join(parts)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FilePosition":
        """The position `dataclasses.asdict` wrote (as in Answer.to_json)."""
        return cls(data.get("start"), data.get("end"), data.get("line_start"), data.get("line_end"), data.get("page"))


@dataclass(frozen=True)
class Citation:
    """Where a passage comes from: the article, the exact characters within its text
    (`start`/`end`), and, where the article is a verbatim slice of its file, the file position."""

    doc_id: str
    title: str
    source: str
    path: str
    start: int
    end: int
    url: str = ""
    date: str = ""
    file: FilePosition | None = None
    language: str = ""  # the article's (ISO 639-1; "": unknown)

    def location(self) -> str:
        """Where the passage is, in words a reader can use: "iraq-archive.txt, lines 185–191
        (characters 25166–25762)" for text files, "harbour.pdf, p. 3" for paged files, and
        "bridge.html, characters 0–474 of the article" for text extracted from HTML or JSON Lines
        (positions in such a file mean nothing once its markup is stripped; the article's
        characters are what the article panel highlights)."""
        name = self.path.rsplit("/", 1)[-1]
        where = self.file.describe() if self.file is not None else ""
        return f"{name}, {where}" if where else f"{name}, characters {self.start}–{self.end} of the article"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Citation":
        """The citation as Answer.to_json writes it (`dataclasses.asdict`)."""
        file = data.get("file")
        return cls(data["doc_id"], data["title"], data["source"], data["path"], int(data["start"]), int(data["end"]),
                   data.get("url", ""), data.get("date", ""), None if file is None else FilePosition.from_json(file),
                   data.get("language", ""))


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the evidence each retriever gave for it (None where it did not rank it)."""

    chunk_id: int
    score: float
    dense_score: float | None = None
    keyword_score: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None


@dataclass(frozen=True)
class Passage:
    """A cited passage of an answer, ranked from 1."""

    rank: int
    text: str
    score: float
    citation: Citation
    dense_score: float | None = None
    keyword_score: float | None = None
    matched_terms: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Passage":
        """A passage of Answer.to_json: rank, text, score and citation (the JSON carries no
        per-retriever scores or matched key words, so those are left empty)."""
        return cls(int(data["rank"]), data["text"], float(data["score"]), Citation.from_json(data["citation"]))


@dataclass(frozen=True)
class AnswerSentence:
    """A sentence copied verbatim from the passage of rank `passage_rank`."""

    sentence: str
    passage_rank: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AnswerSentence":
        return cls(data["sentence"], int(data["passage_rank"]))


@dataclass(frozen=True)
class Evidence:
    """How well the best passages match the question, by meaning and by words."""

    dense_similarity: float  # best cosine similarity of question and passage
    keyword_coverage: float  # best IDF-weighted share of the question's words found in a passage

    @property
    def strength(self) -> float:
        """What abstention compares with `answer.min_evidence`."""
        return self.dense_similarity + self.keyword_coverage

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Evidence":
        """The evidence as Answer.to_json writes it ({"similarity", "keyword_coverage", "strength"})."""
        return cls(float(data["similarity"]), float(data["keyword_coverage"]))


@dataclass(frozen=True)
class Answer:
    """What `Engine.ask` returns: cited passages, an extractive answer, and whether it abstained."""

    question: str
    abstained: bool
    passages: tuple[Passage, ...]
    answer: tuple[AnswerSentence, ...] = ()
    search_query: str = ""
    reason: str = ""
    evidence: Evidence | None = None
    # What the articles do not tell, e.g. "The articles report that this happened but not why: ...";
    # empty when the answer is complete.
    note: str = ""
    # The last `context_passages` of `passages` were not retrieved: each is the paragraph around an
    # answer sentence found next to a retrieved passage in its article, cited like any passage.
    context_passages: int = 0
    # The answer the user's own model wrote over these passages, each sentence verified
    # (rag.generate.Generated); None when none was asked for.
    generated: "Generated | None" = None

    def to_json(self) -> dict[str, Any]:
        """The `rag ask --json` object (also the UI's API endpoint); "generated" only when a
        written answer was asked for."""
        data = {
            "question": self.question,
            "abstained": self.abstained,
            "passages": [
                {
                    "rank": p.rank,
                    "text": p.text,
                    "score": round(p.score, 6),
                    "citation": asdict(p.citation),
                }
                for p in self.passages
            ],
            "answer": [asdict(s) for s in self.answer],
            "search_query": self.search_query,
            "reason": self.reason,
            "evidence": None if self.evidence is None else {
                "similarity": round(self.evidence.dense_similarity, 4),
                "keyword_coverage": round(self.evidence.keyword_coverage, 4),
                "strength": round(self.evidence.strength, 4),
            },
            "note": self.note,
            "context_passages": self.context_passages,
        }
        if self.generated is not None:
            data["generated"] = self.generated.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Answer":
        """The Answer that `to_json` wrote: `Answer.from_json(a.to_json()).to_json() == a.to_json()`
        (scores as rounded there; the passages' per-retriever scores and key words are not in it)."""
        evidence = data.get("evidence")
        passages = tuple(Passage.from_json(p) for p in data.get("passages", ()))
        generated = None
        if data.get("generated"):
            from rag.generate.result import Generated

            generated = Generated.from_json(data["generated"], passages)
        return cls(data["question"], bool(data["abstained"]), passages,
                   tuple(AnswerSentence.from_json(s) for s in data.get("answer", ())),
                   data.get("search_query", ""), data.get("reason", ""),
                   None if evidence is None else Evidence.from_json(evidence),
                   data.get("note", ""), int(data.get("context_passages", 0)), generated)


class FilterDateError(ValueError):
    """A filter date that cannot be read: `name` is "since" or "until", `reason` what is accepted."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class Where:
    """Which articles a question is asked of (empty: all). `sources`: any of these sources (as
    written, any case); `since`/`until`: a date range, inclusive, each "YYYY-MM-DD", "YYYY-MM"
    or "YYYY" ("2024-05" to "2024-05" is May 2024); `doc_ids`: any of these articles;
    `undated`: whether articles without a date are in when a range is given (they are not,
    unless asked). The conditions combine: all must hold."""

    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    doc_ids: tuple[str, ...] = ()
    undated: bool = False

    @property
    def empty(self) -> bool:
        return not (self.sources or self.since or self.until or self.doc_ids)

    def days(self) -> tuple[int | None, int | None]:
        """The date range as day numbers YYYYMMDD (None: open); FilterDateError for a bad date,
        ValueError for a range that ends before it starts."""
        from rag.dates import bound

        def day(name: str, value: str, end: bool = False) -> int | None:
            try:
                return bound(value, end=end) if value else None
            except ValueError as error:
                raise FilterDateError(name, str(error)) from None

        low, high = day("since", self.since), day("until", self.until, end=True)
        if low is not None and high is not None and low > high:
            raise ValueError(f"the date range ends ({self.until}) before it starts ({self.since})")
        return low, high

    def to_json(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "since": self.since, "until": self.until,
                "doc_ids": list(self.doc_ids), "undated": "include" if self.undated else "exclude"}


@dataclass(frozen=True)
class DocumentInfo:
    """A row of the list of indexed articles."""

    doc_id: str
    title: str
    source: str
    path: str
    chunks: int
    language: str = ""  # ISO 639-1 code, detected at ingest ("": unknown)
    date: str = ""  # as the file wrote it

    def matches(self, text: str) -> bool:
        """Whether `text` (any case) is in the title, source, file path or id; "" matches all."""
        return self.holds(DocumentInfo.needle(text), self.title, self.source, self.path, self.doc_id)

    @staticmethod
    def needle(text: str) -> str:
        """What `matches` looks for: `text` without surrounding blanks, case-folded."""
        return text.strip().casefold()

    @staticmethod
    def holds(needle: str, *fields: str | None) -> bool:
        """Whether a `needle` (see `needle`) is in any of the fields, case-folded ("" is in all):
        the one definition of `matches`, also used by stores that match in SQL."""
        return not needle or any(needle in (field or "").casefold() for field in fields)


@dataclass(frozen=True)
class FileFailure:
    path: str
    error: str


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did, file by file."""

    files_added: tuple[str, ...] = ()
    files_updated: tuple[str, ...] = ()
    files_skipped: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()
    failures: tuple[FileFailure, ...] = ()
    files_unsupported: tuple[FileFailure, ...] = ()  # found under a folder, not read: why
    documents_added: int = 0
    documents_removed: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures"] = [asdict(f) for f in self.failures]
        data["files_unsupported"] = [asdict(f) for f in self.files_unsupported]
        return data
