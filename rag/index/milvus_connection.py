"""The Milvus backend's connection and committed state: every request goes through `_guard`
(one-line errors naming the server and the fix, reconnect after an outage, collections loaded
after a server restart), and readers see the state the meta row "head" points at."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from rag.errors import IndexMissingError, IndexProblem, StoreUnavailableError
from rag.index.milvus_schema import in_list, quiet_pymilvus, translate

BATCH = 500  # rows per insert; values per `in [...]` filter
GRACE = 60.0  # seconds replaced rows stay after the commit that replaced them (questions in flight)
LIMIT = 16_384  # Milvus's largest query window and top-k
T = TypeVar("T")


class MilvusConnection:
    """A client of one Milvus server and the index state under one collection prefix."""

    backend = "milvus"

    def __init__(self, uri: str, collection: str = "rag", token: str | None = None, dense_index: str = "flat",
                 timeout: float = 30.0, create: bool = False, namespace: str = "", first_chunk_id: int = 0) -> None:
        """Open the index at `uri` under the prefix `collection` (IndexMissingError when there is
        none, unless `create`). The token defaults to $RAG_MILVUS_TOKEN. `namespace` and
        `first_chunk_id` are for a rebuild target (see `rebuild_target`)."""
        self.uri, self.prefix, self.dense_index, self.timeout = uri, collection, dense_index, timeout
        self.location = f"{uri} (collections {collection}_*)"
        self._token = token if token is not None else os.environ.get("RAG_MILVUS_TOKEN", "")
        self._keys = f"{namespace}/" if namespace else ""
        self._new_data = f"{collection}_{namespace}" if namespace else collection
        self._first_chunk_id = first_chunk_id
        self._client = None
        self._state: dict | None = None  # the committed state this process reads at
        self._cleaned = 0  # the generation whose frequency changes are applied
        self._swept = 0  # the generation up to which replaced rows are deleted
        self.grace = GRACE
        self._lock = threading.RLock()
        self._row_cache: OrderedDict = OrderedDict()  # (data namespace, chunk id) -> row (milvus.py)
        self._rows_lock = threading.Lock()
        self._connect_lock = threading.Lock()
        self._counted: tuple = (None, 0)  # ((data, generation), visible chunks) of the last check
        if not create and not namespace and self._load() is None:
            raise IndexMissingError(f"no index at {self.location} yet: run `rag ingest PATH...` "
                                    "(or `rag migrate --to milvus` to copy a local index)")

    # plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator:
        """The client; a failure becomes a one-line error naming the server and the fix."""
        try:
            with self._connect_lock:
                if self._client is None:
                    self._client = self._connect()
            yield self._client
        except IndexProblem:
            raise
        except Exception as exc:  # noqa: BLE001 - only Milvus and gRPC errors are translated
            if not _is_milvus_error(exc):
                raise
            if _not_loaded(exc):
                self.close()  # the next client loads the collections
                raise NotLoadedError(f"the Milvus server at {self.uri} has not loaded {self.prefix}_*: "
                                     "ask again (it is being loaded)") from None
            problem = translate(exc, self.uri, self.prefix)
            if isinstance(problem, StoreUnavailableError):
                self.close()  # reconnect on the next call
            raise problem from None

    def _connect(self):
        from pymilvus import MilvusClient

        quiet_pymilvus()
        # A connection of its own (not pymilvus's per-process shared one): closing it after an
        # outage really drops the channel, so the next request connects afresh.
        client = MilvusClient(self.uri, token=self._token, timeout=min(self.timeout, 10.0), dedicated=True)
        try:
            # A restarted server answers with its collections released: load ours (a no-op when
            # they are loaded).
            for name in client.list_collections(timeout=self.timeout):
                if name.startswith(f"{self.prefix}_"):
                    client.load_collection(name, timeout=self.timeout)
        except Exception:
            client.close()
            raise
        return client

    def _meta(self) -> str:
        return f"{self.prefix}_meta"

    def _query(self, name: str, filter: str, fields: list[str]) -> list[dict]:
        """Every row matching `filter` (past Milvus's query window by iterating)."""
        with self._guard() as client:
            rows = list(client.query(name, filter=filter, output_fields=fields, limit=LIMIT, timeout=self.timeout))
        if len(rows) < LIMIT or fields == ["count(*)"]:
            return rows
        return list(self._iterate(name, filter, fields))

    def _query_in(self, name: str, field: str, values: list, fields: list[str], where: str = "") -> list[dict]:
        rows: list[dict] = []
        for i in range(0, len(values), BATCH):
            rows += self._query(name, in_list(field, values[i:i + BATCH]) + (f" and ({where})" if where else ""), fields)
        return rows

    def _iterate(self, name: str, filter: str, fields: list[str]) -> Iterator[dict]:
        with self._guard() as client:
            iterator = client.query_iterator(name, batch_size=1000, filter=filter, output_fields=fields,
                                             timeout=self.timeout)
            while batch := iterator.next():
                yield from batch
            iterator.close()

    def _write_rows(self, name: str, rows: list[dict], upsert: bool = False) -> None:
        with self._guard() as client:
            for i in range(0, len(rows), BATCH):
                (client.upsert if upsert else client.insert)(name, data=rows[i:i + BATCH], timeout=self.timeout)

    def _delete(self, name: str, filter: str) -> int:
        """Delete the rows matching `filter`; how many (as the server reports it)."""
        with self._guard() as client:
            result = client.delete(name, filter=filter, timeout=self.timeout)
        if isinstance(result, dict):  # {"delete_count": n}, or the deleted keys (Milvus Lite)
            return int(result.get("delete_count", 0) or 0)
        return len(result) if isinstance(result, (list, tuple)) else int(getattr(result, "delete_count", 0) or 0)

    # state ---------------------------------------------------------------------------------

    def _read_head(self) -> tuple[dict | None, int]:
        """The "head" row's value (None: never written) and the last cleaned generation."""
        try:
            return self._read_head_once()
        except NotLoadedError:
            return self._read_head_once()

    def _read_head_once(self) -> tuple[dict | None, int]:
        keys = [f"{self._keys}{k}" for k in ("head", "cleaned", "swept")]
        try:
            rows = {r["key"]: json.loads(r["value"]) for r in self._query_in(self._meta(), "key", keys, ["key", "value"])}
        except IndexMissingError:
            return None, 0
        self._swept = int(rows.get(keys[2], {}).get("generation", 0))
        return rows.get(keys[0]), int(rows.get(keys[1], {}).get("generation", 0))

    def _read_state(self, head: dict) -> dict | None:
        keys = [f"{self._keys}state:{head['generation']}:{i}" for i in range(head["parts"])]
        rows = {r["key"]: r["value"] for r in self._query_in(self._meta(), "key", keys, ["key", "value"])}
        return json.loads("".join(rows[k] for k in keys)) if len(rows) == len(keys) else None

    def _load(self) -> dict | None:
        """The committed state (read again when the head moved), or None for an empty store."""
        for _ in range(5):
            head, cleaned = self._read_head()
            if head is None:
                self._state, self._cleaned = None, 0
                return None
            state = self._state
            if state is None or state["generation"] != head["generation"]:
                state = self._read_state(head)  # None: replaced meanwhile, read the head again
            if state is not None:
                self._state, self._cleaned = state, cleaned
                return state
        raise IndexProblem(f"the index at {self.location} keeps changing under this reader; ask again")

    def _read(self, read: Callable[[dict], T], empty: T) -> T:
        """`read(state)` at the committed state; once more if a rebuild replaced the data meanwhile."""
        state = self._state if self._state is not None else self._load()
        if state is None:
            return empty
        try:
            try:
                return read(state)
            except NotLoadedError:
                return read(state)
        except IndexMissingError:
            fresh = self._load()
            if fresh is None or fresh["data"] == state["data"]:
                raise
            return read(fresh)

    def _visible(self, state: dict) -> str:
        """The filter that shows the committed generation and nothing else."""
        condition = f"gen <= {int(state['generation'])}"
        for entry in state.get("retiring", []):  # replaced rows not deleted yet
            if entry["retired"] and entry["before"] > self._swept:
                retired = in_list("doc_id", entry["retired"]).replace(" in [", " not in [", 1)
                condition += f" and (gen >= {int(entry['before'])} or {retired})"
        return condition


class NotLoadedError(IndexProblem):
    """The server (restarted) has our collections released; the next connection loads them."""


def _not_loaded(exc: Exception) -> bool:
    message = str(getattr(exc, "message", "") or exc).lower()
    return getattr(exc, "code", None) == 101 or "released" in message or "not loaded" in message


def _is_milvus_error(exc: Exception) -> bool:
    import grpc
    from pymilvus import MilvusException

    return isinstance(exc, (MilvusException, grpc.RpcError, ConnectionError))
