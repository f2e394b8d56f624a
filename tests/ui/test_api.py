"""The Gradio `/ask` endpoint of `rag serve`: the `rag ask --json` object, as a JSON string.

gradio_client 2.7 treats any dict with a "path" string in a result as a file to download (and our
citations have a `path`), so the endpoint returns a string, and a default `Client(url)` works.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.ui.conftest import rag_ask_json

pytestmark = pytest.mark.model

SADR = "why did Sadr cancel his itikaf?"


class JsonClient:
    """A default gradio_client.Client whose /ask results are parsed from their JSON string."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)  # default download_files: nothing to download

    def predict(self, *args, api_name: str) -> dict:
        result = self.client.predict(*args, api_name=api_name)
        assert isinstance(result, str)
        return json.loads(result)

    def view_api(self, **kwargs):
        return self.client.view_api(**kwargs)


@pytest.fixture(scope="module")
def client(ui_server):
    return JsonClient(ui_server.url)


def test_ask_returns_exactly_the_rag_ask_json(client, ui_server):
    got = client.predict(SADR, api_name="/ask")
    assert got == rag_ask_json(ui_server.index_dir, ui_server.config, SADR)
    # the contract's keys (new keys may be added, and then the equality above covers them)
    assert {"question", "abstained", "passages", "answer", "search_query", "reason"} <= set(got)
    assert got["question"] == SADR and got["abstained"] is False
    first = got["passages"][0]
    assert {"rank", "text", "score", "citation"} <= set(first)
    assert {"doc_id", "title", "source", "path", "start", "end", "url", "date"} <= set(first["citation"])
    assert first["rank"] == 1 and first["score"] == 1.0
    assert first["citation"]["source"] == "Middle East Eye"
    assert any("cancelled his itikaf" in s["sentence"] for s in got["answer"])


def test_ask_over_plain_http(client, ui_server):
    """Any HTTP client can call it: POST the inputs (question, history, k, mode, where, collection;
    null for the defaults, and the trailing ones may be left out, as before `where` and `collection`
    were added), then read the result from the event stream."""
    base = ui_server.url + "gradio_api/call/ask"
    body = json.dumps({"data": [SADR, [], None, None]}).encode()
    request = urllib.request.Request(base, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as response:
        stream = response.read().decode()
    assert "event: complete" in stream, stream
    data = stream.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0]
    assert [json.loads(item) for item in json.loads(data)] == [client.predict(SADR, api_name="/ask")]


def test_history_makes_a_follow_up_searchable(client):
    alone = client.predict("Why did he cancel it?", api_name="/ask")
    followed = client.predict("Why did he cancel it?", [SADR], api_name="/ask")
    assert alone["search_query"] == "Why did he cancel it?"
    assert followed["question"] == "Why did he cancel it?"
    assert followed["search_query"] != followed["question"] and "sadr" in followed["search_query"].lower()
    assert any("cancelled his itikaf" in p["text"] for p in followed["passages"][:3])


def test_k_limits_the_passages(client):
    answer = client.predict(SADR, None, 2, api_name="/ask")
    retrieved = answer["passages"][:len(answer["passages"]) - answer["context_passages"]]
    assert [p["rank"] for p in retrieved] == [1, 2]  # after them: passages made to cite context sentences
    assert all(p["rank"] > 2 for p in answer["passages"][len(retrieved):])


def test_an_empty_question_is_an_error_with_a_message(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_only_ask_is_in_the_api(client):
    info = client.view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/ask"]
    assert info["unnamed_endpoints"] == {}
    parameters = [p["parameter_name"] for p in info["named_endpoints"]["/ask"]["parameters"]]
    assert parameters == ["question", "history", "k", "mode", "where", "collection"]


def test_article_files_are_not_served(client, ui_server):
    """A citation's path is information, not a download: the server refuses to serve it."""
    path = client.predict(SADR, api_name="/ask")["passages"][0]["citation"]["path"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(ui_server.url + "gradio_api/file=" + urllib.parse.quote(path), timeout=30)
    assert refused.value.code == 403
