"""Uploaded files into the uploads folder: safe names, a new version replacing an earlier one
(kept aside until the ingest says it could be read), and the folder settled afterwards.
Plain file handling: no HTML, no engine (ui/uploads.py ingests them)."""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from rag.ingest.pipeline import file_sha256
from rag.ingest.readers import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file copied into the uploads folder. `created` is False if the same file was
    there already; `previous` holds the earlier version it replaced, until `settle_uploads`."""

    original_name: str
    path: Path
    created: bool
    previous: Path | None = None


def sanitise_filename(name: str) -> str:
    """A safe file name from an uploaded one: no folders, no leading dots, only letters, digits,
    '.', '-' and '_' (other runs become '_'), at most 120 characters, the suffix kept."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1]).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    clean = lambda s: re.sub(r"[^\w.-]+", "_", s, flags=re.UNICODE).strip("._")  # noqa: E731
    stem, suffix = clean(stem)[:100] or "article", clean(suffix)[:16]
    return f"{stem}.{suffix}" if suffix else stem


def is_supported_upload(name: str) -> bool:
    return Path(name).suffix.lower() in SUPPORTED_SUFFIXES


def store_upload(source: Path, folder: Path, original_name: str) -> StoredUpload:
    """Copy an uploaded file into `folder` under its sanitised name. An upload with the name of
    an earlier one is its new version, as `rag ingest` treats a changed file at the same path:
    it replaces the file (the same content is left as it is). The replaced version is kept
    aside as a hidden file (folder walks skip those) until `settle_uploads`, so a new version
    that cannot be read can be undone."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / sanitise_filename(original_name)
    if target.is_file() and file_sha256(target) == file_sha256(source):
        return StoredUpload(original_name, target, created=False)
    previous = None
    if target.is_file():
        previous = folder / f".{target.name}.previous"
        shutil.copy2(target, previous)
    shutil.copyfile(source, target)
    return StoredUpload(original_name, target, created=previous is None, previous=previous)


def settle_uploads(stored: Sequence[StoredUpload], failed_paths: Iterable[str | Path]) -> None:
    """After ingesting `stored`: a new file that failed to read is deleted; a new version that
    failed gives way to the version it replaced (which the index still holds); the kept-aside
    version of one that was read is deleted."""
    failed = {str(Path(p).resolve()) for p in failed_paths}
    for upload in stored:
        broken = str(upload.path.resolve()) in failed
        if upload.previous is not None:
            if broken:
                shutil.copy2(upload.previous, upload.path)
            upload.previous.unlink(missing_ok=True)
        elif broken and upload.created:
            upload.path.unlink(missing_ok=True)


def unique_uploads(files: Sequence[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """(path, name) pairs with one per stored name: of two files that would be stored under the
    same name in one upload, the later is the new version."""
    last = {sanitise_filename(name): (path, name) for path, name in files}
    return list(last.values())
