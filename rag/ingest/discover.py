"""Which files a list of paths holds: to read, failed (with why), skipped (with why)."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.feeds import SNIFF_BYTES, looks_like_feed
from rag.ingest.formats import SUPPORTED_SUFFIXES


def find_files(paths: list[str | Path]) -> tuple[list[Path], list[tuple[str, str]], list[tuple[str, str]]]:
    """Files to read under `paths` (folders recursively), given paths that cannot be read
    (path, reason), and files found under a folder that are not read (path, reason).

    Hidden files and folders (names starting with ".") under a folder are ignored without a
    word: they are editor, system and version-control files, not articles. A file of another
    type whose content starts like an RSS or Atom feed is read as one.
    """
    found: list[Path] = []
    failures: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            for entry in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in entry.relative_to(path).parts) or not entry.is_file():
                    continue
                reason = unsupported_reason(entry)
                if reason:
                    skipped.append((str(entry.resolve()), reason))
                else:
                    found.append(entry)
        elif path.is_file():
            reason = unsupported_reason(path)
            if reason:
                failures.append((str(path.resolve()), f"{reason}; supported: {', '.join(SUPPORTED_SUFFIXES)}"))
            else:
                found.append(path)
        else:
            failures.append((str(path), "no such file or folder"))
    files = list(dict.fromkeys(p.resolve() for p in found))
    failed = {path for path, _ in failures}
    skipped = [entry for entry in dict.fromkeys(skipped) if entry[0] not in failed]
    return files, failures, skipped


def unsupported_reason(path: Path) -> str:
    """Why `path` is not read ("unsupported type .png"), or "" when it is."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_SUFFIXES or _is_feed(path):
        return ""
    return f"unsupported type {suffix}" if suffix else "unsupported type (no extension)"


def _is_feed(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return looks_like_feed(handle.read(SNIFF_BYTES))
    except OSError:
        return False
