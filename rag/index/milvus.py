"""The Milvus backend: an `IndexStore` on a Milvus server (Lite, Standalone or Distributed).

Any number of app servers can answer from the same collections (milvus_schema.py lists them);
nothing is kept on local disk.

How a write stays atomic without transactions. Every chunk, document and file row carries
`gen`, the generation of the `apply` that wrote it, and readers only see rows with `gen <= G`,
G being the committed generation in the meta row "head". An `apply` of generation G+1:

1. removes what an earlier crashed apply left (rows with `gen > G`) and finishes the cleanup of
   G (step 5) if it was interrupted;
2. inserts the new chunk, document and file rows with `gen = G+1`: invisible to readers;
3. writes the new state (counts, next chunk id, the documents it retires, the files it touched,
   the change of each term's document frequency) as meta rows "state:G+1:i";
4. upserts "head" to G+1: the commit. From then on readers see the new rows, hide the retired
   documents' older rows (`gen >= G+1 or doc_id not in [...]`), take the newest row of a file,
   and add the pending frequency changes to term rows not yet updated (their `gen` < G+1);
5. deletes the retired and superseded rows, applies the frequency changes (a term row records
   the `gen` that updated it, so each is applied once), drops the older state rows and sets
   "cleaned" to G+1, after which readers stop filtering.

Every step is idempotent, so a crash anywhere leaves G or G+1 for readers, and the next apply
(or `rag check --repair`) completes or discards the rest. A rebuild writes into a new data
namespace (`{prefix}_{ns}_*`, meta keys "ns/...") while the current one answers; `replace_with`
then commits a state naming the new namespace and drops the old collections. One writer at a
time: Milvus has no lock, so run ingests from one place (the Engine's folder lock serialises
the writers of one machine).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np

from rag.errors import IndexMismatchError, IndexMissingError, IndexProblem, StoreUnavailableError
from rag.index.base import FileRecord, IndexChange, IndexInfo, StoredChunk
from rag.index.milvus_keyword import bm25_scores, df_delta, idf
from rag.index.milvus_rows import chunk_rows, document_rows, file_row, latest_files, stored_chunk
from rag.index.milvus_schema import (DATA, PLACEHOLDER, create_collections, encode_token, in_list, quiet_pymilvus,
                                     translate)
from rag.types import Document, DocumentInfo

BATCH = 500  # rows per insert; values per `in [...]` filter
STATE_PART = 15_000  # characters of the state JSON per meta row (ASCII JSON: bytes too)
LIMIT = 16_384  # Milvus's largest query window and top-k
_CITATION = ["chunk_id", "doc_id", "ordinal", "char_start", "char_end", "text", "title", "source", "path",
             "url", "date", "file_start", "file_end", "line_start", "line_end", "page"]
T = TypeVar("T")


class MilvusStore:
    """Documents, chunks, vectors, files and BM25 keywords in Milvus collections."""

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
        self._cleaned = 0
        self._lock = threading.RLock()
        if not create and not namespace and self._load() is None:
            raise IndexMissingError(f"no index at {self.location} yet: run `rag ingest PATH...` "
                                    "(or `rag migrate --to milvus` to copy a local index)")

    # plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator:
        """The client; a failure becomes a one-line error naming the server and the fix."""
        try:
            if self._client is None:
                from pymilvus import MilvusClient

                quiet_pymilvus()
                client = MilvusClient(self.uri, token=self._token, timeout=self.timeout)
                # A restarted server answers with its collections released: load ours (a no-op
                # when they are loaded).
                for name in client.list_collections(timeout=self.timeout):
                    if name.startswith(f"{self.prefix}_"):
                        client.load_collection(name, timeout=self.timeout)
                self._client = client
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

    def _meta(self) -> str:
        return f"{self.prefix}_meta"

    def _query(self, name: str, filter: str, fields: list[str]) -> list[dict]:
        with self._guard() as client:
            return list(client.query(name, filter=filter, output_fields=fields, limit=LIMIT, timeout=self.timeout))

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

    def _delete(self, name: str, filter: str) -> None:
        with self._guard() as client:
            client.delete(name, filter=filter, timeout=self.timeout)

    # state ---------------------------------------------------------------------------------

    def _read_head(self) -> tuple[dict | None, int]:
        """The "head" row's value (None: never written) and the last cleaned generation."""
        try:
            return self._read_head_once()
        except NotLoadedError:
            return self._read_head_once()

    def _read_head_once(self) -> tuple[dict | None, int]:
        keys = [f"{self._keys}head", f"{self._keys}cleaned"]
        try:
            rows = {r["key"]: json.loads(r["value"]) for r in self._query_in(self._meta(), "key", keys, ["key", "value"])}
        except IndexMissingError:
            return None, 0
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
        pending = state.get("pending")
        if pending and pending["retired"] and self._cleaned < pending["before"]:
            retired = in_list("doc_id", pending["retired"]).replace(" in [", " not in [", 1)
            condition += f" and (gen >= {int(pending['before'])} or {retired})"
        return condition

    def info(self) -> IndexInfo | None:
        state = self._load()
        if state is None:
            return None
        return IndexInfo(self.backend, self.location, state["generation"], state["build"], state["documents"],
                         state["chunks"], state["dimension"], state["updated"], state["files"])

    def generation(self) -> int:
        head, _ = self._read_head()
        return int(head["generation"]) if head else 0

    def refresh(self) -> None:
        self._load()

    def check(self) -> list[str]:
        state = self._load()
        if state is None:
            return []
        with self._guard() as client:
            missing = [f"{state['data']}_{k}" for k in DATA if not client.has_collection(f"{state['data']}_{k}")]
        if missing:
            return [f"collections {', '.join(missing)} are missing at {self.uri}: rebuild with "
                    "`rag ingest --rebuild PATH...` (or `rag migrate --to milvus` from a local index)"]
        rows = self._query(f"{state['data']}_chunks", self._visible(state), ["count(*)"])
        counted = int(rows[0]["count(*)"]) if rows else 0
        if counted != state["chunks"]:
            return [f"{state['data']}_chunks at {self.uri} holds {counted} passages, the index state says "
                    f"{state['chunks']}: run `rag check --repair`, else `rag ingest --rebuild PATH...`"]
        return []

    def repair(self) -> list[str]:
        """Finish or discard what an interrupted write left; what was done."""
        with self._lock:
            state = self._load()
            if state is None:
                return []
            self._repair(state)
            return [f"{self.location}: finished the cleanup of generation {state['generation']}"]

    def maintain(self) -> None:
        """Nothing to do: Milvus compacts segments and builds indexes by itself."""

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - the connection is gone anyway
                pass

    def drop(self) -> None:
        """Delete every collection of this index (all data namespaces) and its meta rows."""
        with self._guard() as client:
            names = [n for n in client.list_collections(timeout=self.timeout)
                     if n == self._meta() or (n.startswith(f"{self.prefix}_") and n.rsplit("_", 1)[-1] in DATA)]
            for name in names:
                client.drop_collection(name, timeout=self.timeout)
        self._state, self._cleaned = None, 0

    # writing -------------------------------------------------------------------------------

    def apply(self, change: IndexChange, build: dict, dimension: int) -> int:
        with self._lock:
            head, self._cleaned = self._read_head()
            state = self._read_state(head) if head else None
            if head and state is None:
                raise IndexProblem(f"the state of {self.location} is incomplete: is another writer active? "
                                   "Else run `rag ingest --rebuild PATH...`")
            if state is None:
                state = {"generation": 0, "data": self._new_data, "build": build, "dimension": int(dimension),
                         "documents": 0, "chunks": 0, "files": 0, "tokens": 0,
                         "next_chunk_id": self._first_chunk_id, "updated": "", "pending": None}
            elif state["dimension"] != dimension or state["build"] != build:
                raise IndexMismatchError(
                    f"the index at {self.location} was built with {state['build']} (dimension "
                    f"{state['dimension']}), the config asks for {build} (dimension {dimension}): "
                    "run `rag ingest --rebuild PATH...` or set store.collection to a new prefix")
            with self._guard() as client:
                create_collections(client, self.prefix, state["data"], int(dimension), self.dense_index, self.timeout)
            self._repair(state)
            new = self._write(state, change)
            self._cleanup(new)
            self._state = new
            return new["generation"]

    def _repair(self, state: dict) -> None:
        """Discard what an apply that never committed wrote; finish the last cleanup."""
        for kind in ("chunks", "documents", "files"):
            self._delete(f"{state['data']}_{kind}", f"gen > {int(state['generation'])}")
        self._cleanup(state)

    def _write(self, state: dict, change: IndexChange) -> dict:
        """Steps 2-4: insert the new rows invisibly, write the new state, move the head."""
        data, generation, visible = state["data"], state["generation"] + 1, self._visible(state)
        leaving = sorted(set(change.remove_doc_ids) | {n.document.doc_id for n in change.add})
        leaving = sorted({r["doc_id"] for r in self._query_in(f"{data}_documents", "doc_id", leaving, ["doc_id"],
                                                              f"part == 0 and {visible}")})
        removed = [r["keywords"] for r in self._query_in(f"{data}_chunks", "doc_id", leaving, ["keywords"], visible)]
        paths = list(change.files)
        known = self._files(state, paths)
        next_id, chunks, documents, added = state["next_chunk_id"], [], [], []
        for new in change.add:
            rows = chunk_rows(new, next_id, generation, state["dimension"])
            next_id += len(rows)
            chunks += rows
            documents += document_rows(new, generation)
            added += [r["keywords"] for r in rows]
        self._write_rows(f"{data}_chunks", chunks)
        self._write_rows(f"{data}_documents", documents)
        self._write_rows(f"{data}_files", [file_row(p, r, generation) for p, r in change.files.items()])
        files = state["files"] + sum(1 for p, r in change.files.items() if r and p not in known) \
            - sum(1 for p, r in change.files.items() if r is None and p in known)
        new = dict(state, generation=generation, next_chunk_id=next_id, files=files,
                   documents=state["documents"] - len(leaving) + len(change.add),
                   chunks=state["chunks"] - len(removed) + len(chunks),
                   tokens=state["tokens"] + sum(len(t.split()) for t in added) - sum(len(t.split()) for t in removed),
                   updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   pending={"before": generation, "retired": leaving, "files": paths, "df": df_delta(added, removed)})
        new.pop("orphans", None)
        self._commit(new)
        return new

    def _commit(self, state: dict) -> None:
        """Write `state` in parts, then point "head" at it: the one write readers switch on."""
        blob = json.dumps(state, separators=(",", ":"))
        parts = [blob[i:i + STATE_PART] for i in range(0, len(blob), STATE_PART)]
        key = f"{self._keys}state:{state['generation']}"
        self._delete(self._meta(), f'key like "{key}:%"')
        self._write_rows(self._meta(), [{"key": f"{key}:{i}", "value": p, "placeholder": PLACEHOLDER}
                                        for i, p in enumerate(parts)])
        head = json.dumps({"generation": state["generation"], "parts": len(parts)})
        self._write_rows(self._meta(), [{"key": f"{self._keys}head", "value": head, "placeholder": PLACEHOLDER}],
                         upsert=True)

    def _cleanup(self, state: dict) -> None:
        """Step 5 (idempotent): delete retired and superseded rows, apply the frequency changes."""
        with self._guard() as client:
            for name in state.get("orphans", []):  # the data a rebuild replaced
                for kind in DATA:
                    if client.has_collection(f"{name}_{kind}", timeout=self.timeout):
                        client.drop_collection(f"{name}_{kind}", timeout=self.timeout)
        pending = state.get("pending")
        if not pending or self._cleaned >= pending["before"]:
            return
        data, before = state["data"], int(pending["before"])
        for i in range(0, len(pending["retired"]), BATCH):
            retired = in_list("doc_id", pending["retired"][i:i + BATCH])
            for kind in ("chunks", "documents"):
                self._delete(f"{data}_{kind}", f"{retired} and gen < {before}")
        for i in range(0, len(pending["files"]), BATCH):
            touched = in_list("path", pending["files"][i:i + BATCH])
            self._delete(f"{data}_files", f'{touched} and (gen < {before} or sha256 == "")')
        changes = pending["df"]
        current = {r["term"]: r for r in self._query_in(f"{data}_terms", "term", list(changes), ["term", "df", "gen"])}
        upserts, deletes = [], []
        for term, change in changes.items():
            row = current.get(term)
            if row is not None and row["gen"] >= before:
                continue  # applied by an interrupted cleanup
            df = (row["df"] if row else 0) + change
            if df > 0:
                upserts.append({"term": term, "df": df, "gen": before, "placeholder": PLACEHOLDER})
            elif row is not None:
                deletes.append(term)
        self._write_rows(f"{data}_terms", upserts, upsert=True)
        for i in range(0, len(deletes), BATCH):
            self._delete(f"{data}_terms", in_list("term", deletes[i:i + BATCH]))
        old = [r["key"] for r in self._query(self._meta(), f'key like "{self._keys}state:%"', ["key"])
               if int(r["key"].rsplit(":", 2)[1]) < before]
        for i in range(0, len(old), BATCH):
            self._delete(self._meta(), in_list("key", old[i:i + BATCH]))
        self._write_rows(self._meta(), [{"key": f"{self._keys}cleaned", "placeholder": PLACEHOLDER,
                                         "value": json.dumps({"generation": before})}], upsert=True)
        self._cleaned = before

    # rebuilding ------------------------------------------------------------------------------

    def rebuild_target(self) -> "MilvusStore":
        """An empty index in a new data namespace; this one answers until `replace_with`."""
        state = self._load()
        return MilvusStore(self.uri, self.prefix, self._token, self.dense_index, self.timeout, create=True,
                           namespace=f"r{uuid.uuid4().hex[:8]}",
                           first_chunk_id=state["next_chunk_id"] if state else 0)

    def replace_with(self, target: "MilvusStore") -> None:
        """Commit the target's state as this index's next generation, then drop the old data."""
        with self._lock:
            head, self._cleaned = self._read_head()
            current = self._read_state(head) if head else None
            built = target._load()
            if built is None:
                raise IndexProblem(f"the rebuild of {self.location} wrote nothing; the index is unchanged")
            generation = max(current["generation"] if current else 0, built["generation"]) + 1
            state = dict(built, generation=generation, pending=None,
                         orphans=[current["data"]] if current and current["data"] != built["data"] else [])
            self._commit(state)
            self._state = state
            self._cleanup(state)
            for kind in ("head", "cleaned"):
                self._delete(self._meta(), in_list("key", [f"{target._keys}{kind}"]))
            self._delete(self._meta(), f'key like "{target._keys}state:%"')
            target._state = None

    # reading -------------------------------------------------------------------------------

    def search_dense(self, vector: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        def read(state):
            if len(vector) != state["dimension"]:
                raise IndexMismatchError(
                    f"the index at {self.location} holds {state['dimension']}-d vectors, the model gives "
                    f"{len(vector)}-d: run `rag ingest --rebuild PATH...` or configure the index's model")
            params = {"metric_type": "IP", "params": {"ef": max(64, k)} if self.dense_index == "hnsw" else {}}
            with self._guard() as client:
                hits = client.search(f"{state['data']}_chunks", data=[np.asarray(vector, np.float32).tolist()],
                                      anns_field="vector", limit=min(k, LIMIT), filter=self._visible(state),
                                      search_params=params, output_fields=["chunk_id"], timeout=self.timeout)[0]
            return [_hit_id(h) for h in hits], [float(h["distance"]) for h in hits]
        return self._read(read, ([], [])) if k > 0 else ([], [])

    def search_keyword(self, terms: list[str], k: int) -> tuple[list[int], list[float]]:
        """Milvus's BM25 finds 2k candidates; they are scored exactly (milvus_keyword.py)."""
        encoded = list(dict.fromkeys(encode_token(t) for t in terms))

        def read(state):
            if not state["chunks"]:
                return [], []
            with self._guard() as client:
                hits = client.search(f"{state['data']}_chunks", data=[" ".join(encoded)], anns_field="sparse",
                                     limit=min(max(2 * k, k + 20), LIMIT), filter=self._visible(state),
                                     search_params={"metric_type": "BM25"}, output_fields=["chunk_id", "keywords"],
                                     timeout=self.timeout)[0]
            scores = self._bm25(state, encoded, [h["entity"]["keywords"] for h in hits])
            ranked = sorted(((s, -_hit_id(h)) for h, s in zip(hits, scores) if s > 0), reverse=True)[:k]
            return [-i for _, i in ranked], [s for s, _ in ranked]
        return self._read(read, ([], [])) if encoded and k > 0 else ([], [])

    def keyword_scores(self, terms: list[str], chunk_ids: list[int]) -> np.ndarray:
        encoded = [encode_token(t) for t in terms]
        ids = [int(c) for c in chunk_ids]

        def read(state):
            out = np.zeros(len(ids), dtype=np.float64)
            rows = {r["chunk_id"]: r["keywords"] for r in
                    self._query_in(f"{state['data']}_chunks", "chunk_id", ids, ["chunk_id", "keywords"])}
            present = [i for i, c in enumerate(ids) if c in rows]
            out[present] = self._bm25(state, encoded, [rows[ids[i]] for i in present])
            return out
        return self._read(read, np.zeros(len(ids))) if encoded and ids else np.zeros(len(ids))

    def term_idf(self, terms: list[str]) -> dict[str, float]:
        def read(state):
            df = self._df(state, [encode_token(t) for t in terms])
            return {t: idf(state["chunks"], df[encode_token(t)]) for t in terms}
        return self._read(read, {t: idf(0, 0) for t in terms})

    def _df(self, state: dict, encoded: list[str]) -> dict[str, int]:
        """Committed document frequencies, with the changes a cleanup has not applied yet."""
        unique = list(dict.fromkeys(encoded))
        rows = {r["term"]: r for r in self._query_in(f"{state['data']}_terms", "term", unique, ["term", "df", "gen"])}
        pending = state.get("pending") if self._cleaned < (state.get("pending") or {}).get("before", 0) else None
        out = {}
        for term in unique:
            row = rows.get(term)
            df = row["df"] if row else 0
            if pending and (row is None or row["gen"] < pending["before"]):
                df += pending["df"].get(term, 0)
            out[term] = max(df, 0)
        return out

    def _bm25(self, state: dict, encoded: list[str], keywords: list[str]) -> list[float]:
        if not keywords:
            return []
        df = self._df(state, encoded)
        idfs = {t: idf(state["chunks"], n) for t, n in df.items()}
        return bm25_scores(encoded, keywords, idfs, state["tokens"] / max(state["chunks"], 1))

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        # By id, no generation filter: ids are never reused, and a reader's ids come from its searches.
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))
        return self._read(lambda state: {int(r["chunk_id"]): stored_chunk(r) for r in
                                         self._query_in(f"{state['data']}_chunks", "chunk_id", ids, _CITATION)}, {})

    def vectors(self, chunk_ids: list[int]) -> np.ndarray:
        ids = [int(c) for c in chunk_ids]

        def read(state):
            rows = {int(r["chunk_id"]): r["vector"] for r in
                    self._query_in(f"{state['data']}_chunks", "chunk_id", ids, ["chunk_id", "vector"])}
            if len(rows) < len(set(ids)):
                raise IndexProblem(f"passages {[c for c in ids if c not in rows][:5]} left {self.location} "
                                   "while being read: ask again")
            return np.array([rows[c] for c in ids], dtype=np.float32).reshape(len(ids), state["dimension"])
        return self._read(read, np.zeros((0, 0), dtype=np.float32))

    def vectors_by_hash(self, embed_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        hashes = list(dict.fromkeys(embed_hashes))
        return self._read(lambda state: {r["embed_hash"]: np.asarray(r["vector"], dtype=np.float32) for r in
                                         self._query_in(f"{state['data']}_chunks", "embed_hash", hashes,
                                                        ["embed_hash", "vector"], self._visible(state))}, {})

    def chunk_ids_of(self, doc_ids: Iterable[str]) -> list[int]:
        docs = list(dict.fromkeys(doc_ids))

        def read(state):
            rows = self._query_in(f"{state['data']}_chunks", "doc_id", docs, ["chunk_id", "doc_id", "ordinal"],
                                  self._visible(state))
            return [int(r["chunk_id"]) for r in sorted(rows, key=lambda r: (r["doc_id"], r["ordinal"]))]
        return self._read(read, [])

    def _files(self, state: dict, paths: list[str] | None) -> dict[str, dict]:
        name, visible = f"{state['data']}_files", f"gen <= {int(state['generation'])}"
        fields = ["path", "gen", "sha256", "documents"]
        rows = list(self._iterate(name, visible, fields)) if paths is None else \
            self._query_in(name, "path", paths, fields, visible)
        return latest_files(rows)

    def file_records(self, paths: Iterable[str] | None = None) -> dict[str, FileRecord]:
        wanted = None if paths is None else list(dict.fromkeys(paths))
        return self._read(lambda state: {p: FileRecord(r["sha256"], tuple(json.loads(r["documents"])))
                                         for p, r in self._files(state, wanted).items()}, {})

    def files_under(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return [p for p in self.file_records(None) if p.startswith(prefix)]

    def existing_doc_ids(self, doc_ids: Iterable[str]) -> set[str]:
        docs = list(dict.fromkeys(doc_ids))
        return self._read(lambda state: {r["doc_id"] for r in self._query_in(
            f"{state['data']}_documents", "doc_id", docs, ["doc_id"], f"part == 0 and {self._visible(state)}")}, set())

    def document(self, doc_id: str) -> Document | None:
        def read(state):
            rows = sorted(self._query_in(f"{state['data']}_documents", "doc_id", [doc_id],
                                         ["part", "parts", "text", "meta"], self._visible(state)), key=lambda r: r["part"])
            if not rows:
                return None
            if len(rows) != rows[0]["parts"]:
                raise IndexProblem(f"article {doc_id} at {self.location} lacks parts: run `rag check --repair`")
            m = json.loads(rows[0]["meta"])
            return Document(doc_id, "".join(r["text"] for r in rows), m["title"], m["source"], m["path"], m["url"],
                            m["date"], m["offset"], m["line"], tuple(m["page_starts"]))
        return self._read(read, None)

    def documents(self) -> list[DocumentInfo]:
        def read(state):
            out = []
            for row in self._iterate(f"{state['data']}_documents", f"part == 0 and {self._visible(state)}",
                                     ["doc_id", "meta"]):
                m = json.loads(row["meta"])
                out.append(DocumentInfo(row["doc_id"], m["title"], m["source"], m["path"], m["chunks"]))
            return sorted(out, key=lambda d: (d.path, d.doc_id))
        return self._read(read, [])


class NotLoadedError(IndexProblem):
    """The server (restarted) has our collections released; the next connection loads them."""


def _not_loaded(exc: Exception) -> bool:
    message = str(getattr(exc, "message", "") or exc).lower()
    return getattr(exc, "code", None) == 101 or "released" in message or "not loaded" in message


def _is_milvus_error(exc: Exception) -> bool:
    import grpc
    from pymilvus import MilvusException

    return isinstance(exc, (MilvusException, grpc.RpcError, ConnectionError))


def _hit_id(hit) -> int:
    """The chunk id of a search hit (pymilvus names it "id" or by the primary key field)."""
    return int(hit["id"] if "id" in hit else hit["entity"]["chunk_id"])


def open_milvus(settings, create: bool = False) -> MilvusStore:
    """The store that config section `store` (rag.config.StoreSettings) names; the token from
    $RAG_MILVUS_TOKEN."""
    return MilvusStore(settings.uri, settings.collection, os.environ.get("RAG_MILVUS_TOKEN", ""),
                       settings.dense_index, settings.timeout, create=create)
