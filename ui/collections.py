"""The index folders `rag serve` answers from: each a named collection with its own Engine and
its own conversations (rag.conversations, in its folder). The first is the default.

`rag serve --index A --index news=B` serves A under its folder's name and B as "news".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from rag.conversations import ConversationStore

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.engine import Engine

NAME = re.compile(r"\w[\w .-]{0,39}")


class UnknownCollection(LookupError):
    """A request named a collection this server does not have; the message lists them."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Collection:
    """An index folder served under `name`. `conversations` is None on a read-only server."""

    name: str
    engine: "Engine"
    conversations: ConversationStore | None

    @property
    def index_dir(self) -> Path:
        return Path(self.engine.index_dir)


class Collections:
    """The collections of one server, in the order given; the first is the default."""

    def __init__(self, items: Sequence[Collection]) -> None:
        if not items:
            raise ValueError("a server needs at least one collection")
        self._items = {c.name: c for c in items}
        if len(self._items) != len(items):
            raise ValueError("two collections have the same name")

    @classmethod
    def of(cls, source: "Engine | Collections", read_only: bool = False) -> "Collections":
        """`source` as collections: an Engine alone is one collection named after its folder."""
        if isinstance(source, Collections):
            return source
        store = None if read_only else ConversationStore.in_index(source.index_dir)
        return cls([Collection(default_name(Path(source.index_dir)), source, store)])

    def __iter__(self) -> Iterator[Collection]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    @property
    def names(self) -> list[str]:
        return list(self._items)

    @property
    def default(self) -> Collection:
        return next(iter(self._items.values()))

    def get(self, name: str | None) -> Collection:
        """The collection called `name` (None or "": the default); UnknownCollection otherwise."""
        if not name:
            return self.default
        found = self._items.get(name)
        if found is None:
            raise UnknownCollection(f"no collection named {name!r} (this server has: {', '.join(self.names)}; "
                                    "GET /api/collections lists them)")
        return found


def default_name(folder: Path) -> str:
    """A folder's collection name: its own name, with characters other than letters, digits,
    space, '.', '-' and '_' replaced by '-'."""
    name = re.sub(r"[^\w .-]+", "-", folder.expanduser().name).strip(" .-")[:40]
    return name or "index"


def parse_index_option(value: str) -> tuple[str, Path]:
    """(name, folder) of one `--index` value: NAME=PATH, or a PATH named after its folder."""
    name, sep, path = value.partition("=")
    if sep and path and NAME.fullmatch(name.strip()):
        return name.strip(), Path(path).expanduser()
    return default_name(Path(value)), Path(value).expanduser()


def plan_collections(values: Sequence[str], default_dir: Path) -> list[tuple[str, Path]]:
    """The (name, folder) of each `--index` value, or the default folder alone when none is given;
    ValueError when two share a name or a folder (name one with NAME=PATH)."""
    plan = [parse_index_option(v) for v in values] or [(default_name(default_dir), default_dir.expanduser())]
    names, folders = {}, {}
    for name, folder in plan:
        if name in names:
            raise ValueError(f"two --index folders are named {name!r} ({names[name]} and {folder}): name one "
                             "with --index NAME=PATH")
        if folder.resolve() in folders:
            raise ValueError(f"the folder {folder} is given twice (as {folders[folder.resolve()]!r} and {name!r})")
        names[name], folders[folder.resolve()] = folder, name
    return plan


def open_collections(settings: "Settings", plan: Sequence[tuple[str, Path]], read_only: bool = False) -> Collections:
    """An Engine per folder of `plan`, all sharing one embedding model (loaded when first used)."""
    from embeddings import make_embedder
    from rag.engine import Engine

    if len(plan) > 1 and settings.store.backend != "local":
        raise ValueError("several --index folders need the local store: with store.backend "
                         f"{settings.store.backend!r} every folder would be the same collection")
    embedder = make_embedder(settings.embedding)
    return Collections([Collection(name, engine := Engine(settings, folder, embedder=embedder),
                                   None if read_only else ConversationStore.in_index(engine.index_dir))
                        for name, folder in plan])
