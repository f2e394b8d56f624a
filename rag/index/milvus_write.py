"""The Milvus backend's writes: `apply` in the steps milvus.py describes, and rebuilds into a
new data namespace."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Iterable

from rag.errors import IndexMismatchError, IndexProblem
from rag.index.base import IndexChange
from rag.index.milvus_connection import BATCH, MilvusConnection
from rag.index.milvus_keyword import df_delta
from rag.index.milvus_rows import chunk_rows, document_rows, file_row, language_and_source, latest_files
from rag.index.milvus_schema import (DATA, PLACEHOLDER, SCHEMA, check_schema, create_collections, in_list,
                                     missing_fields, old_schema)

STATE_PART = 15_000  # characters of the state JSON per meta row (ASCII JSON: bytes too)


class MilvusWriter(MilvusConnection):
    """Writing and rebuilding; reading is MilvusStore's."""

    # writing -------------------------------------------------------------------------------

    def apply(self, change: IndexChange, build: dict, dimension: int) -> int:
        with self._lock:
            state = self._writable(build, dimension)
            new = self._write(state, change)
            self._cleanup(new)
            self._state = new
            return new["generation"]

    def _writable(self, build: dict, dimension: int) -> dict:
        """The committed state (a fresh one for an empty index), checked against `build` and
        `dimension`, with its collections present and the last write's leftovers settled."""
        head, self._cleaned = self._read_head()
        state = self._read_state(head) if head else None
        if head and state is None:
            raise IndexProblem(f"the state of {self.location} is incomplete: is another writer active? "
                               "Else run `rag ingest --rebuild PATH...`")
        fresh = state is None
        if fresh:
            state = {"generation": 0, "schema": SCHEMA, "data": self._new_data, "build": build,
                     "dimension": int(dimension), "documents": 0, "chunks": 0, "files": 0, "tokens": 0,
                     "languages": {}, "sources": {}, "next_chunk_id": self._first_chunk_id, "updated": "",
                     "pending": None, "retiring": [], "orphans": []}
        check_schema(state, self.location)
        if state["dimension"] != dimension or state["build"] != build:
            raise IndexMismatchError(
                f"the index at {self.location} was built with {state['build']} (dimension "
                f"{state['dimension']}), the config asks for {build} (dimension {dimension}): "
                "run `rag ingest --rebuild PATH...` or set store.collection to a new prefix")
        with self._guard() as client:
            create_collections(client, self.prefix, state["data"], int(dimension), self.dense_index, self.timeout)
            # A state of this schema was only ever written over collections of it; a first write
            # may meet collections an earlier version left under the same prefix.
            if fresh and missing_fields(client, f"{state['data']}_chunks", self.timeout):
                raise old_schema(self.location)
        if self._query_in(self._meta(), "key", [f"{self._keys}bulk"], ["key"]):
            raise IndexProblem(f"a bulk load into {self.location} is open: commit it, or give it up with "
                               "rag.index.milvus_bulk.abort_bulk, before other writes")
        self._repair(state)
        return state

    def _repair(self, state: dict) -> None:
        """Discard what an apply that never committed wrote; finish the last cleanup."""
        for kind in ("chunks", "documents", "files"):
            self._delete(f"{state['data']}_{kind}", f"gen > {int(state['generation'])}")
        self._cleanup(state)

    def _write(self, state: dict, change: IndexChange) -> dict:
        """Steps 2-4: insert the new rows invisibly, write the new state, move the head."""
        data, generation = state["data"], state["generation"] + 1
        leaving, removed, left = self._retiring(state, list(change.remove_doc_ids) +
                                                [n.document.doc_id for n in change.add])
        next_id, chunks, documents, added = state["next_chunk_id"], [], [], []
        for new in change.add:
            rows = chunk_rows(new, next_id, generation, state["dimension"])
            next_id += len(rows)
            chunks += rows
            documents += document_rows(new, generation)
            added += [r["keywords"] for r in rows]
        self._write_rows(f"{data}_chunks", chunks)
        self._write_rows(f"{data}_documents", documents)
        arriving = [(n.document.language, n.document.source) for n in change.add]
        new = self._next_state(state, change.files, leaving, removed, added, len(change.add), next_id,
                               df_delta(added, removed), article_counts(state, left, arriving))
        self._commit(new)
        return new

    def _retiring(self, state: dict, doc_ids: list[str]) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Which of these documents the committed state holds, their chunks' tokens, and their
        (language, source)."""
        data, visible = state["data"], self._visible(state)
        rows = {r["doc_id"]: r for r in self._query_in(f"{data}_documents", "doc_id", sorted(set(doc_ids)),
                                                       ["doc_id", "meta"], f"part == 0 and {visible}")}
        leaving = sorted(rows)
        removed = [r["keywords"] for r in self._query_in(f"{data}_chunks", "doc_id", leaving, ["keywords"], visible)]
        return leaving, removed, [language_and_source(rows[d]) for d in leaving]

    def _files(self, state: dict, paths: list[str] | None) -> dict[str, dict]:
        """The committed rows of these files (None: of every file), by path."""
        name, visible = f"{state['data']}_files", f"gen <= {int(state['generation'])}"
        fields = ["path", "gen", "sha256", "documents"]
        rows = list(self._iterate(name, visible, fields)) if paths is None else \
            self._query_in(name, "path", paths, fields, visible)
        return latest_files(rows)

    def _next_state(self, state: dict, files: dict, leaving: list[str], removed: list[str], added: list[str],
                    documents_added: int, next_id: int, df: dict[str, int], counts: dict) -> dict:
        """Write the file records at the next generation; the state that commits it all
        (`counts`: `article_counts` once it is committed)."""
        generation = state["generation"] + 1
        known = self._files(state, list(files))
        self._write_rows(f"{state['data']}_files", [file_row(p, r, generation) for p, r in files.items()])
        count = state["files"] + sum(1 for p, r in files.items() if r and p not in known) \
            - sum(1 for p, r in files.items() if r is None and p in known)
        now = time.time()
        retiring = [e for e in state.get("retiring", []) if e["before"] > self._swept]
        if leaving or files:
            retiring.append({"before": generation, "retired": leaving, "files": list(files), "at": now})
        return dict(state, **counts, generation=generation, next_chunk_id=next_id, files=count,
                    documents=state["documents"] - len(leaving) + documents_added,
                    chunks=state["chunks"] - len(removed) + len(added),
                    tokens=state["tokens"] + sum(len(t.split()) for t in added) - sum(len(t.split()) for t in removed),
                    updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    pending={"before": generation, "df": df}, retiring=retiring,
                    orphans=[o for o in state.get("orphans", []) if now - o["at"] < self.grace])

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

    def _cleanup(self, state: dict, force: bool = False) -> None:
        """Step 5 (idempotent): apply the frequency changes at once; delete replaced rows (and the
        data a rebuild replaced) once `grace` seconds have passed since their commit, so a
        question that began before it still finds them; `force`: now."""
        now = time.time()
        with self._guard() as client:
            for orphan in state.get("orphans", []):
                if force or now - orphan["at"] >= self.grace:
                    for kind in DATA:
                        if client.has_collection(f"{orphan['data']}_{kind}", timeout=self.timeout):
                            client.drop_collection(f"{orphan['data']}_{kind}", timeout=self.timeout)
        pending = state.get("pending")
        if pending and self._cleaned < pending["before"]:
            self._apply_frequencies(state["data"], int(pending["before"]), pending["df"])
        for entry in state.get("retiring", []):
            if entry["before"] <= self._swept:
                continue
            if not force and now - entry["at"] < self.grace:
                break
            self._sweep(state["data"], entry)
        old = [r["key"] for r in self._query(self._meta(), f'key like "{self._keys}state:%"', ["key"])
               if int(r["key"].rsplit(":", 2)[1]) < state["generation"]]
        for i in range(0, len(old), BATCH):
            self._delete(self._meta(), in_list("key", old[i:i + BATCH]))

    def _apply_frequencies(self, data: str, before: int, changes: dict[str, int]) -> None:
        """Add one commit's term-frequency changes to the terms rows (each row records the
        generation that last changed it, so a change is applied once)."""
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
        self._mark("cleaned", before)
        self._cleaned = before

    def _sweep(self, data: str, entry: dict) -> None:
        """Delete the rows one commit replaced: retired documents' older rows, superseded file rows."""
        before = int(entry["before"])
        for i in range(0, len(entry["retired"]), BATCH):
            retired = in_list("doc_id", entry["retired"][i:i + BATCH])
            for kind in ("chunks", "documents"):
                self._delete(f"{data}_{kind}", f"{retired} and gen < {before}")
        for i in range(0, len(entry["files"]), BATCH):
            touched = in_list("path", entry["files"][i:i + BATCH])
            self._delete(f"{data}_files", f'{touched} and (gen < {before} or sha256 == "")')
        self._mark("swept", before)
        self._swept = before

    def _mark(self, name: str, generation: int) -> None:
        self._write_rows(self._meta(), [{"key": f"{self._keys}{name}", "placeholder": PLACEHOLDER,
                                         "value": json.dumps({"generation": generation})}], upsert=True)

    # rebuilding ------------------------------------------------------------------------------

    def rebuild_target(self) -> "MilvusWriter":
        """An empty index in a new data namespace; this one answers until `replace_with`."""
        state = self._load()
        return type(self)(self.uri, self.prefix, self._token, self.dense_index, self.timeout, create=True,
                           namespace=f"r{uuid.uuid4().hex[:8]}",
                           first_chunk_id=state["next_chunk_id"] if state else 0)

    def replace_with(self, target: "MilvusWriter") -> None:
        """Commit the target's state as this index's next generation, then drop the old data."""
        with self._lock:
            head, self._cleaned = self._read_head()
            current = self._read_state(head) if head else None
            built = target._load()
            if built is None:
                raise IndexProblem(f"the rebuild of {self.location} wrote nothing; the index is unchanged")
            generation = max(current["generation"] if current else 0, built["generation"]) + 1
            replaced = current["data"] if current and current["data"] != built["data"] else None
            state = dict(built, generation=generation, pending=None,
                         orphans=[{"data": replaced, "at": time.time()}] if replaced else [])
            self._commit(state)
            self._state = state
            self._cleanup(state)
            for kind in ("head", "cleaned", "swept"):
                self._delete(self._meta(), in_list("key", [f"{target._keys}{kind}"]))
            self._delete(self._meta(), f'key like "{target._keys}state:%"')
            target._state = None


def article_counts(state: dict, left: list[tuple[str, str]], arriving: list[tuple[str, str]]) -> dict:
    """The state's counts of articles by language and by source (as written) once the articles
    `left` leave and `arriving` arrive, each given as (language, source)."""
    return {"languages": counts_after(state.get("languages") or {}, [a for a, _ in left], [a for a, _ in arriving]),
            "sources": counts_after(state.get("sources") or {}, [b for _, b in left], [b for _, b in arriving])}


def counts_after(counts: dict[str, int], removed: Iterable[str], added: Iterable[str]) -> dict[str, int]:
    """Counts by key after taking one off for each of `removed` and adding one for each of
    `added`, most first (ties in the order first met), as the local record counts languages."""
    counts = dict(counts)
    for key in removed:
        counts[key] = counts.get(key, 0) - 1
    for key in added:
        counts[key] = counts.get(key, 0) + 1
    return {key: n for key, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n > 0}
