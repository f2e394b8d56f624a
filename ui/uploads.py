"""Uploaded files into the index, the same way for the chat and the REST API: checked against
the limits, copied into INDEX/uploads/ (ui.upload_files.store_upload), ingested; removal deletes an
uploaded file left without articles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from ui.upload_files import StoredUpload, is_supported_upload, settle_uploads, store_upload, unique_uploads
from ui.limits import UploadLimits, refuse_uploads

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.types import IngestReport


@dataclass(frozen=True)
class UploadOutcome:
    """What an upload did: `refused` (limits) means nothing was stored; `rejected` names files
    of an unsupported type, skipped while the others were indexed."""

    report: "IngestReport | None" = None
    stored: tuple[StoredUpload, ...] = ()
    rejected: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


def uploads_folder(engine: "Engine") -> Path:
    """INDEX/uploads/: where uploaded files are kept."""
    return Path(engine.index_dir).expanduser().resolve() / "uploads"


def ingest_uploads(engine: "Engine", files: Sequence[tuple[Path, str]], limits: UploadLimits,
                   progress: Callable[[str, int, int], None] | None = None) -> UploadOutcome:
    """Index uploaded files given as (temporary path, name the user gave it). A name given
    twice: the later file counts. An upload with the name of an earlier one is its new version
    (ui.upload_files.store_upload); a file that fails to read is not kept, and a new version that fails
    gives way to the one it replaced (ui.upload_files.settle_uploads)."""
    folder = uploads_folder(engine)
    files = unique_uploads(list(files))
    supported = [(path, name) for path, name in files if is_supported_upload(name)]
    rejected = tuple(name for _, name in files if not is_supported_upload(name))
    refused = refuse_uploads([(name, Path(path).stat().st_size) for path, name in files], folder, limits)
    if refused:
        return UploadOutcome(refused=tuple(refused))
    stored = tuple(store_upload(Path(path), folder, name) for path, name in supported)
    if not stored:
        return UploadOutcome(rejected=rejected)
    report = None
    try:
        report = engine.ingest([s.path for s in stored], progress=progress)
    finally:  # also when the ingest fails as a whole: nothing kept aside is left behind
        settle_uploads(stored, [f.path for f in report.failures] if report else [s.path for s in stored])
    return UploadOutcome(report, stored, rejected)


def remove_document(engine: "Engine", doc_id: str) -> bool:
    """Remove one article; an uploaded file left without articles is deleted too. False if the
    article was not in the index."""
    info = engine.document_info(doc_id)
    if info is None or doc_id not in engine.remove([doc_id]):
        return False
    delete_orphan_upload(engine, Path(info.path))
    return True


def delete_orphan_upload(engine: "Engine", path: Path) -> None:
    """Delete `path` if it is an uploaded file no indexed article comes from any more."""
    if path.parent != uploads_folder(engine):
        return
    # Articles whose path holds this one's text (the store matches it), then the same path exactly.
    if not any(Path(i.path) == path for i in engine.documents(str(path))):
        path.unlink(missing_ok=True)
