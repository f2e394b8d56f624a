"""The Milvus backend: an `IndexStore` on a Milvus server (Lite, Standalone or Distributed).

Any number of app servers can answer from the same collections (milvus_schema.py lists them);
nothing is kept on local disk.

How a write stays atomic without transactions. Every chunk, document and file row carries
`gen`, the generation of the `apply` that wrote it, and readers only see rows with `gen <= G`,
G being the committed generation in the meta row "head". An `apply` of generation G+1:

1. removes what an earlier crashed apply left (rows with `gen > G`) and finishes what step 5
   left of earlier commits;
2. inserts the new chunk, document and file rows with `gen = G+1`: invisible to readers;
3. writes the new state (its schema number, counts, the articles of each language and source,
   next chunk id, the change of each term's document frequency, and the documents and files
   it replaces) as meta rows "state:G+1:i";
4. upserts "head" to G+1: the commit. From then on readers see the new rows, hide the replaced
   documents' older rows (`gen >= G+1 or doc_id not in [...]`), take the newest row of a file,
   and add the pending frequency changes to term rows not yet updated (their `gen` < G+1);
5. applies the frequency changes at once (a term row records the `gen` that last changed it,
   so each change is applied once; "cleaned" marks it), and deletes the replaced rows only
   `grace` seconds (60) after the commit, so a question that began at G still finds them
   ("swept" marks it; until then readers filter them out).

Every step is idempotent, so a crash anywhere leaves G or G+1 for readers, and the next apply
(or `rag check --repair`) completes or discards the rest. A rebuild writes into a new data
namespace (`{prefix}_{ns}_*`, meta keys "ns/...") while the current one answers; `replace_with`
then commits a state naming the new namespace and drops the old collections. One writer at a
time: Milvus has no lock, so run ingests from one place (the Engine's folder lock serialises
the writers of one machine); a backfill from many machines is a bulk load (milvus_bulk.py):
parallel invisible inserts, one commit.

A search limited to some articles (rag.types.Where) adds their condition on the chunks' own
source_key, date_key and doc_id fields to the visibility filter of the search itself, so k
passages come back whenever the articles hold k.
"""

from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from rag.errors import IndexMismatchError
from rag.index.base import IndexInfo, StoredChunk
from rag.index.milvus_articles import MilvusArticles
from rag.index.milvus_connection import LIMIT
from rag.index.milvus_keyword import bm25_scores, idf
from rag.index.milvus_rows import read_pieces, stored_chunk
from rag.index.milvus_schema import DATA, SCHEMA, check_schema, encode_token, old_schema, quote, where_filter
from rag.types import Where

_CITATION = ["chunk_id", "doc_id", "ordinal", "char_start", "char_end", "text", "title", "source", "path",
             "url", "date", "file_start", "file_end", "line_start", "line_end", "page", "language"]
_ROW = _CITATION + ["keywords", "vector", "pieces", "piece_vectors"]
ROW_CACHE = 4096  # chunk rows kept per store (~4-8 KB each)


class MilvusStore(MilvusArticles):
    """Documents, chunks, vectors, files and BM25 keywords in Milvus collections
    (rag.index.base.IndexStore). Open it with `MilvusStore(uri, prefix, create=...)` or
    `open_milvus(settings.store)`; the article list and file records are milvus_articles.py's."""

    # state ---------------------------------------------------------------------------------

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
        """Read the committed state again if the head moved; IndexMismatchError for an index an
        earlier version built (what a reader opens before every question)."""
        state = self._load()
        if state is not None:
            check_schema(state, self.location)

    def check(self, verify: bool = False, full: bool = False) -> list[str]:
        """The collections exist and hold the passages the state counts (the server checks its
        own files: `verify` and `full` add nothing here)."""
        state = self._load()
        if state is None:
            return []
        if int(state.get("schema") or 1) < SCHEMA:
            return [str(old_schema(self.location))]
        with self._guard() as client:
            missing = [f"{state['data']}_{k}" for k in DATA if not client.has_collection(f"{state['data']}_{k}")]
        if missing:
            return [f"collections {', '.join(missing)} are missing at {self.uri}: rebuild with "
                    "`rag ingest --rebuild PATH...` (or `rag migrate --to milvus` from a local index)"]
        # Counting scans the collection: once per generation (rag stats and /api/health ask often).
        if self._counted[0] != (state["data"], state["generation"]):
            rows = self._query(f"{state['data']}_chunks", self._visible(state), ["count(*)"])
            self._counted = ((state["data"], state["generation"]), int(rows[0]["count(*)"]) if rows else 0)
        counted = self._counted[1]
        if counted != state["chunks"]:
            return [f"{state['data']}_chunks at {self.uri} holds {counted} passages, the index state says "
                    f"{state['chunks']}: run `rag check --repair`, else `rag ingest --rebuild PATH...`"]
        return []

    def repair(self) -> list[str]:
        """Finish or discard what an interrupted write left, and delete replaced rows now
        (not waiting for the grace period); what was done."""
        with self._lock:
            head, self._cleaned = self._read_head()
            state = self._read_state(head) if head else None
            if state is None:
                return []
            pending = state.get("pending") or {}
            unfinished = bool(pending) and self._cleaned < pending["before"]
            waiting = [e for e in state.get("retiring", []) if e["before"] > self._swept] + state.get("orphans", [])
            discarded = sum(self._delete(f"{state['data']}_{kind}", f"gen > {int(state['generation'])}")
                            for kind in ("chunks", "documents", "files"))
            self._cleanup(state, force=True)
            done = [f"{self.location}: discarded {discarded} rows of a write that never committed"] if discarded else []
            if unfinished:
                done.append(f"{self.location}: applied the term frequencies of generation {state['generation']}")
            if waiting:
                done.append(f"{self.location}: deleted what {len(waiting)} earlier writes replaced")
            return done

    def maintain(self) -> None:
        """After an ingest: delete what writes replaced more than `grace` seconds ago."""
        with self._lock:
            head, self._cleaned = self._read_head()
            state = self._read_state(head) if head else None
            if state is not None:
                self._cleanup(state)

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
    # reading -------------------------------------------------------------------------------

    def search_dense(self, vector: np.ndarray, k: int, where: Where | None = None) -> tuple[list[int], list[float]]:
        """The k nearest chunks; `where` is a filter of the search itself (milvus_schema.where_filter)."""
        limited = where_filter(where)

        def read(state):
            check_schema(state, self.location)
            if len(vector) != state["dimension"]:
                raise IndexMismatchError(
                    f"the index at {self.location} holds {state['dimension']}-d vectors, the model gives "
                    f"{len(vector)}-d: run `rag ingest --rebuild PATH...` or configure the index's model")
            params = {"metric_type": "IP", "params": {"ef": max(64, k)} if self.dense_index == "hnsw" else {}}
            with self._guard() as client:
                hits = client.search(f"{state['data']}_chunks", data=[np.asarray(vector, np.float32).tolist()],
                                      anns_field="vector", limit=min(k, LIMIT), filter=self._filter(state, limited),
                                      search_params=params, output_fields=["chunk_id"], timeout=self.timeout)[0]
            return [_hit_id(h) for h in hits], [float(h["distance"]) for h in hits]
        return self._read(read, ([], [])) if k > 0 else ([], [])

    def search_keyword(self, terms: list[str], k: int, where: Where | None = None) -> tuple[list[int], list[float]]:
        """Milvus's BM25 finds 2k candidates (among the chunks `where` names, inside the search);
        they are scored exactly (milvus_keyword.py)."""
        encoded = list(dict.fromkeys(encode_token(t) for t in terms))
        limited = where_filter(where)

        def read(state):
            check_schema(state, self.location)
            if not state["chunks"]:
                return [], []
            with self._guard() as client:
                hits = client.search(f"{state['data']}_chunks", data=[" ".join(encoded)], anns_field="sparse",
                                     limit=min(max(2 * k, k + 20), LIMIT), filter=self._filter(state, limited),
                                     search_params={"metric_type": "BM25"}, output_fields=["chunk_id", "keywords"],
                                     timeout=self.timeout)[0]
            scores = self._bm25(state, encoded, [h["entity"]["keywords"] for h in hits])
            ranked = sorted(((s, -_hit_id(h)) for h, s in zip(hits, scores) if s > 0), reverse=True)[:k]
            return [-i for _, i in ranked], [s for s, _ in ranked]
        return self._read(read, ([], [])) if encoded and k > 0 else ([], [])

    def _filter(self, state: dict, limited: str) -> str:
        """The committed chunks (`_visible`), of the articles a `where_filter` expression keeps."""
        return f"{self._visible(state)} and ({limited})" if limited else self._visible(state)

    def keyword_scores(self, terms: list[str], chunk_ids: list[int]) -> np.ndarray:
        encoded = [encode_token(t) for t in terms]
        ids = [int(c) for c in chunk_ids]

        def read(state):
            out = np.zeros(len(ids), dtype=np.float64)
            rows = {c: r["keywords"] for c, r in self._rows(state, ids).items()}
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

    def _rows(self, state: dict, ids: list[int]) -> dict[int, dict]:
        """Whole chunk rows by id, through a small cache: a chunk id never changes meaning, so a
        question's passages, vectors, keyword tokens and sentences come in one request."""
        data = state["data"]
        with self._rows_lock:
            cached = {c: self._row_cache[(data, c)] for c in ids if (data, c) in self._row_cache}
        missing = [c for c in dict.fromkeys(ids) if c not in cached]
        if missing:
            for row in self._query_in(f"{data}_chunks", "chunk_id", missing, _ROW):
                row["vector"] = np.asarray(row["vector"], dtype=np.float32)
                cached[int(row["chunk_id"])] = row
            with self._rows_lock:
                for c in missing:
                    if c in cached:
                        self._row_cache[(data, c)] = cached[c]
                while len(self._row_cache) > ROW_CACHE:
                    self._row_cache.popitem(last=False)
        return cached

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        # By id, no generation filter: ids are never reused, and a reader's ids come from its
        # searches. A chunk removed since may still be served from the row cache, as it was.
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))
        return self._read(lambda state: {c: stored_chunk(r) for c, r in self._rows(state, ids).items()}, {})

    def vectors(self, chunk_ids: list[int]) -> np.ndarray:
        """The stored vectors of these chunks, in order (zeros for an unknown id, as locally)."""
        ids = [int(c) for c in chunk_ids]

        def read(state):
            rows = self._rows(state, ids)
            out = np.zeros((len(ids), state["dimension"]), dtype=np.float32)
            for i, c in enumerate(ids):
                if c in rows:
                    out[i] = rows[c]["vector"]
            return out
        return self._read(read, np.zeros((len(ids), 0), dtype=np.float32))

    def rerank_data(self, chunk_ids: list[int]) -> dict:
        """(text, vector, sentences without vectors or None, the article's language) of each
        chunk: what ranking a question's candidates needs, in one request."""
        ids = [int(c) for c in chunk_ids]
        return self._read(lambda state: {c: (r["text"], r["vector"], read_pieces(r, False) if r["pieces"] else None,
                                             r["language"]) for c, r in self._rows(state, ids).items()}, {})

    def pieces(self, chunk_ids: Iterable[int], vectors: bool = False) -> dict:
        """The sentences stored at ingest for these chunks (left out: chunks stored without)."""
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))
        return self._read(lambda state: {c: read_pieces(r, vectors) for c, r in self._rows(state, ids).items()
                                         if r["pieces"]}, {})

    def piece_vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored sentence vectors of chunks whose embedded text had these hashes."""
        wanted = list(dict.fromkeys(hashes))

        def read(state):
            rows = self._query_in(f"{state['data']}_chunks", "embed_hash", wanted, ["embed_hash", "pieces", "piece_vectors"],
                                  f'piece_vectors != "" and {self._visible(state)}')
            return {r["embed_hash"]: np.vstack([p.vector for p in read_pieces(r, True)]) for r in rows}
        return self._read(read, {})

    def neighbours(self, chunk_ids: Iterable[int]) -> list[int]:
        """The chunks just before and after these in their documents."""
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))

        def read(state):
            name, out = f"{state['data']}_chunks", []
            rows = self._query_in(name, "chunk_id", ids, ["doc_id", "ordinal"])
            for i in range(0, len(rows), 50):
                around = " or ".join(f"(doc_id == {quote(r['doc_id'])} and ordinal in [{r['ordinal'] - 1}, "
                                     f"{r['ordinal'] + 1}])" for r in rows[i:i + 50])
                out += [int(r["chunk_id"]) for r in self._query(name, f"({around}) and {self._visible(state)}",
                                                                ["chunk_id"])]
            return out
        return self._read(read, [])

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

def _hit_id(hit) -> int:
    """The chunk id of a search hit (pymilvus names it "id" or by the primary key field)."""
    return int(hit["id"] if "id" in hit else hit["entity"]["chunk_id"])


def open_milvus(settings, create: bool = False) -> MilvusStore:
    """The store that config section `store` (rag.config.StoreSettings) names; the token from
    $RAG_MILVUS_TOKEN."""
    return MilvusStore(settings.uri, settings.collection, os.environ.get("RAG_MILVUS_TOKEN", ""),
                       settings.dense_index, settings.timeout, create=create)
