"""Which files a list of paths holds: to read, failed (with why), skipped (with why).

A folder is walked entry by entry (os.scandir, in name order), and every entry under it that is
not read is reported with the reason, except hidden ones:
- hidden files and folders (names starting with ".") are ignored without a word: they are
  editor, system and version-control files, not articles;
- a name that is not valid UTF-8 cannot be stored or shown as it is: it is skipped, shown with
  its bad bytes escaped ("caf\\xe9.txt"), so that the rest of the folder is read;
- FIFOs, sockets and devices are skipped without being opened (opening a FIFO waits forever);
- links are followed only inside the folder: a link whose target is outside it is reported
  without its target and never opened (ingesting a folder must not read /etc through a link in
  it). A link to a file inside is read once, under the file's own path; a link to a folder
  inside adds nothing the walk does not read anyway, and cannot make it loop.
A path given on the command line is the user's choice: a link there is followed wherever it leads.
Every path and reason returned can be encoded as UTF-8.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from rag.ingest.feeds import SNIFF_BYTES, looks_like_feed
from rag.ingest.formats import SUPPORTED_SUFFIXES

Found = list[tuple[str, str]]  # (path, reason)
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def find_files(paths: list[str | Path]) -> tuple[list[Path], Found, Found]:
    """Files to read under `paths` (folders recursively), given paths that cannot be read
    (path, reason), and entries found under a folder that are not read (path, reason).

    A file of another type whose content starts like an RSS or Atom feed is read as one.
    """
    found: list[Path] = []
    failures: Found = []
    skipped: Found = []
    for given in paths:
        path = Path(given).expanduser()
        problem = _name_problem(str(path), path.is_dir())
        if problem:
            failures.append((shown(path), problem))
            continue
        try:
            mode = path.stat().st_mode  # follows a link: the user named it
        except OSError as exc:
            failures.append((str(path), _stat_problem(path, exc, "no such file or folder")))
            continue
        real = path.resolve()
        problem = _name_problem(str(real), stat.S_ISDIR(mode))
        if problem:
            failures.append((str(path), problem))
        elif stat.S_ISDIR(mode):
            _walk(real, found, skipped)
        elif not stat.S_ISREG(mode):
            failures.append((str(real), _not_regular(mode)))
        elif reason := unsupported_reason(real):
            failures.append((str(real), f"{reason}; supported: {', '.join(SUPPORTED_SUFFIXES)}"))
        else:
            found.append(real)
    files = list(dict.fromkeys(found))
    failed = {path for path, _ in failures}
    skipped = [entry for entry in dict.fromkeys(skipped) if entry[0] not in failed]
    return files, failures, skipped


def unsupported_reason(path: Path) -> str:
    """Why `path` is not read ("unsupported type .png"), or "" when it is."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_SUFFIXES or _is_feed(path):
        return ""
    return f"unsupported type {suffix}" if suffix else "unsupported type (no extension)"


def shown(path: str | Path) -> str:
    """`path` as it can be printed and stored: bytes of a name that are not UTF-8 escaped (\\xe9)."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _walk(root: Path, found: list[Path], skipped: Found) -> None:
    """Add the files to read under the folder `root` (a real path: no links in it) to `found`,
    and the entries not read to `skipped`. Depth first, in name order: as sorted paths are."""
    top = str(root)
    walked = {_identity(os.stat(top))}  # folders listed already, so that a link cannot loop
    pending: list[Iterator[os.DirEntry]] = [_listing(top, skipped)]
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = entry.path
        try:
            info = entry.stat(follow_symlinks=False)
            problem = _name_problem(entry.name, stat.S_ISDIR(info.st_mode))
            if problem:
                skipped.append((shown(path), problem))
                continue
            if entry.is_symlink():
                target = os.path.realpath(path)  # only reads links, opens nothing
                info = os.stat(path)  # the target's type; fails when the link is broken
                if os.path.commonpath([top, target]) != top:
                    kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
                    skipped.append((path, f"link to a {kind} outside the folder; not followed"))
                    continue
                problem = _name_problem(os.path.relpath(target, top), stat.S_ISDIR(info.st_mode))
                if problem:
                    skipped.append((path, problem))
                    continue
                path = target
        except OSError as exc:
            skipped.append((path, _stat_problem(Path(path), exc, "vanished while the folder was read")))
            continue
        if stat.S_ISDIR(info.st_mode):
            if _identity(info) not in walked:
                walked.add(_identity(info))
                pending.append(_listing(path, skipped))
        elif not stat.S_ISREG(info.st_mode):
            skipped.append((path, _not_regular(info.st_mode)))
        elif reason := unsupported_reason(Path(path)):
            skipped.append((path, reason))
        else:
            found.append(Path(path))


def _listing(folder: str, skipped: Found) -> Iterator[os.DirEntry]:
    """The folder's entries in name order; none, and a reason in `skipped`, when it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            return iter(sorted(entries, key=lambda entry: entry.name))
    except OSError as exc:
        skipped.append((folder, f"folder cannot be read: {exc.strerror or exc}"))
        return iter(())


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _name_problem(path: str, is_folder: bool) -> str:
    """Why `path` cannot be read ("name is not valid UTF-8 (caf\\xe9.txt): rename the file"),
    naming its first part that is not UTF-8; "" when it can."""
    parts = Path(path).parts
    for n, part in enumerate(parts, start=1):
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:  # Python decodes the bytes of a name that are not UTF-8 to lone surrogates
            kind = "folder" if is_folder or n < len(parts) else "file"
            return f"name is not valid UTF-8 ({shown(part)}): rename the {kind}"
    return ""


def _stat_problem(path: Path, exc: OSError, missing: str) -> str:
    if exc.errno == errno.ELOOP:
        return "broken link (a loop of links)"
    if isinstance(exc, FileNotFoundError):
        return "broken link" if path.is_symlink() else missing
    return f"cannot be read: {exc.strerror or exc}"


def _not_regular(mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), "not a file or folder")
    return f"not a regular file ({kind})"


def _is_feed(path: Path) -> bool:
    try:  # without blocking, should the file have been replaced by a FIFO since it was listed
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    with os.fdopen(descriptor, "rb") as handle:
        try:
            return stat.S_ISREG(os.fstat(descriptor).st_mode) and looks_like_feed(handle.read(SNIFF_BYTES))
        except OSError:
            return False
