"""The Milvus store against the local one on articles in seven languages (real Milvus Lite): the
same tokens of every script, passages found, BM25 scores, languages, article rows and filtered
searches.

Scores are compared with BM25 worked out here over the live passages (k1 1.2, b 0.75), which the
Milvus store computes exactly; the local store's tantivy counts its generation marker document
and deleted passages not yet merged away in its statistics (and its `term_idf` the latter), so
its scores differ from these by a few per cent while ranking the passages alike. Dense scores
agree to 1e-3: the local record keeps vectors as float16."""

from __future__ import annotations

import hashlib
import math
import re
import uuid

import numpy as np
import pytest

from embeddings.fake import FakeEmbedder
from rag.index.base import IndexChange, NewDocument
from rag.index.local import LocalStore
from rag.index.milvus import MilvusStore
from rag.index.milvus_migrate import migrate
from rag.index.milvus_schema import decode_token, encode_token
from rag.language.tokens import keyword_tokens
from rag.types import Chunk, Document, DocumentInfo, Where

EMBEDDER = FakeEmbedder(64)
BUILD = {"model": EMBEDDER.name, "chunking": {"max_words": 110}}

# (doc_id, language, source, date as written, title, paragraphs): one passage per paragraph.
ARTICLES = [
    ("ar-1", "ar", "Al Jazeera", "2024-05-14", "ارتفاع صادرات النفط العراقية",
     ["ارتفعت صادرات النفط العراقية في شهر مايو إلى أعلى مستوى منذ عام 2019.",
      "وقالت وزارة النفط إن الصادرات ستزيد مرة أخرى في يونيو.",
      "وأكد الوزير أن أسعار النفط مستقرة رغم التوترات."]),
    ("de-1", "de", "Deutsche Welle", "2024-05-20", "Regierung plant neue Steuern",
     ["Die Regierung in Berlin plant neue Steuern auf Flugreisen.",
      "Die Opposition kritisierte die Pläne der Regierungen scharf.",
      "Müller sagte, die Steuern würden 2025 eingeführt."]),
    ("tr-1", "tr", "Anadolu", "2024-06-02", "İstanbul'da deprem tatbikatı",
     ["İstanbul'da büyük bir deprem tatbikatı yapıldı.",
      "Erdoğan'ın açıklamasına göre binlerce kişi tatbikata katıldı."]),
    ("ru-1", "ru", "TASS", "", "Москва открыла новую линию метро",
     ["В Москве открыли новую линию метро с десятью станциями.",
      "Мэр города заявил, что строительство заняло пять лет."]),
    ("zh-1", "zh", "Xinhua", "2024-05", "中国经济增长放缓",
     ["中国经济在第一季度增长百分之五点三。", "国家统计局表示，消费和出口推动了中国经济增长。"]),
    ("hi-1", "hi", "Dainik Jagran", "30 April 2024", "दिल्ली में भारी बारिश",
     ["दिल्ली में भारी बारिश से कई सड़कों पर पानी भर गया।",
      "मौसम विभाग ने अगले दो दिनों के लिए चेतावनी जारी की।"]),
    ("en-1", "en", "Reuters", "2024-05-03", "Oil exports climb",
     ["Iraq exported more oil in May than in any month since 2019.",
      "The ministry said oil exports would climb again in June.",
      "Prices of crude held steady despite the tensions."]),
    ("en-2", "en", "reuters", "", "Baghdad traffic",
     ["Traffic in Baghdad slowed as new bridges opened.", "The oil ministry moved its offices."]),
]
SEARCHES = ["oil exports", "النفط الصادرات", "Steuern Regierungen", "deprem tatbikatı", "метро Москве",
            "中国经济", "दिल्ली बारिश"]
LANGUAGE_OF = {doc_id: language for doc_id, language, *_ in ARTICLES}


def new_document(doc_id: str, language: str, source: str, date: str, title: str, paragraphs: list[str]) -> NewDocument:
    """An article as the Engine hands it to a store: its language set, tokens of that language."""
    text = "\n\n".join(paragraphs)
    document = Document(doc_id, text, title, source, f"/news/{doc_id}.txt", date=date, language=language)
    chunks, start = [], 0
    for ordinal, part in enumerate(paragraphs):
        start = text.index(part, start)
        chunks.append(Chunk(doc_id, ordinal, start, start + len(part), part))
    return NewDocument(document, tuple(chunks), EMBEDDER.embed(paragraphs),
                       tuple(hashlib.sha256(p.encode()).hexdigest() for p in paragraphs),
                       tuple(tuple(keyword_tokens(p, True, language)) for p in paragraphs))


def assert_same_search(milvus, local, vector, terms, k, where=None):
    """Both stores find the same passages in the same order (dense: but for ties), with the same
    dense similarities (to the local record's float16) and the exact BM25 scores."""
    assert_same_up_to_ties(milvus.search_dense(vector, k, where), local.search_dense(vector, k, where))
    found = milvus.search_keyword(terms, k, where)
    assert found[0] == local.search_keyword(terms, k, where)[0]
    assert found[1] == pytest.approx(exact_bm25(milvus, terms, found[0]), rel=1e-9)


def assert_same_up_to_ties(found, expected, tolerance=1e-3):
    """Two dense results are the same passages with the same similarities, but for the order of
    passages whose similarities are within `tolerance` (the local record's float16 vectors; the
    hashed bag of words gives many passages no shared word: similarity 0)."""
    (ids, scores), (expected_ids, expected_scores) = found, expected
    assert len(ids) == len(expected_ids) and scores == pytest.approx(expected_scores, abs=tolerance)
    mine, theirs = dict(zip(ids, scores)), dict(zip(expected_ids, expected_scores))
    for chunk_id in set(mine) & set(theirs):
        assert mine[chunk_id] == pytest.approx(theirs[chunk_id], abs=tolerance)
    for chunk_id in set(mine) ^ set(theirs):  # only at the cut, tied with the last one
        assert mine.get(chunk_id, theirs.get(chunk_id)) == pytest.approx(scores[-1], abs=2 * tolerance)


def live_tokens(store) -> dict[int, list[str]]:
    """Every live chunk's tokens, each in its article's language, by chunk id."""
    live = store.chunks(store.chunk_ids_of([d.doc_id for d in store.documents()]))
    return {c: keyword_tokens(s.chunk.text, True, LANGUAGE_OF[s.chunk.doc_id]) for c, s in live.items()}


def exact_idf(store, terms: list[str]) -> dict[str, float]:
    """BM25 inverse document frequency of each term over the live chunks."""
    tokens = live_tokens(store)
    return {t: math.log(1 + (len(tokens) - (df := sum(t in c for c in tokens.values())) + 0.5) / (df + 0.5))
            for t in terms}


def exact_bm25(store, terms: list[str], chunk_ids: list[int]) -> list[float]:
    """BM25 of these chunks over every live chunk's tokens (k1 1.2, b 0.75)."""
    tokens = live_tokens(store)
    idf, avgdl = exact_idf(store, list(terms)), sum(map(len, tokens.values())) / len(tokens)
    scores = []
    for chunk_id in chunk_ids:
        doc = tokens[chunk_id]
        scores.append(sum(idf[t] * doc.count(t) * 2.2 / (doc.count(t) + 1.2 * (0.25 + 0.75 * len(doc) / avgdl))
                          for t in dict.fromkeys(terms) if t in doc))
    return scores


def every_language(text: str) -> list[str]:
    """The tokens of `text` as each language of the corpus indexes them (what a question finds)."""
    return list(dict.fromkeys(t for language in dict.fromkeys(LANGUAGE_OF.values())
                              for t in keyword_tokens(text, True, language)))


@pytest.fixture
def stores(milvus_uri, tmp_path):
    """(Milvus store, local store) holding the same articles after the same three writes."""
    milvus = MilvusStore(milvus_uri, f"m{uuid.uuid4().hex[:10]}", create=True)
    milvus.grace = 0
    local = LocalStore(tmp_path / "index", create=True)
    documents = [new_document(*article) for article in ARTICLES]
    replaced = new_document("de-1", "de", "Deutsche Welle", "2024-05-21", "Regierung plant neue Steuern",
                            ["Die Regierung in Berlin plant neue Steuern auf Flugreisen.",
                             "Die Opposition kritisierte die Pläne der Regierungen scharf.",
                             "Müller sagte, die Steuern würden 2026 eingeführt."])
    changes = [IndexChange(add=tuple(documents[:5])),
               IndexChange(add=tuple(documents[5:]) + (new_document("gone", "fr", "Le Monde", "2024-05-01",
                                                                     "Grève", ["La grève continue à Paris."]),)),
               IndexChange(remove_doc_ids=("gone", "de-1"), add=(replaced,))]
    for store in (milvus, local):
        for change in changes:
            store.apply(change, BUILD, 64)
        store.refresh()
    yield milvus, local
    milvus.drop()
    milvus.close()
    local.close()


def test_every_token_is_one_word_to_both_analyzers_and_decodes_back():
    from milvus_lite.analyzer.standard import StandardAnalyzer  # what Milvus Lite's "standard" runs

    lite = StandardAnalyzer()
    tokens = {t for article in ARTICLES for text in article[5] for t in keyword_tokens(text, True, article[1])}
    assert {"中国", "国经", "москв", "aciklama"} <= tokens  # CJK bigrams; stems; folded Turkish
    assert any(not c.isalnum() for t in tokens for c in t)  # Devanagari vowel signs and viramas
    for token in tokens:
        encoded = encode_token(token)
        assert decode_token(encoded) == token
        assert encoded.split() == [encoded]  # Standalone's "whitespace"
        assert lite.tokenize(encoded) == [encoded] == re.findall(r"\w+", encoded.lower())
    assert encode_token("दिल्ल") == "दzx93fzलzx94dzल" and encode_token("i\u0307stanbul") == "izx307zstanbul"
    assert encode_token("zx41z") == "zzx41zz" and decode_token("zzx41zz") == "zx41z"
    assert encode_token("a_b-c") == "azx5fzbzx2dzc"  # "_" is a word character to \w: escaped too
    with pytest.raises(ValueError):
        decode_token("zq")


def test_every_passage_is_found_by_each_of_its_tokens(stores):
    milvus, local = stores
    for chunk_id, stored in milvus.chunks(range(40)).items():
        language = LANGUAGE_OF[stored.chunk.doc_id]
        for token in keyword_tokens(stored.chunk.text, True, language):
            ids, scores = milvus.search_keyword([token], 30)
            assert chunk_id in ids and ids == local.search_keyword([token], 30)[0], (token, stored.chunk.text)
            assert scores == pytest.approx(exact_bm25(milvus, [token], ids), rel=1e-9)


def test_an_arabic_word_finds_the_arabic_passages_with_the_local_scores(stores):
    milvus, local = stores
    terms = keyword_tokens("النفط", True, "ar")
    ids, scores = milvus.search_keyword(terms, 5)
    assert terms == ["نفط"] and [milvus.chunks([i])[i].chunk.doc_id for i in ids] == ["ar-1"] * 3
    assert ids == local.search_keyword(terms, 5)[0] and scores == pytest.approx(exact_bm25(milvus, terms, ids))
    every = sorted(milvus.chunks(range(40)))
    for question in SEARCHES:
        terms = every_language(question)
        assert milvus.search_keyword(terms, 6)[0], question
        assert_same_search(milvus, local, EMBEDDER.embed([question])[0], terms, 6)
        assert np.allclose(milvus.keyword_scores(terms, every), exact_bm25(milvus, terms, every))
        assert milvus.term_idf(terms) == pytest.approx(exact_idf(milvus, terms), rel=1e-9)


def test_languages_and_article_rows_are_the_local_ones(stores):
    milvus, local = stores
    assert milvus.languages() == local.languages() == {"en": 2, "ar": 1, "tr": 1, "ru": 1, "zh": 1, "hi": 1, "de": 1}
    assert list(milvus.languages()) == list(local.languages())  # most first, ties as the record orders them
    assert milvus.documents() == local.documents()
    assert milvus.document_info("hi-1") == DocumentInfo("hi-1", "दिल्ली में भारी बारिश", "Dainik Jagran",
                                                         "/news/hi-1.txt", 2, "hi", "30 April 2024")
    assert milvus.document_info("de-1").date == "2024-05-21" and milvus.document_info("gone") is None
    assert milvus.find_documents("москва") == local.find_documents("москва")
    assert milvus.document("zh-1") == local.document("zh-1") and milvus.document("zh-1").language == "zh"
    assert milvus.sources() == local.sources() and milvus.sources()[0] == ("Reuters", 2)  # "reuters" too
    assert milvus.chunks([0])[0].citation.language == "ar"
    german = milvus.chunk_ids_of(["de-1"])[0]
    assert {c: data[3] for c, data in milvus.rerank_data([0, german, 3]).items()} == {0: "ar", german: "de"}


FILTERS = [
    Where(sources=("REUTERS",)),  # both spellings of the source
    Where(sources=("Anadolu", "tass")),
    Where(since="2024-05", until="2024-05"),  # May: "2024-05" itself (its first day) among them
    Where(since="2024-05", until="2024-05", undated=True),
    Where(until="2024-05-15"),  # an open start: "30 April 2024" read as a date
    Where(since="2024-06"),
    Where(doc_ids=("de-1", "tr-1", "nope")),
    Where(sources=("Reuters", "TASS"), since="2024-05", undated=True),
    Where(sources=("Reuters",), doc_ids=("en-2",)),
    Where(sources=("nobody",)),
    Where(doc_ids=("gone",)),  # removed: nothing
]


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: str(w.to_json()))
def test_filtered_searches_return_what_the_local_store_returns(stores, where):
    milvus, local = stores
    for question in ["oil exports", "Steuern Regierungen Москве", "中国经济 बारिश"]:
        for k in (2, 40):
            assert_same_search(milvus, local, EMBEDDER.embed([question])[0], every_language(question), k, where)


def test_a_narrow_filter_still_returns_k_passages(stores):
    milvus, _ = stores
    vector = EMBEDDER.embed(["oil exports climb in May"])[0]
    everyone = milvus.search_dense(vector, 5)[0]
    turkish = milvus.chunk_ids_of(["tr-1"])
    assert not set(everyone) & set(turkish)  # unfiltered, the Turkish passages are not among the best
    assert sorted(milvus.search_dense(vector, 2, Where(sources=("Anadolu",)))[0]) == turkish
    undated = milvus.chunk_ids_of(["ru-1", "en-2"])
    ids = milvus.search_dense(vector, 4, Where(since="2030", undated=True))[0]
    assert sorted(ids) == sorted(undated)  # nothing dated 2030: the undated only
    assert milvus.search_dense(vector, 4, Where(since="2030"))[0] == []
    ids = milvus.search_keyword(every_language("oil"), 1, Where(sources=("reuters",), since="2024-05-03",
                                                                 until="2024-05-03"))[0]
    assert len(ids) == 1 and ids[0] in milvus.chunk_ids_of(["en-1"])
    with pytest.raises(ValueError, match="ends .* before it starts"):
        milvus.search_dense(vector, 4, Where(since="2024-06", until="2024-05"))


def test_migrate_tokenises_each_article_in_its_language(stores, milvus_uri):
    _, local = stores
    copy = MilvusStore(milvus_uri, f"c{uuid.uuid4().hex[:10]}", create=True)
    try:
        report = migrate(local, copy)
        assert (report.documents, report.chunks, report.embedded) == (8, 19, 0)
        assert copy.languages() == local.languages() and copy.documents() == local.documents()
        # "Regierungen" is "regier" to the German stemmer: copied with English stems it would be missed.
        for question in SEARCHES:
            terms = every_language(question)
            found = copy.search_keyword(terms, 6)
            local_ids = local.search_keyword(terms, 6)[0]
            assert [copy.chunks([i])[i].chunk.text for i in found[0]] == \
                   [local.chunks([i])[i].chunk.text for i in local_ids], question
        where = Where(sources=("Deutsche Welle",))
        assert len(copy.search_keyword(keyword_tokens("Regierungen", True, "de"), 5, where)[0]) == 2
    finally:
        copy.drop()
        copy.close()
