"""MilvusStore against a real Milvus Lite server: writes, searches, crashes, outages, mismatches."""

from __future__ import annotations

import hashlib
import math
import uuid

import numpy as np
import pytest

from embeddings.fake import FakeEmbedder
from rag.errors import IndexMismatchError, IndexMissingError, StoreUnavailableError
from rag.index.base import FileRecord, IndexChange, IndexStore, NewDocument, Piece
from rag.index.milvus import MilvusStore
from rag.index.milvus_schema import encode_token, translate
from rag.index.sparse import keyword_tokens
from rag.types import Chunk, Document, FilePosition

EMBEDDER = FakeEmbedder(64)
BUILD = {"model": EMBEDDER.name, "chunking": {"max_words": 110}}

SADR = ("Sadr cancels his itikaf\n"
        "Muqtada al-Sadr's followers gathered in Najaf on Friday.\n\n"
        "He cancelled his itikaf after the attacks on protesters, his office said.\n\n"
        "The oil price rose 3.5 percent, to 1,000 dinars.")
OIL = ("Oil exports climb\n"
       "Iraq exported more oil in May than in any month since 2019.\n\n"
       "The ministry said exports would climb again in June.")


def new_document(doc_id: str, text: str, path: str = "/news/a.txt", source: str = "Middle East Eye",
                 language: str = "en") -> NewDocument:
    """A document cut at blank lines, embedded with the fake embedder, tokenised like the Engine."""
    title, _, body = text.partition("\n")
    offset = len(title) + 1
    document = Document(doc_id, body, title, source, path, offset=offset, line=2, language=language)
    chunks, start = [], 0
    for ordinal, part in enumerate(body.split("\n\n")):
        start = body.index(part, start)
        chunks.append(Chunk(doc_id, ordinal, start, start + len(part), part))
        start += len(part)
    texts = [c.text for c in chunks]
    return NewDocument(document, tuple(chunks), EMBEDDER.embed(texts),
                       tuple(hashlib.sha256(t.encode()).hexdigest() for t in texts),
                       tuple(tuple(keyword_tokens(t)) for t in texts))


@pytest.fixture
def store(milvus_uri) -> MilvusStore:
    store = MilvusStore(milvus_uri, f"t{uuid.uuid4().hex[:10]}", create=True)
    store.grace = 0  # replaced rows deleted at once, so the tests see them go
    yield store
    store.drop()
    store.close()


def add(store: MilvusStore, *docs: NewDocument, remove=(), files=None) -> int:
    return store.apply(IndexChange(tuple(remove), tuple(docs), files or {}), BUILD, 64)


def test_add_search_and_cite(store):
    assert isinstance(store, IndexStore) and store.info() is None and store.generation() == 0
    sadr, oil = new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt", "Reuters")
    assert add(store, sadr, oil, files={"/news/a.txt": FileRecord("abc", ("mee-1",))}) == 1

    info = store.info()
    assert (info.backend, info.generation, info.documents, info.chunks, info.dimension) == ("milvus", 1, 2, 5, 64)
    assert info.files == 1 and info.build == BUILD
    assert store.file_records(None) == {"/news/a.txt": FileRecord("abc", ("mee-1",))}
    assert store.file_records(["/news/a.txt", "/x"]) == {"/news/a.txt": FileRecord("abc", ("mee-1",))}
    assert store.files_under("/news") == ["/news/a.txt"] and store.files_under("/new") == []
    assert store.uri in info.location

    query = EMBEDDER.embed(["why did he cancel his itikaf"])[0]
    ids, scores = store.search_dense(query, 3)
    assert ids[0] == 1 and len(ids) == 3
    expected = store.vectors(ids) @ query
    assert np.allclose(scores, expected, atol=1e-5) and scores == sorted(scores, reverse=True)

    stored = store.chunks([1, 4, 99])
    assert set(stored) == {1, 4}
    cited = stored[1]
    assert cited.chunk.text.startswith("He cancelled his itikaf")
    assert (cited.citation.title, cited.citation.source, cited.citation.path) == (
        "Sadr cancels his itikaf", "Middle East Eye", "/news/a.txt")
    document = store.document("mee-1")
    assert document.text[cited.citation.start:cited.citation.end] == cited.chunk.text
    assert cited.citation.file == FilePosition.of(sadr.document, cited.chunk.start, cited.chunk.end)
    assert SADR[cited.citation.file.start:cited.citation.file.end] == cited.chunk.text
    assert document == sadr.document

    assert [d.doc_id for d in store.documents()] == ["mee-1", "oil-1"]
    assert [d.chunks for d in store.documents()] == [3, 2]
    assert store.chunk_ids_of(["oil-1", "nope"]) == [3, 4]
    assert store.existing_doc_ids(["oil-1", "nope"]) == {"oil-1"}
    by_hash = store.vectors_by_hash([sadr.embed_hashes[1], "0" * 64])
    assert list(by_hash) == [sadr.embed_hashes[1]] and np.allclose(by_hash[sadr.embed_hashes[1]], sadr.vectors[1])


def test_the_article_list_is_matched_and_paged_and_one_article_looked_up(store):
    add(store, *[new_document(f"d{n}", f"École {n}\nBody {n}.\n\nMore.", f"/news/{n % 2}.txt") for n in range(5)])
    add(store, new_document("d1", "Straße renamed\nNew body.", "/news/1.txt"), remove=["d1"])
    every = store.documents()
    assert [(d.doc_id, d.path[-5:]) for d in every] == [("d0", "0.txt"), ("d2", "0.txt"), ("d4", "0.txt"),
                                                        ("d1", "1.txt"), ("d3", "1.txt")]
    assert store.find_documents("ÉCOLE", 2, 1) == ([every[1], every[2]], 4)
    assert store.find_documents("strasse") == ([every[3]], 1) and store.find_documents("", 0) == ([], 5)
    assert store.document_info("d1") == every[3] and every[3].title == "Straße renamed" and every[3].chunks == 1
    assert store.document_info("nope") is None


def test_keyword_search_matches_our_tokens_and_exact_bm25(store):
    add(store, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
    # "Sadr's" in the text, "Sadrs" in the question: one token once apostrophes are dropped.
    ids, scores = store.search_keyword(keyword_tokens("Sadrs followers"), 5)
    assert ids == [0]
    # "3.5" and "1,000" stay single tokens, whatever analyzer the server has.
    assert store.search_keyword(keyword_tokens("3.5"), 5)[0] == [2]
    assert store.search_keyword(keyword_tokens("1,000"), 5)[0] == [2]
    assert store.search_keyword(keyword_tokens("nothing matches zebra"), 5) == ([], [])

    # BM25 (k1 1.2, b 0.75) worked out by hand over the five chunks' tokens.
    tokens = [keyword_tokens(t) for t in SADR.partition("\n")[2].split("\n\n") + OIL.partition("\n")[2].split("\n\n")]
    avgdl = sum(map(len, tokens)) / 5
    terms = keyword_tokens("oil exports")

    def bm25(doc):
        total = 0.0
        for term in terms:
            df = sum(term in t for t in tokens)
            tf = doc.count(term)
            if tf:
                total += math.log(1 + (5 - df + 0.5) / (df + 0.5)) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(doc) / avgdl))
        return total

    expected = [bm25(t) for t in tokens]
    assert np.allclose(store.keyword_scores(terms, [0, 1, 2, 3, 4]), expected)
    ids, scores = store.search_keyword(terms, 2)
    assert ids == [3, 4] and np.allclose(scores, [expected[3], expected[4]])
    idf = store.term_idf(["oil", "zebra"])
    assert idf["oil"] == pytest.approx(math.log(1 + 3.5 / 2.5)) and idf["zebra"] == pytest.approx(math.log(1 + 5.5 / 0.5))


def test_remove_and_readd_keep_ids_fresh_and_counts_exact(store, milvus_uri):
    sadr, oil = new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt")
    add(store, sadr, oil)
    add(store, files={"/news/b.txt": FileRecord("def", ("oil-1",))})
    other = MilvusStore(milvus_uri, store.prefix)  # another process's reader
    assert other.info().files == 1 and other.generation() == 2
    add(store, remove=["oil-1"], files={"/news/b.txt": None})
    assert store.info().files == 0 and store.file_records(None) == {}
    add(store, oil, files={"/news/b.txt": FileRecord("def", ("oil-1",))})
    assert add(store, remove=["oil-1"], files={"/news/b.txt": None}) == 5
    assert store.info().chunks == 3 and store.existing_doc_ids(["oil-1"]) == set()
    assert store.search_keyword(["export"], 5) == ([], [])
    assert store.term_idf(["export"])["export"] == pytest.approx(math.log(1 + 3.5 / 0.5))
    other.refresh()
    assert other.chunk_ids_of(["oil-1"]) == [] and other.info().generation == 5 and other.info().files == 0

    # Re-adding replaces: same doc id, new chunk ids, the old chunks gone.
    changed = new_document("mee-1", SADR.replace("Friday", "Saturday"))
    add(store, changed, oil)
    assert store.chunk_ids_of(["mee-1"]) == [7, 8, 9] and store.chunk_ids_of(["oil-1"]) == [10, 11]
    assert store.chunks([0]) == {} and store.info().chunks == 5 and store.info().documents == 2
    assert store.search_keyword(keyword_tokens("Saturday"), 5)[0] == [7]
    assert store.search_keyword(keyword_tokens("Friday"), 5) == ([], [])
    assert store.term_idf(["export"])["export"] == pytest.approx(math.log(1 + 3.5 / 2.5))  # in both oil chunks


def test_sentence_pieces_and_neighbours(store):
    sadr = new_document("mee-1", SADR)
    pieces = []
    for chunk in sadr.chunks:
        cut = chunk.text.index(" ", 10)
        spans = [(0, cut), (cut + 1, len(chunk.text))]
        vectors = EMBEDDER.embed([chunk.text[a:b] for a, b in spans])
        pieces.append(tuple(Piece(a, b, tuple(keyword_tokens(chunk.text[a:b])), v) for (a, b), v in zip(spans, vectors)))
    pieces[2] = ()  # a chunk stored without pieces
    add(store, NewDocument(*[getattr(sadr, f) for f in ("document", "chunks", "vectors", "embed_hashes",
                                                        "keyword_tokens")], pieces=tuple(pieces)))
    data = store.rerank_data([1, 2, 99])
    assert set(data) == {1, 2} and data[2][2] is None and data[1][0] == sadr.chunks[1].text
    assert np.allclose(data[1][1], sadr.vectors[1]) and [p.tokens for p in data[1][2]] == [p.tokens for p in pieces[1]]
    assert np.allclose(store.vectors([1, 99]), [sadr.vectors[1], np.zeros(64)])
    stored = store.pieces([0, 1, 2], vectors=True)
    assert set(stored) == {0, 1}
    for got, want in zip(stored[1], pieces[1]):
        assert (got.start, got.end, got.tokens) == (want.start, want.end, want.tokens)
        assert np.allclose(got.vector, want.vector, atol=2e-3)  # kept as float16
    assert all(p.vector is None for p in store.pieces([0])[0])
    by_hash = store.piece_vectors_by_hash([sadr.embed_hashes[0], sadr.embed_hashes[2]])
    assert list(by_hash) == [sadr.embed_hashes[0]] and by_hash[sadr.embed_hashes[0]].shape == (2, 64)
    assert sorted(store.neighbours([1])) == [0, 2] and store.neighbours([0]) == [1]


def test_long_article_is_stored_in_parts_and_read_back_whole(store):
    paragraph = "Ünïcödé news paragraph about Basra and its port. " * 40
    text = "A long article\n" + "\n\n".join([paragraph.strip()] * 20)
    odd_id = 'long "1" \\ it\'s'  # quotes and a backslash survive the filter expressions
    long = new_document(odd_id, text)
    assert len(long.document.text) > 32_000
    add(store, long)
    assert store.document(odd_id) == long.document and store.existing_doc_ids([odd_id]) == {odd_id}
    add(store, remove=[odd_id])
    assert store.document(odd_id) is None and store.info().chunks == 0


def test_a_crash_before_the_commit_is_invisible_and_repaired(store, milvus_uri, monkeypatch):
    add(store, new_document("mee-1", SADR))

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed before the head moved")

    writer = MilvusStore(milvus_uri, store.prefix)
    with writer._guard() as client:
        monkeypatch.setattr(client, "upsert", crash)
        with pytest.raises(KeyboardInterrupt):
            add(writer, new_document("oil-1", OIL, "/news/b.txt"), remove=["mee-1"])
    store.refresh()
    assert store.generation() == 1 and store.existing_doc_ids(["mee-1", "oil-1"]) == {"mee-1"}
    assert store.search_keyword(["export"], 5) == ([], [])
    repaired = MilvusStore(milvus_uri, store.prefix).repair()
    assert len(repaired) == 1 and "discarded" in repaired[0] and "never committed" in repaired[0]
    assert MilvusStore(milvus_uri, store.prefix).repair() == []

    writer = MilvusStore(milvus_uri, store.prefix)
    add(writer, new_document("oil-1", OIL, "/news/b.txt"))
    assert writer.info().chunks == 5 and writer.chunk_ids_of(["oil-1"]) == [3, 4]
    assert writer.check() == []


def test_a_crash_after_the_commit_shows_the_new_state_and_is_finished(store, milvus_uri, monkeypatch):
    add(store, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
    writer = MilvusStore(milvus_uri, store.prefix)
    calls = []
    real = MilvusStore._cleanup

    def crash_in_cleanup(self, state, force=False):
        calls.append(state["generation"])
        if state.get("pending") and state["pending"]["before"] == 2:
            raise KeyboardInterrupt("killed after the commit")
        return real(self, state, force)

    monkeypatch.setattr(MilvusStore, "_cleanup", crash_in_cleanup)
    with pytest.raises(KeyboardInterrupt):
        add(writer, new_document("mee-1", SADR.replace("Friday", "Sunday")), remove=["oil-1"])
    monkeypatch.setattr(MilvusStore, "_cleanup", real)

    reader = MilvusStore(milvus_uri, store.prefix)
    assert reader.generation() == 2 and reader.info().chunks == 3
    assert reader.chunk_ids_of(["mee-1", "oil-1"]) == [5, 6, 7]  # old rows still stored, hidden
    assert reader.search_keyword(keyword_tokens("Friday"), 5) == ([], [])
    assert reader.search_keyword(keyword_tokens("Sunday"), 5)[0] == [5]
    assert reader.term_idf(["export"])["export"] == pytest.approx(math.log(1 + 3.5 / 0.5))
    assert reader.check() == []
    done = MilvusStore(milvus_uri, store.prefix).repair()
    assert any("term frequencies of generation 2" in line for line in done)
    assert any("deleted what 1 earlier writes replaced" in line for line in done)
    assert reader.chunk_ids_of(["mee-1"]) == [5, 6, 7]

    add(writer, new_document("oil-1", OIL, "/news/b.txt"))
    assert writer.info().chunks == 5 and writer.chunks([0, 3]) == {}
    assert writer.term_idf(["export"])["export"] == pytest.approx(math.log(1 + 3.5 / 2.5))


def test_replaced_rows_stay_for_questions_in_flight(store, milvus_uri):
    store.grace = 60
    add(store, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
    in_flight = MilvusStore(milvus_uri, store.prefix)  # a question that began at generation 1
    in_flight.refresh()
    add(store, new_document("mee-1", SADR.replace("Friday", "Sunday")))
    assert in_flight.search_keyword(keyword_tokens("Friday"), 5)[0] == [0]
    assert in_flight.chunks([0])[0].chunk.text.startswith("Muqtada al-Sadr's followers gathered in Najaf on Friday")
    assert in_flight.document("mee-1").text.count("Friday") == 1

    now = MilvusStore(milvus_uri, store.prefix)  # the next question: generation 2 only
    assert now.search_keyword(keyword_tokens("Friday"), 5) == ([], [])
    assert now.search_keyword(keyword_tokens("Sunday"), 5)[0] == [5]
    assert now.document("mee-1").text.count("Sunday") == 1 and now.check() == []
    now.maintain()  # within the grace period: nothing deleted yet
    assert in_flight.search_keyword(keyword_tokens("Friday"), 5)[0] == [0]
    assert now.repair() == [f"{store.location}: deleted what 1 earlier writes replaced"]
    assert in_flight.search_keyword(keyword_tokens("Friday"), 5) == ([], [])
    assert now.check() == [] and now.info().chunks == 5


def test_dimension_and_build_mismatch(store):
    add(store, new_document("mee-1", SADR))
    with pytest.raises(IndexMismatchError, match="rebuild"):
        store.apply(IndexChange(), BUILD, 384)
    with pytest.raises(IndexMismatchError, match="rebuild"):
        store.apply(IndexChange(), {**BUILD, "model": "other"}, 64)
    with pytest.raises(IndexMismatchError, match=r"64-d .* 384-d"):
        store.search_dense(np.ones(384, dtype=np.float32), 3)


def test_hnsw_index_finds_the_same_first_passage(milvus_uri):
    store = MilvusStore(milvus_uri, f"h{uuid.uuid4().hex[:10]}", dense_index="hnsw", create=True)
    try:
        add(store, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
        query = EMBEDDER.embed(["why did he cancel his itikaf"])[0]
        ids, scores = store.search_dense(query, 2)
        assert ids[0] == 1 and scores[0] == pytest.approx(float(store.vectors([1])[0] @ query), abs=1e-5)
    finally:
        store.drop()


def test_missing_collection(store):
    add(store, new_document("mee-1", SADR))
    with store._guard() as client:
        client.drop_collection(f"{store.prefix}_chunks")
    problems = store.check()
    assert len(problems) == 1 and store.uri in problems[0] and "rag ingest --rebuild" in problems[0]
    with pytest.raises(IndexMissingError, match="rag migrate --to milvus"):
        store.search_keyword(["sadr"], 3)


def test_server_down_then_back(private_milvus):
    store = MilvusStore(private_milvus.uri, "outage", create=True)
    add(store, new_document("mee-1", SADR))
    private_milvus.stop(kill=True)
    for call in (store.generation, lambda: store.search_keyword(["sadr"], 3),
                 lambda: add(store, new_document("oil-1", OIL))):
        with pytest.raises(StoreUnavailableError) as caught:
            call()
        message = str(caught.value)
        assert "\n" not in message and private_milvus.uri in message and "start it" in message
    private_milvus.start()
    assert store.generation() == 1
    assert store.search_keyword(["sadr"], 3)[0] == [0]
    # A restart nobody noticed: the server comes back with the collections released.
    private_milvus.stop()
    private_milvus.start()
    assert store.search_keyword(["sadr"], 3)[0] == [0] and store.generation() == 1
    store.close()


def test_error_messages_name_the_fix():
    from pymilvus import MilvusException

    denied = translate(MilvusException(code=1800, message="auth check failure, please check username and password"),
                       "http://milvus:19530", "rag")
    assert isinstance(denied, StoreUnavailableError) and "RAG_MILVUS_TOKEN" in str(denied)
    assert "http://milvus:19530" in str(denied)
    other = translate(MilvusException(code=65535, message="analyzer: max token length exceeded"), "http://m:19530", "rag")
    assert "RAG_MILVUS_TOKEN" not in str(other) and "http://m:19530" in str(other)
    assert encode_token("3.5") == "3zp5" and encode_token("1,000") == "1zc000" and encode_token("zp") == "zzp"


def test_queries_past_the_query_window_iterate(store, monkeypatch):
    import rag.index.milvus_connection as connection

    add(store, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
    monkeypatch.setattr(connection, "LIMIT", 2)  # Milvus's window is 16,384 rows; 2 here
    assert store.chunk_ids_of(["mee-1", "oil-1"]) == [0, 1, 2, 3, 4]
    assert len(store.documents()) == 2 and len(store.chunks(range(5))) == 5
