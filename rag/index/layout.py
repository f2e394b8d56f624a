"""Where an index's files are: the pointer to its data folder, the writer's lock, old formats.

    INDEX/index.json   {"format": 3, "data": "d000001"}, replaced atomically on a rebuild
    INDEX/d000001/     the data folder (rag.index.local)
    INDEX/.lock        one writer at a time, across processes
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

from rag.errors import IndexDamagedError, IndexMismatchError, IndexMissingError
from rag.index.records import FORMAT

POINTER = "index.json"
OLD_MANIFEST = "manifest.json"  # format 2 and before: generation folders named by a manifest


def has_index(root: Path) -> bool:
    return (root / POINTER).is_file() or (root / OLD_MANIFEST).is_file()


def is_old_format(root: Path) -> bool:
    """An index of format 2 or before at `root` (a manifest, no pointer): unreadable, rebuilt on
    the next ingest from the files it lists."""
    return (root / OLD_MANIFEST).is_file() and not (root / POINTER).is_file()


def read_pointer(root: Path) -> dict:
    """index.json, checked; IndexMissingError when there is no index at `root`."""
    path = root / POINTER
    if not path.is_file():
        if (root / OLD_MANIFEST).is_file():
            raise IndexMismatchError(
                f"index at {root} is in an older format; this rag reads format {FORMAT}: "
                f"run `rag ingest --rebuild --index {root}` (it re-reads the files the old index lists)")
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
    """A fresh, empty data folder next to the one in use (for a first build or a rebuild)."""
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[1:]) for p in root.glob("d[0-9]*") if p.name[1:].isdigit()]
    folder = root / f"d{max(numbers, default=0) + 1:06d}"
    folder.mkdir()
    return folder


def switch_to(root: Path, folder: Path) -> None:
    """Point index.json at `folder` (atomically), then remove every other data folder and
    anything an older format or a crashed write left."""
    tmp = root / f".{POINTER}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump({"format": FORMAT, "data": folder.name}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, root / POINTER)
    finally:
        tmp.unlink(missing_ok=True)
    remove_leftovers(root, keep=folder.name)


def remove_leftovers(root: Path, keep: str) -> None:
    """Old data folders, old-format generations and temporary files (only a writer calls this)."""
    for entry in root.iterdir():
        name = entry.name
        old_data = name.startswith("d") and name[1:].isdigit() and name != keep
        old_format = (name.startswith("g") and name[1:].isdigit()) or name.startswith(".building-") \
            or name == OLD_MANIFEST
        if entry.is_dir() and (old_data or old_format):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and (name.endswith(".tmp") or name == OLD_MANIFEST):
            entry.unlink(missing_ok=True)
    folder = root / keep
    if folder.is_dir():
        for entry in folder.glob(".*.tmp"):
            entry.unlink(missing_ok=True)


def old_format_files(root: Path) -> list[str]:
    """The files an index of an older format lists (for `rag ingest --rebuild` with no paths)."""
    try:
        data = json.loads((root / OLD_MANIFEST).read_text(encoding="utf-8"))
        return [p for p in (data.get("files") or {}) if Path(p).exists()]
    except (OSError, ValueError, AttributeError):
        return []


def _say_waiting(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
