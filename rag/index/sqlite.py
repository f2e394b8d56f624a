"""SQLite connections whose damage errors say which file is damaged and what to run.

A garbled page of store.sqlite surfaces as `sqlite3.DatabaseError: database disk image is
malformed` from whichever query first reads it, often while iterating a cursor. Every query of
the local record goes through `GuardedConnection`, so that error becomes one IndexDamagedError
naming the file and the repair, whatever command ran into it, instead of a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator

from rag.errors import IndexDamagedError

# OperationalErrors that mean the file itself is bad (others: locked, busy, full disk, ...).
_DAMAGE_WORDS = ("malformed", "not a database", "disk i/o error", "no such table", "no such column", "could not decode",
                 "database corrupt", "file is encrypted")


def is_damage(exc: BaseException) -> bool:
    """Whether a sqlite3 error means the database file is damaged (not busy, full or misused)."""
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return False
    if type(exc) is sqlite3.DatabaseError:
        return True
    return isinstance(exc, sqlite3.DatabaseError) and any(w in str(exc).lower() for w in _DAMAGE_WORDS)


def damaged(path: Path, exc: BaseException) -> IndexDamagedError:
    return IndexDamagedError(f"{path} is damaged ({exc}): run `rag check --index {path.parent.parent}` to see "
                             "what can be saved, or rebuild the index with `rag ingest --rebuild PATH...` "
                             "(naming your article folders)")


class GuardedCursor:
    """A cursor whose reads turn damage errors into IndexDamagedError."""

    def __init__(self, cursor: sqlite3.Cursor, path: Path) -> None:
        self._cursor = cursor
        self._path = path

    def _guard(self, read, *args):
        try:
            return read(*args)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise damaged(self._path, exc) from exc
            raise

    def fetchone(self) -> Any:
        return self._guard(self._cursor.fetchone)

    def fetchall(self) -> list:
        return self._guard(self._cursor.fetchall)

    def __iter__(self) -> Iterator:
        while True:
            rows = self._guard(self._cursor.fetchmany, 1024)
            if not rows:
                return
            yield from rows

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class GuardedConnection:
    """An sqlite3 connection for one file of the index (see the module docstring)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    def _guard(self, call, *args) -> Any:
        try:
            return call(*args)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise damaged(self.path, exc) from exc
            raise

    def execute(self, sql: str, parameters: Any = ()) -> GuardedCursor:
        return GuardedCursor(self._guard(self._db.execute, sql, parameters), self.path)

    def executemany(self, sql: str, rows: Any) -> GuardedCursor:
        return GuardedCursor(self._guard(self._db.executemany, sql, rows), self.path)

    def executescript(self, script: str) -> None:
        self._guard(self._db.executescript, script)

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._db.create_function(*args, **kwargs)

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def close(self) -> None:
        self._db.close()
