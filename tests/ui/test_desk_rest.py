"""Filters, collections and kept conversations over REST and the Gradio API, against a real
server (tests/ui/conftest.py desk_api_server: RAG_AUTH=alice:s3cret, two collections indexed with
the fake embedder: "sample" and "news")."""

from __future__ import annotations

import json

import httpx
import pytest

from rag.conversations import ConversationStore, Turn
from rag.types import Answer
from tests.ui.conftest import AUTH, NEWS_ARTICLES

QUESTION = "What happened in Basra?"
NEWS_IDS = {name.removesuffix(".md") for name in NEWS_ARTICLES}


@pytest.fixture(scope="module")
def api(desk_api_server) -> httpx.Client:
    with httpx.Client(base_url=desk_api_server.url.rstrip("/"), auth=AUTH, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(desk_api_server) -> httpx.Client:
    with httpx.Client(base_url=desk_api_server.url.rstrip("/"), timeout=60) as client:
        yield client


def ask(api: httpx.Client, **body) -> dict:
    got = api.post("/api/ask", json={"question": QUESTION, "collection": "news", "k": 10, **body})
    assert got.status_code == 200, got.text
    return got.json()


def doc_ids(answer: dict) -> set[str]:
    return {p["citation"]["doc_id"] for p in answer["passages"]}


# collections ------------------------------------------------------------------------------


def test_the_collections_are_listed_the_first_the_default(api):
    assert api.get("/api/collections").json() == [
        {"name": "sample", "default": True, "documents": 5, "passages": 72, "keeps_conversations": True},
        {"name": "news", "default": False, "documents": 5, "passages": 5, "keeps_conversations": True}]


def test_each_collection_answers_from_its_own_articles(api):
    assert doc_ids(ask(api)) == NEWS_IDS
    default = api.post("/api/ask", json={"question": QUESTION}).json()
    assert doc_ids(default) <= {f"iraq-archive-{n}" for n in range(1, 6)}
    news = api.get("/api/documents", params={"collection": "news"})
    assert {d["doc_id"] for d in news.json()} == NEWS_IDS and news.headers["X-Total-Count"] == "5"
    assert api.get("/api/documents/un-may", params={"collection": "news"}).json()["source"] == "UN News"
    assert api.get("/api/documents/un-may").status_code == 404  # not in the default collection
    assert api.get("/api/health", params={"collection": "news"}).json()["documents"] == 5


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/ask", {"question": QUESTION, "collection": "nope"}),
    ("GET", "/api/documents?collection=nope", None),
    ("GET", "/api/documents/un-may?collection=nope", None),
    ("DELETE", "/api/documents/un-may?collection=nope", None),
    ("GET", "/api/sources?collection=nope", None),
    ("GET", "/api/health?collection=nope", None),
    ("GET", "/api/conversations?collection=nope", None),
])
def test_an_unknown_collection_is_a_404_naming_the_ones_there_are(api, method, path, body):
    refused = api.request(method, path, json=body)
    assert refused.status_code == 404
    assert refused.json() == {"error": "no collection named 'nope' (this server has: sample, news; "
                                       "GET /api/collections lists them)"}


def test_sources_are_listed_with_their_article_counts(api):
    assert api.get("/api/sources", params={"collection": "news"}).json() == [
        {"source": "UN News", "documents": 2}, {"source": "Gulf Observer", "documents": 1},
        {"source": "Reuters", "documents": 1}, {"source": "صحيفة الخليج", "documents": 1}]


# filters ----------------------------------------------------------------------------------


def test_a_source_filter_keeps_only_that_source(api):
    answer = ask(api, where={"sources": ["un news"]})  # any case
    assert doc_ids(answer) == {"un-may", "un-june"}


def test_a_month_keeps_only_articles_dated_in_it(api):
    may = ask(api, where={"since": "2024-05", "until": "2024-05"})
    assert doc_ids(may) == {"un-may", "reuters-may", "basra-bridge-ar"}
    assert {p["citation"]["date"][:7] for p in may["passages"]} == {"2024-05"}
    with_undated = ask(api, where={"since": "2024-05", "until": "2024-05", "undated": "include"})
    assert doc_ids(with_undated) == {"un-may", "reuters-may", "basra-bridge-ar", "undated"}
    both = ask(api, where={"sources": ["UN News"], "since": "2024-05-01", "until": "2024-05-31"})
    assert doc_ids(both) == {"un-may"}


def test_articles_and_an_empty_filter(api):
    assert doc_ids(ask(api, where={"doc_ids": ["reuters-may", "undated"]})) == {"reuters-may", "undated"}
    assert doc_ids(ask(api, where={})) == NEWS_IDS
    nothing = ask(api, where={"sources": ["No Such Source"]})
    assert nothing["abstained"] is True and nothing["passages"] == []
    assert nothing["reason"] == "no article matches the filter"


BAD_WHERE = [
    ({"since": "2024-13"}, "where.since: '2024-13' is not a date: use YYYY-MM-DD, YYYY-MM or YYYY"),
    ({"until": "May 2024"}, "where.until: 'May 2024' is not a date: use YYYY-MM-DD, YYYY-MM or YYYY"),
    ({"since": "2024-06", "until": "2024-05"}, "where: the date range ends (2024-05) before it starts (2024-06)"),
    ({"undated": "yes"}, "where.undated: Input should be 'include' or 'exclude'"),
    ({"sources": "UN News"}, "where.sources: Input should be a valid list"),
    ({"source": ["UN News"]}, "where.source: unknown field (allowed: sources, since, until, doc_ids, undated)"),
    ({"doc_ids": [""]}, "where.doc_ids.0: String should have at least 1 character"),
]


@pytest.mark.parametrize(("where", "message"), BAD_WHERE, ids=[m.split(":")[0] + str(i) for i, (_, m) in
                                                               enumerate(BAD_WHERE)])
def test_a_bad_filter_is_a_422_saying_what_is_wrong(api, desk_api_server, where, message):
    refused = api.post("/api/ask", json={"question": QUESTION, "where": where})
    assert refused.status_code == 422 and refused.json() == {"error": message}


def test_an_unknown_ask_field_names_the_new_ones_too(api):
    refused = api.post("/api/ask", json={"question": QUESTION, "filter": {}})
    assert refused.json() == {"error": "filter: unknown field (allowed: question, k, history, mode, where, collection, generate)"}


def test_the_gradio_ask_endpoint_takes_the_same_filter_and_collection(desk_api_server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(desk_api_server.url, auth=AUTH, verbose=False)
    answer = json.loads(client.predict(QUESTION, None, 10, None, {"sources": ["Reuters"]}, "news", api_name="/ask"))
    assert doc_ids(answer) == {"reuters-may"}
    with pytest.raises(AppError, match=r"where.since: '2024-13' is not a date"):
        client.predict(QUESTION, None, None, None, {"since": "2024-13"}, "news", api_name="/ask")
    with pytest.raises(AppError, match="no collection named 'nope'"):
        client.predict(QUESTION, None, None, None, None, "nope", api_name="/ask")


# kept conversations -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def kept(desk_api_server) -> str:
    """A conversation kept in the news collection, as the chat keeps one."""
    store = ConversationStore.in_index(desk_api_server.index_dir.parent / "news")
    answer = Answer.from_json(httpx.post(f"{desk_api_server.url}api/ask", auth=AUTH, timeout=120,
                                         json={"question": "Secret plans of Basra?", "collection": "news"}).json())
    return store.add_turn(None, Turn("Secret plans of Basra?", answer))


def test_kept_conversations_are_listed_and_exported_behind_the_login(api, kept):
    listed = api.get("/api/conversations", params={"collection": "news"}).json()
    assert [(c["id"], c["title"], c["turns"]) for c in listed] == [(kept, "Secret plans of Basra?", 1)]
    assert api.get("/api/conversations").json() == []  # the default collection keeps its own
    exported = api.get(f"/api/conversations/{kept}", params={"collection": "news"})
    assert exported.json()["turns"][0]["question"] == "Secret plans of Basra?"
    markdown = api.get(f"/api/conversations/{kept}/markdown", params={"collection": "news"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["content-disposition"] == (
        'attachment; filename="secret-plans-of-basra.md"; filename*=UTF-8\'\'secret-plans-of-basra.md')
    assert markdown.text.startswith("# Secret plans of Basra?\n\n1 question, ")
    assert api.get("/api/conversations/nope", params={"collection": "news"}).status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/conversations?collection=news"), ("GET", "/api/conversations/{id}?collection=news"),
    ("GET", "/api/conversations/{id}/markdown?collection=news"), ("DELETE", "/api/conversations/{id}?collection=news"),
    ("GET", "/api/collections"), ("GET", "/api/sources"), ("GET", "/config"), ("POST", "/gradio_api/queue/join"),
])
def test_no_request_without_the_login_sees_them(anonymous, kept, method, path):
    for auth in (None, ("alice", "wrong")):
        refused = anonymous.request(method, path.format(id=kept), auth=auth)
        assert refused.status_code == 401, (auth, refused.text)
        assert "Secret plans" not in refused.text


def test_the_login_page_holds_no_conversation(anonymous, kept):
    page = anonymous.get("/")
    assert page.status_code == 200 and "Secret plans" not in page.text


def test_a_conversation_in_arabic_is_exported_under_its_own_name(api, desk_api_server):
    store = ConversationStore.in_index(desk_api_server.index_dir)
    arabic = store.add_turn(None, Turn("كم طول الجسر؟", message="m"))
    markdown = api.get(f"/api/conversations/{arabic}/markdown")
    assert markdown.status_code == 200 and markdown.text.startswith("# كم طول الجسر؟\n")
    assert markdown.headers["content-disposition"] == (
        "attachment; filename=\"conversation.md\"; filename*=UTF-8''%D9%83%D9%85-%D8%B7%D9%88%D9%84-"
        "%D8%A7%D9%84%D8%AC%D8%B3%D8%B1.md")
    assert store.delete(arabic)


def test_deleting_a_kept_conversation(api, desk_api_server):
    store = ConversationStore.in_index(desk_api_server.index_dir)
    doomed = store.add_turn(None, Turn("Delete me?", message="m"))
    assert api.delete(f"/api/conversations/{doomed}").json() == {"deleted": [doomed]}
    assert api.get(f"/api/conversations/{doomed}").status_code == 404 and store.get(doomed) is None
