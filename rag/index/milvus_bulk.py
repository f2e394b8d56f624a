"""A bulk load for big backfills: many workers insert, one driver commits, readers see all or none.

`apply` is one writer doing everything. For millions of passages the embedding runs on many
machines (e.g. Ray Data `map_batches`), and so can the inserts, because the commit protocol
(rag/index/milvus.py) only needs the rows to be invisible until one commit:

    load = begin_bulk(store, build, dimension, workers=64, ids_per_worker=2_000_000)   # driver
    summary = insert_bulk(MilvusStore(uri, prefix), load, worker=i, documents=[...])   # worker i, any machine
    commit_bulk(store, load, [summaries...], files={path: FileRecord, ...})            # driver

Each worker writes its documents' rows at generation G+1 with chunk ids from its own range, so
workers never collide, and may call `insert_bulk` many times for its range (`first_id` carries
on). A summary is small (counts, document ids, languages and sources, term-frequency changes). The commit adds up the
summaries, retires older versions of re-added documents, and moves the head once. While a load
is open, `apply` refuses (its rows would share the load's generation); `abort_bulk` gives the
load up and deletes what its workers inserted.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Sequence

from rag.errors import IndexProblem
from rag.index.base import FileRecord, NewDocument
from rag.index.milvus_keyword import df_delta
from rag.index.milvus_rows import chunk_rows, document_rows
from rag.index.milvus_schema import PLACEHOLDER, in_list
from rag.index.milvus_write import MilvusWriter, article_counts


@dataclass(frozen=True)
class BulkLoad:
    """What the driver hands every worker."""

    base: int  # the committed generation the load goes on top of
    data: str  # the data namespace (collection prefix of the data)
    first_chunk_id: int
    workers: int
    ids_per_worker: int
    dimension: int


def begin_bulk(store: MilvusWriter, build: dict, dimension: int, workers: int, ids_per_worker: int) -> BulkLoad:
    """Driver: settle the index, reserve `workers` ranges of chunk ids, and mark the load open
    (other writes refuse until it is committed or aborted)."""
    with store._lock:
        state = store._writable(build, dimension)
        if state["generation"] == 0:  # an empty index: record the state the load goes on top of
            store._commit(dict(state, generation=0))
        load = BulkLoad(state["generation"], state["data"], state["next_chunk_id"], workers, ids_per_worker,
                        int(dimension))
        store._write_rows(store._meta(), [{"key": f"{store._keys}bulk", "value": json.dumps(asdict(load)),
                                           "placeholder": PLACEHOLDER}], upsert=True)
        return load


def abort_bulk(store: MilvusWriter) -> None:
    """Driver: give up an open load; what its workers inserted is deleted."""
    with store._lock:
        head, store._cleaned = store._read_head()
        state = store._read_state(head) if head else None
        if state is not None:
            for kind in ("chunks", "documents", "files"):
                store._delete(f"{state['data']}_{kind}", f"gen > {int(state['generation'])}")
        store._delete(store._meta(), in_list("key", [f"{store._keys}bulk"]))


def insert_bulk(store: MilvusWriter, load: BulkLoad, worker: int, documents: Sequence[NewDocument],
                first_id: int | None = None) -> dict:
    """Worker: insert these documents invisibly; a summary for `commit_bulk` (pass its
    `next_id` as `first_id` to insert more in the same range)."""
    if not 0 <= worker < load.workers:
        raise ValueError(f"worker must be in 0..{load.workers - 1}, not {worker}")
    start = load.first_chunk_id + worker * load.ids_per_worker
    next_id = start if first_id is None else first_id
    generation = load.base + 1
    chunks, rows_of_documents, added = [], [], []
    for new in documents:
        rows = chunk_rows(new, next_id, generation, load.dimension)
        next_id += len(rows)
        chunks += rows
        rows_of_documents += document_rows(new, generation)
        added += [r["keywords"] for r in rows]
    if next_id > start + load.ids_per_worker:
        raise IndexProblem(f"worker {worker} ran out of its {load.ids_per_worker} chunk ids: begin the load "
                           "with more ids per worker")
    store._write_rows(f"{load.data}_chunks", chunks)
    store._write_rows(f"{load.data}_documents", rows_of_documents)
    return {"worker": worker, "doc_ids": [n.document.doc_id for n in documents], "added": len(chunks),
            "tokens": sum(len(t.split()) for t in added), "df": df_delta(added, []), "next_id": next_id,
            "articles": [(n.document.language, n.document.source) for n in documents]}


def commit_bulk(store: MilvusWriter, load: BulkLoad, summaries: Sequence[dict],
                files: dict[str, FileRecord | None] | None = None) -> int:
    """Driver: make everything the workers inserted visible in one commit; the new generation."""
    with store._lock:
        head, store._cleaned = store._read_head()
        state = store._read_state(head) if head else None
        if state is None or state["generation"] != load.base or state["data"] != load.data:
            raise IndexProblem(f"another write committed to {store.location} during the bulk load: run the "
                               "load again (the next write discards what it inserted)")
        doc_ids = [d for s in summaries for d in s["doc_ids"]]
        if len(set(doc_ids)) != len(doc_ids):
            raise IndexProblem("the bulk load holds a document id twice: give each document to one worker once")
        leaving, removed, left = store._retiring(state, doc_ids)
        df = Counter()
        for summary in summaries:
            df.update(summary["df"])
        df.update(df_delta([], removed))
        added_tokens = sum(s["tokens"] for s in summaries)
        counts = article_counts(state, left, [tuple(a) for s in summaries for a in s.get("articles", [])])
        # _next_state counts tokens and chunks from the added keyword strings; the workers sent totals.
        new = store._next_state(state, files or {}, leaving, removed, [], len(doc_ids),
                                load.first_chunk_id + load.workers * load.ids_per_worker,
                                {t: n for t, n in df.items() if n}, counts)
        new["chunks"] += sum(s["added"] for s in summaries)
        new["tokens"] += added_tokens
        store._commit(new)
        store._delete(store._meta(), in_list("key", [f"{store._keys}bulk"]))
        store._cleanup(new)
        store._state = new
        return new["generation"]
