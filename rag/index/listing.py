"""The local record's list of articles, matched and paged in SQLite: a page of 200 rows of an
archive of 250,000 articles reads those rows, not the archive.

Matching is `DocumentInfo.matches` exactly: the case-folded text within the case-folded title,
source, file path or id. SQLite's LIKE folds ASCII letters only, so it is given the case-folded
text (a row it accepts is a match: case folding is stable), and a row it rejects is checked with
Python's casefold when one of its fields holds a non-ASCII character, the only rows where
casefold can see a match LIKE cannot ("STRASSE" in "Straße", "é" in "É", "k" in "K").

The list has its own connection, so that a page and its count are read in one snapshot without
holding up the connection the questions use.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from rag.errors import IndexDamagedError
from rag.index.sqlite import GuardedConnection
from rag.types import DocumentInfo

# Title, source, file and id in one index: matching scans it instead of the articles' texts.
LISTING_INDEX = ("CREATE INDEX IF NOT EXISTS documents_listing ON documents(path, title, source, doc_id, chunk_count, "
                 "language, date)")

_FIELDS = ("title", "source", "path", "doc_id")
_HOLDS = "rag_casefold_holds"  # DocumentInfo.holds, for rows LIKE cannot decide
_LIKE = " OR ".join(f"{f} LIKE :pattern ESCAPE '\\'" for f in _FIELDS)
_NON_ASCII = " OR ".join(f"length(CAST({f} AS BLOB)) > length({f})" for f in _FIELDS)  # bytes > characters
_MATCH = f"({_LIKE} OR (({_NON_ASCII}) AND {_HOLDS}(:needle, {', '.join(_FIELDS)})))"
_PYTHON_ONLY = f"{_HOLDS}(:needle, {', '.join(_FIELDS)})"
_LONGEST_PATTERN = 40_000  # bytes; SQLite refuses LIKE patterns over 50,000
_ROW = "d.doc_id, d.title, d.source, d.path, d.chunk_count, d.language, d.date"  # a DocumentInfo


class ArticleList:
    """The articles of one store.sqlite, a page at a time (see rag.index.base.IndexStore)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:  # mode=rw: never make a missing file
            self._db = GuardedConnection(sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True,
                                                         check_same_thread=False, isolation_level=None,
                                                         timeout=60), path)
        except sqlite3.DatabaseError as exc:
            raise IndexDamagedError(f"{path} cannot be opened ({exc}): rebuild the index with "
                                    "`rag ingest --rebuild PATH...`") from exc
        self._db.create_function(_HOLDS, 5, _holds, deterministic=True)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def documents(self) -> list[DocumentInfo]:
        """Every article with its chunk count, ordered by path (then as they were added)."""
        return self.find()[0]

    def find(self, match: str = "", limit: int | None = None, offset: int = 0) -> tuple[list[DocumentInfo], int]:
        """The articles matching `match`, `limit` of them (None: all) after `offset`, in the
        order of `documents()`, and how many match in all."""
        needle = DocumentInfo.needle(match)
        try:
            needle.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no stored text (valid UTF-8) holds it
            return [], 0
        page = (-1 if limit is None else max(0, limit), max(0, offset))
        with self._lock:
            self._db.execute("BEGIN")  # the page and the count from one snapshot
            try:
                if not needle:
                    where, values = "1", {}
                    rows = self._db.execute(f"SELECT {_ROW} FROM documents d"
                                            " ORDER BY d.path, d.rowid LIMIT ? OFFSET ?", page).fetchall()
                else:
                    where, values = _condition(needle)
                    # `+path`: not the path index, which would visit each row of the table; the
                    # listing index (or the table) is scanned and the matches sorted.
                    rows = self._db.execute(
                        f"SELECT {_ROW} FROM (SELECT rowid AS rid, doc_id, title, source, path, chunk_count,"
                        f" language, date FROM documents WHERE {where} ORDER BY +path, rowid"
                        " LIMIT :limit OFFSET :offset) d ORDER BY d.path, d.rid",
                        {**values, "limit": page[0], "offset": page[1]}).fetchall()
                if (page[0] < 0 or len(rows) < page[0]) and (rows or not page[1]):
                    total = page[1] + len(rows)  # the page reached the end: no second scan to count
                else:
                    total = self._db.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", values).fetchone()[0]
            finally:
                self._db.execute("COMMIT")
        return [DocumentInfo(*r) for r in rows], int(total)

    def info(self, doc_id: str) -> DocumentInfo | None:
        """One article's row (None: not in the index)."""
        with self._lock:
            row = self._db.execute(f"SELECT {_ROW} FROM documents d WHERE d.doc_id = ?", (doc_id,)).fetchone()
        return DocumentInfo(*row) if row else None


def like_pattern(needle: str) -> str:
    """`%needle%` for LIKE ... ESCAPE '\\', the needle's own %, _ and \\ taken literally."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _condition(needle: str) -> tuple[str, dict[str, str]]:
    """The WHERE clause matching `needle` (case-folded) and its parameters."""
    pattern = like_pattern(needle)
    if "\x00" in needle or len(pattern.encode("utf-8")) > _LONGEST_PATTERN:
        # LIKE stops at a NUL and refuses long patterns: Python decides every row (slow, exact).
        return _PYTHON_ONLY, {"needle": needle}
    return _MATCH, {"pattern": pattern, "needle": needle}


def _holds(needle: str, *fields: str | None) -> int:
    return int(DocumentInfo.holds(needle, *fields))
