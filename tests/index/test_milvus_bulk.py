"""The bulk load on a real Milvus Lite server: workers in parallel, one commit, all or nothing."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.errors import IndexProblem
from rag.index.base import FileRecord
from rag.index.milvus import MilvusStore
from rag.index.milvus_bulk import abort_bulk, begin_bulk, commit_bulk, insert_bulk
from rag.index.sparse import keyword_tokens
from tests.index.test_milvus_store import BUILD, OIL, SADR, add, new_document


@pytest.fixture
def store(milvus_uri) -> MilvusStore:
    store = MilvusStore(milvus_uri, f"b{uuid.uuid4().hex[:10]}", create=True)
    store.grace = 0
    yield store
    store.drop()


def test_workers_insert_in_parallel_and_one_commit_shows_all(store, milvus_uri):
    add(store, new_document("mee-1", SADR))  # 3 chunks, ids 0-2
    load = begin_bulk(store, BUILD, 64, workers=2, ids_per_worker=100)
    batches = [[new_document("oil-1", OIL, "/news/b.txt")],
               [new_document("mee-1", SADR.replace("Friday", "Sunday")), new_document("oil-2", OIL, "/news/c.txt")]]

    def work(worker):  # each worker its own connection, as on its own machine
        return insert_bulk(MilvusStore(milvus_uri, store.prefix), load, worker, batches[worker])

    with ThreadPoolExecutor(2) as pool:
        summaries = [json.loads(json.dumps(s)) for s in pool.map(work, [0, 1])]  # sent over the wire
    reader = MilvusStore(milvus_uri, store.prefix)
    assert reader.generation() == 1 and reader.search_keyword(keyword_tokens("Sunday"), 5) == ([], [])

    files = {"/news/b.txt": FileRecord("b", ("oil-1",)), "/news/c.txt": FileRecord("c", ("oil-2",))}
    assert commit_bulk(store, load, summaries, files) == 2
    reader.refresh()
    info = reader.info()
    assert (info.documents, info.chunks, info.files) == (3, 7, 2)
    assert reader.languages() == {"en": 3} and reader.sources() == [("Middle East Eye", 3)]
    assert reader.chunk_ids_of(["oil-1"]) == [3, 4] and reader.chunk_ids_of(["mee-1"]) == [103, 104, 105]
    assert reader.search_keyword(keyword_tokens("Sunday"), 5)[0] == [103]
    assert reader.search_keyword(keyword_tokens("Friday"), 5) == ([], [])  # the old version retired
    expected = MilvusStore(milvus_uri, store.prefix).term_idf(["export"])["export"]
    assert expected == pytest.approx(__import__("math").log(1 + (7 - 4 + 0.5) / (4 + 0.5)))
    add(store, new_document("late-1", OIL, "/news/d.txt"))
    assert store.chunk_ids_of(["late-1"]) == [203, 204]  # after the reserved ranges
    assert store.check() == []


def test_an_open_load_blocks_other_writes_until_aborted(store, milvus_uri):
    add(store, new_document("mee-1", SADR))
    load = begin_bulk(store, BUILD, 64, workers=1, ids_per_worker=50)
    insert_bulk(MilvusStore(milvus_uri, store.prefix), load, 0, [new_document("oil-1", OIL, "/b.txt")])
    with pytest.raises(IndexProblem, match="bulk load .* is open"):
        add(store, new_document("oil-9", OIL, "/news/z.txt"))
    abort_bulk(store)
    add(store, new_document("oil-9", OIL, "/news/z.txt"))
    info = store.info()
    assert (info.documents, info.chunks) == (2, 5) and store.existing_doc_ids(["oil-1"]) == set()
    with pytest.raises(IndexProblem, match="another write committed"):
        commit_bulk(store, load, [])
    with pytest.raises(IndexProblem, match="chunk ids"):
        insert_bulk(store, begin_bulk(store, BUILD, 64, workers=1, ids_per_worker=1), 0,
                    [new_document("oil-1", OIL, "/b.txt")])
    abort_bulk(store)
    assert store.check() == []
