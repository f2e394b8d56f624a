"""The index folder on disk: one generation folder per write, switched by rewriting the manifest.

    INDEX/manifest.json      names the current generation; written last, atomically
    INDEX/g000007/           store.sqlite, dense.faiss, keyword/ (bm25s files)
    INDEX/.lock              held while a writer builds the next generation

A writer copies the current generation into a temporary folder, changes the copy, renames it
into place and only then points the manifest at it. A crash at any step leaves the previous
generation intact and in use; leftovers are removed by the next write.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rag.index.dense import DenseIndex
from rag.index.manifest import IndexMissingError, Manifest, read_manifest, write_manifest
from rag.index.sparse import KeywordIndex
from rag.index.store import ChunkStore

STORE_NAME = "store.sqlite"
DENSE_NAME = "dense.faiss"
KEYWORD_NAME = "keyword"


def generation_name(generation: int) -> str:
    return f"g{generation:06d}"


@dataclass
class Snapshot:
    """One generation of the index, loaded: everything a query needs."""

    root: Path
    manifest: Manifest
    store: ChunkStore
    dense: DenseIndex
    keyword: KeywordIndex


def load_snapshot(root: Path) -> Snapshot:
    """The current generation at `root`; IndexMissingError when there is none yet."""
    manifest = read_manifest(root)
    if manifest is None:
        raise IndexMissingError(f"no index at {root} yet: run `rag ingest PATH... --index {root}`")
    folder = root / generation_name(manifest.generation)
    return Snapshot(root, manifest, ChunkStore(folder / STORE_NAME),
                    DenseIndex.load(folder / DENSE_NAME), KeywordIndex.load(folder / KEYWORD_NAME))


@contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """One writer at a time per index folder, across processes."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class GenerationWriter:
    """Builds the next generation in a temporary folder; `commit` makes it current."""

    def __init__(self, root: Path, previous: Manifest | None, generation: int, dimension: int) -> None:
        """Start from `previous` (None: from empty) towards generation number `generation`."""
        self.root = root
        self.generation = generation
        self.folder = root / f".building-{generation_name(self.generation)}-{os.getpid()}"
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        if previous:
            old = root / generation_name(previous.generation)
            shutil.copy2(old / STORE_NAME, self.folder / STORE_NAME)
            self.dense = DenseIndex.load(old / DENSE_NAME)
        else:
            self.dense = DenseIndex.empty(dimension)
        self.store = ChunkStore(self.folder / STORE_NAME)

    def commit(self, manifest: Manifest) -> None:
        """Save everything, move it into place, then switch the manifest to it."""
        self.store.commit()
        ids, texts, titles = self.store.all_chunk_texts()
        keyword = KeywordIndex.build(ids, texts, manifest.keyword["stemming"])
        keyword.save(self.folder / KEYWORD_NAME)
        self.dense.save(self.folder / DENSE_NAME)
        self.store.close()
        final = self.root / generation_name(self.generation)
        if final.exists():
            shutil.rmtree(final)  # left by a write that crashed before switching the manifest
        os.replace(self.folder, final)
        write_manifest(self.root, manifest.model_copy(update={"generation": self.generation}))
        self._remove_stale(keep=final.name)

    def abort(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _remove_stale(self, keep: str) -> None:
        for entry in self.root.iterdir():
            stale_generation = entry.name.startswith("g") and entry.name[1:].isdigit() and entry.name != keep
            if entry.is_dir() and (stale_generation or entry.name.startswith(".building-")):
                shutil.rmtree(entry, ignore_errors=True)
