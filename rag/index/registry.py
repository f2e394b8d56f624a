"""Store backends by name: a new backend is one module and one line in BACKENDS."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rag.config import Settings
from rag.index.base import IndexStore


def _local(settings: Settings, index_dir: Path, create: bool) -> IndexStore:
    from rag.index.local import LocalStore

    return LocalStore(index_dir, create=create)


def _milvus(settings: Settings, index_dir: Path, create: bool) -> IndexStore:
    from rag.index.milvus import open_milvus

    return open_milvus(settings.store, create)


BACKENDS: dict[str, Callable[[Settings, Path, bool], IndexStore]] = {
    "local": _local,
    "milvus": _milvus,
}


def open_store(settings: Settings, index_dir: Path, create: bool = False) -> IndexStore:
    """The store that `settings.store.backend` names (local: the folder `index_dir`)."""
    backend = getattr(getattr(settings, "store", None), "backend", "local")
    if backend not in BACKENDS:
        raise ValueError(f"store.backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    return BACKENDS[backend](settings, index_dir, create)


def begin_rebuild(settings: Settings, index_dir: Path) -> tuple[IndexStore, Callable[[], None], list[str]]:
    """(an empty store to rebuild into, the call that makes it the index, the files the current
    index lists that still exist). The current index answers until the call. A local index
    too old or too damaged to open is rebuilt from the files its old manifest lists."""
    from rag.errors import IndexProblem

    try:
        current = open_store(settings, index_dir, create=True)
    except IndexProblem:
        from rag.index.layout import new_data_folder, old_format_files, pointer_lost, switch_to

        if getattr(getattr(settings, "store", None), "backend", "local") != "local" or pointer_lost(index_dir):
            raise  # a lost pointer is repaired (`rag check --repair`), never built over
        from rag.index.local import LocalStore

        target = LocalStore(index_dir, folder=new_data_folder(index_dir))
        return target, lambda: switch_to(index_dir, target.folder), old_format_files(index_dir)
    known = [p for p in current.file_records(None) if Path(p).exists()]
    target = current.rebuild_target()

    def publish() -> None:
        current.replace_with(target)

    return target, publish, known
