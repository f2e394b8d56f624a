"""The index manifest: what the index was built with, and which files (by hash) it holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

SCHEMA_VERSION = 2  # 2: file positions (offsets and lines) of every chunk
MANIFEST_NAME = "manifest.json"


from rag.errors import IndexMismatchError, IndexMissingError, IndexProblem  # noqa: E402,F401


class FileRecord(BaseModel):
    sha256: str
    documents: list[str]


class Manifest(BaseModel):
    schema_version: int = SCHEMA_VERSION
    generation: int
    model: str
    dimension: int
    chunking: dict
    embedding_text: dict
    keyword: dict
    files: dict[str, FileRecord] = {}
    documents: int = 0
    chunks: int = 0
    updated: str = ""

    def build_settings(self) -> dict:
        """The settings that shaped the stored data; a change to any means a rebuild."""
        return {"model": self.model, "chunking": self.chunking,
                "embedding_text": self.embedding_text, "keyword": self.keyword}


def read_manifest(root: Path) -> Manifest | None:
    path = root / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexProblem(f"{path} is unreadable ({exc}): run `rag ingest --rebuild PATH...`") from exc
    if data.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"index at {root} has format version {data.get('schema_version')}, this rag reads "
            f"version {SCHEMA_VERSION}: run `rag ingest --rebuild --index {root}`")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise IndexProblem(f"{path} is damaged ({exc.error_count()} problems): "
                          f"run `rag ingest --rebuild --index {root}`") from exc


def read_raw_manifest(root: Path) -> dict:
    """Whatever JSON object the manifest holds, of any version ({} when unreadable): enough for
    a rebuild to find the files and the generation number of an outdated index."""
    try:
        data = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Write atomically: a reader sees the old manifest or the new one, never half of one."""
    tmp = root / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(manifest.model_dump_json(indent=2))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, root / MANIFEST_NAME)


def check_compatible(manifest: Manifest, expected: dict, root: Path) -> None:
    """Raise IndexMismatchError naming each difference between the index and the config."""
    built = manifest.build_settings()
    differences = [
        f"{key}: index has {json.dumps(built[key], sort_keys=True)}, config asks for "
        f"{json.dumps(expected[key], sort_keys=True)}"
        for key in expected if built.get(key) != expected[key]
    ]
    if differences:
        raise IndexMismatchError(
            f"index at {root} was built with other settings ({'; '.join(differences)}): "
            f"run `rag ingest --rebuild --index {root}` to rebuild it with the current config")
