"""Where an index's files are: the pointer to its data folder, the writer's lock, old formats.

    INDEX/index.json   {"format": 3, "data": "d000001"}, replaced atomically on a rebuild
    INDEX/d000001/     the data folder (rag.index.local)
    INDEX/d000002/BUILDING   a build in progress (a rebuild, or the very first build)
    INDEX/.lock        one writer at a time, across processes

The pointer is the one authority on which data folder is the index. A data folder is made with a
BUILDING marker, which is removed just before the pointer names it: so a folder without the marker
has been the index, and a folder with it is a build that never completed. Without a pointer, a
data folder is damage to repair (`rag check --repair` points index.json at the newest complete
one), never an empty index to start again: nothing deletes a data folder but a writer switching
the pointer, and then only builds that never completed and the folders the index has outgrown.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from rag.errors import IndexDamagedError, IndexMismatchError, IndexMissingError, IndexProblem
from rag.index.records import FORMAT

POINTER = "index.json"
OLD_MANIFEST = "manifest.json"  # format 2 and before: generation folders named by a manifest
BUILDING = "BUILDING"  # in a data folder: a build in progress (or one that never completed)


def has_index(root: Path) -> bool:
    """Whether `root` holds an index: a pointer, an old manifest, or complete data folders
    (whose pointer is missing: damage that `read_pointer` reports)."""
    return (root / POINTER).is_file() or (root / OLD_MANIFEST).is_file() or bool(complete_data_folders(root))


def pointer_lost(root: Path) -> bool:
    """Whether index.json is missing though complete data folders are there (damage)."""
    return not (root / POINTER).is_file() and not (root / OLD_MANIFEST).is_file() and bool(complete_data_folders(root))


def data_folders(root: Path) -> list[Path]:
    """Every data folder (d000001, ...) at `root`, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(p.name[1:]), p) for p in root.iterdir() if p.name[:1] == "d" and p.name[1:].isdigit() and p.is_dir()]
    return [p for _, p in sorted(found)]


def complete_data_folders(root: Path) -> list[Path]:
    """The data folders that have been the index (no BUILDING marker), oldest first."""
    return [p for p in data_folders(root) if not (p / BUILDING).exists()]


def is_old_format(root: Path) -> bool:
    """An index of an older format at `root`: of format 2 or before (a manifest, no pointer), or
    a pointer naming an older format. Unreadable; rebuilt on the next ingest from the files it
    lists."""
    if not (root / POINTER).is_file():
        return (root / OLD_MANIFEST).is_file()
    try:
        format_ = json.loads((root / POINTER).read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(format_, int) and format_ < FORMAT


def read_pointer(root: Path) -> dict:
    """index.json, checked; IndexMissingError when there is no index at `root`."""
    path = root / POINTER
    if not path.is_file():
        if (root / OLD_MANIFEST).is_file():
            raise IndexMismatchError(
                f"index at {root} is in an older format; this rag reads format {FORMAT}: "
                f"run `rag ingest --rebuild --index {root}` (it re-reads the files the old index lists)")
        complete = complete_data_folders(root)
        if complete:
            raise IndexDamagedError(
                f"{path} is missing, but {root} holds index data ({', '.join(p.name for p in complete)}): "
                f"run `rag check --repair --index {root}` to point it at the newest complete data folder")
        raise IndexMissingError(f"no index at {root} yet: run `rag ingest PATH... --index {root}`")
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
        folder = root / pointer["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexDamagedError(f"{path} is damaged ({exc}): run `rag ingest --rebuild PATH... --index {root}`") from exc
    if pointer.get("format") != FORMAT:
        raise IndexMismatchError(f"index at {root} has format {pointer.get('format')}, this rag reads "
                                 f"format {FORMAT}: run `rag ingest --rebuild --index {root}`")
    if not folder.is_dir():
        raise IndexDamagedError(f"{folder} is missing: run `rag ingest --rebuild PATH... --index {root}`")
    return pointer


def data_folder(root: Path) -> Path:
    """The data folder in use (errors as read_pointer)."""
    return root / read_pointer(root)["data"]


def new_data_folder(root: Path) -> Path:
    """A fresh, empty data folder after every other one, marked BUILDING (for a first build or
    a rebuild): it is not the index until `switch_to` names it."""
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[1:]) for p in data_folders(root)]
    folder = root / f"d{max(numbers, default=0) + 1:06d}"
    folder.mkdir()
    (folder / BUILDING).write_text("a build in progress; removed when it becomes the index\n")
    return folder


def switch_to(root: Path, folder: Path) -> None:
    """Make `folder` the index: clear its BUILDING mark, point index.json at it (atomically),
    then remove what the index has outgrown (see `remove_leftovers`)."""
    try:
        previous = read_pointer(root)["data"]
    except IndexProblem:
        previous = None
    (folder / BUILDING).unlink(missing_ok=True)
    _write_pointer(root, folder)
    remove_leftovers(root, keep=folder.name, replaced=previous)


def _write_pointer(root: Path, folder: Path) -> None:
    tmp = root / f".{POINTER}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump({"format": FORMAT, "data": folder.name}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, root / POINTER)
    finally:
        tmp.unlink(missing_ok=True)


def recover_pointer(root: Path) -> str | None:
    """Point a pointer-less index at its newest complete data folder (only a writer calls
    this); returns what was done, or None when there was nothing to recover."""
    if (root / POINTER).is_file() or (root / OLD_MANIFEST).is_file():
        return None
    complete = [p for p in complete_data_folders(root) if (p / "store.sqlite").is_file()]
    if not complete:
        return None
    _write_pointer(root, complete[-1])
    return f"{root / POINTER} was missing: pointed it at {complete[-1].name}, the newest complete data folder"


def remove_leftovers(root: Path, keep: str, replaced: str | None = None) -> None:
    """What the index in `keep` has outgrown (only a writer holding the lock calls this): builds
    that never completed (BUILDING), the data folder `replaced` that was the index until now and
    complete folders older than it (earlier versions a crash left), old-format generations and
    temporary files. Any other complete data folder is left alone: it is not known to be a
    leftover (`rag check` reports it)."""
    oldest_kept = int(replaced[1:]) if replaced and replaced[1:].isdigit() else 0
    for entry in root.iterdir():
        name = entry.name
        is_data = entry.is_dir() and name[:1] == "d" and name[1:].isdigit() and name != keep
        outgrown = is_data and ((entry / BUILDING).exists() or int(name[1:]) <= oldest_kept)
        old_format = (name.startswith("g") and name[1:].isdigit()) or name.startswith(".building-") \
            or name == OLD_MANIFEST
        if entry.is_dir() and (outgrown or old_format):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and (name.endswith(".tmp") or name == OLD_MANIFEST):
            entry.unlink(missing_ok=True)
    remove_temporary_files(root / keep)


def remove_temporary_files(folder: Path) -> None:
    """Temporary files a killed writer left in a data folder (.dense-....faiss.<pid>.tmp, ...)."""
    if folder.is_dir():
        for entry in folder.glob(".*.tmp"):
            entry.unlink(missing_ok=True)


def old_format_files(root: Path) -> list[str]:
    """The files an index of an older format lists that still exist (for the rebuild that
    upgrades it): a format 2 manifest's, or the `files` table of a format 3 record."""
    if (root / POINTER).is_file():
        import sqlite3

        try:
            folder = root / json.loads((root / POINTER).read_text(encoding="utf-8"))["data"]
            db = sqlite3.connect(f"{(folder / 'store.sqlite').resolve().as_uri()}?mode=ro", uri=True)
            try:
                paths = [row[0] for row in db.execute("SELECT path FROM files")]
            finally:
                db.close()
        except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
            return []
        return [p for p in paths if Path(p).exists()]
    try:
        data = json.loads((root / OLD_MANIFEST).read_text(encoding="utf-8"))
        return [p for p in (data.get("files") or {}) if Path(p).exists()]
    except (OSError, ValueError, AttributeError):
        return []


def _say_waiting(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def write_lock_if_free(root: Path) -> Iterator[bool]:
    """The writer's lock when nobody holds it (yields True), else nothing (False): for upkeep a
    reader may do when no writer is at work, such as catching up after a crashed write."""
    try:
        handle = open(root / ".lock", "a")
    except OSError:
        yield False
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def write_lock(root: Path, waiting: Callable[[str], None] = _say_waiting) -> Iterator[None]:
    """One writer at a time per index folder, across processes; says so when it has to wait."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting(f"waiting for the index lock: another process is writing to {root}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
