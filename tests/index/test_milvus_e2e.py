"""The CLI, the REST API and the chat's renderers with `store.backend: milvus`, against a real
Milvus Lite server: the example question, stats, the server killed and back, and migration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, make_cli

SADR = "why did Sadr cancel his itikaf?"


def api_client(config: Path, engine=None):
    """The REST API (what `rag serve` mounts under /api) over an engine of this config."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rag.config import load_settings
    from rag.engine import Engine
    from ui.api import build_router, install_error_handlers
    from ui.limits import UploadLimits

    engine = engine or Engine(load_settings(config), config.parent / "index")
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_router(engine, UploadLimits(1_000_000, 5, 10_000_000), read_only=True))
    return TestClient(app)


@pytest.fixture
def served(milvus_sample):
    """(server, cli, config) over the sample in Milvus (tests/milvus_server.py milvus_sample)."""
    server, config, index = milvus_sample
    if server.process is None:  # a test killed it and failed before starting it again
        server.start()
    return server, make_cli(config, index), config


@pytest.mark.model
def test_the_example_question_cites_middle_east_eye(served):
    _, cli, _ = served
    answer = json.loads(cli("ask", "--json", SADR).output)
    assert not answer["abstained"]
    cited = [p for p in answer["passages"] if "He cancelled his itikaf" in p["text"]]
    assert cited and cited[0]["citation"]["source"] == "Middle East Eye"
    assert cited[0]["citation"]["file"]["line_start"] > 0
    assert "1 unchanged" in cli("ingest", str(SAMPLE)).output  # content-hash skip, nothing embedded


@pytest.mark.model
def test_stats_and_docs_say_which_backend_and_where(served):
    server, cli, _ = served
    stats = json.loads(cli("stats", "--json").output)
    assert (stats["backend"], stats["documents"], stats["chunks"], stats["healthy"]) == ("milvus", 5, 72, True)
    assert server.uri in stats["location"] and "sample_*" in stats["location"]
    docs = json.loads(cli("docs", "--json").output)
    assert len(docs) == 5 and sum(d["chunks"] for d in docs) == 72


@pytest.mark.model
def test_the_api_answers_and_the_chat_opens_the_article(served):
    from rag.config import load_settings
    from rag.engine import Engine
    from ui.handlers import parse_citation_request, render_answer, render_article

    _, _, config = served
    engine = Engine(load_settings(config), config.parent / "index")
    answer = api_client(config, engine).post("/api/ask", json={"question": SADR}).json()
    citation = next(p["citation"] for p in answer["passages"] if "He cancelled his itikaf" in p["text"])
    assert citation["source"] == "Middle East Eye"

    html = render_answer(engine.ask(SADR))
    assert "He cancelled his itikaf" in html and "Middle East Eye" in html
    request = parse_citation_request({"doc_id": citation["doc_id"], "start": citation["start"],
                                      "end": citation["end"]})
    article = render_article(engine.document(citation["doc_id"]), request)
    assert "<mark" in article and "He cancelled his itikaf" in article


@pytest.mark.model
def test_a_killed_server_gives_one_line_and_answers_resume(served):
    server, cli, config = served
    rest = api_client(config)
    server.stop(kill=True)
    result = cli("ask", SADR, ok=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.output.count("\n") == 1
    assert server.uri in result.output and "start it" in result.output
    failed = json.loads(cli("ask", "--json", SADR, ok=False).output)
    assert server.uri in failed["error"]
    response = rest.post("/api/ask", json={"question": SADR})  # what the chat and the API show
    assert response.status_code == 503 and server.uri in response.json()["error"]
    server.start()
    answer = json.loads(cli("ask", "--json", SADR).output)
    assert any("He cancelled his itikaf" in p["text"] for p in answer["passages"])


def test_migrate_copies_a_local_index_without_embedding(tmp_path, milvus_uri, monkeypatch):
    local_config = tmp_path / "local.yaml"
    local_config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    milvus_config = tmp_path / "milvus.yaml"
    milvus_config.write_text(f"embedding:\n  backend: fake\n  dimension: 64\n"
                             f"store:\n  backend: milvus\n  uri: {milvus_uri}\n  collection: migrated\n")
    local = make_cli(local_config, tmp_path / "index")
    remote = make_cli(milvus_config, tmp_path / "index")
    local("ingest", str(SAMPLE))
    assert "no index at" in remote("ask", SADR, ok=False).output

    from embeddings.fake import FakeEmbedder

    def no_embedding(self, texts):
        raise AssertionError("migrate embedded text")

    with monkeypatch.context() as patch:
        patch.setattr(FakeEmbedder, "embed", no_embedding)
        report = json.loads(remote("migrate", "--to", "milvus", "--json").output)
    assert (report["documents"], report["chunks"], report["files"], report["embedded"]) == (5, 72, 1, 0)
    assert "--replace" in remote("migrate", "--to", "milvus", ok=False).output

    for question in (SADR, "Who is the UN Special Representative for Iraq?", "oil exports"):
        mine, theirs = (json.loads(cli("ask", "--json", question).output) for cli in (local, remote))
        assert [(p["citation"]["doc_id"], p["citation"]["start"]) for p in theirs["passages"]] == \
               [(p["citation"]["doc_id"], p["citation"]["start"]) for p in mine["passages"]]
        assert theirs["answer"] == mine["answer"]
    # The same files are unchanged for the migrated index: a re-ingest embeds nothing.
    assert "1 unchanged" in remote("ingest", str(SAMPLE)).output

    # The index records what shaped it: a config with another model is stopped, naming both.
    real_model = tmp_path / "real.yaml"
    real_model.write_text(f"store:\n  backend: milvus\n  uri: {milvus_uri}\n  collection: migrated\n")
    refused = make_cli(real_model, tmp_path / "index")("ask", SADR, ok=False).output
    assert "fake-hashed-bow-64" in refused and "rag ingest --rebuild" in refused and milvus_uri in refused


def test_rebuild_writes_new_collections_and_drops_the_old(tmp_path, milvus_uri):
    from pymilvus import MilvusClient

    from rag.index.milvus import MilvusStore

    config = tmp_path / "milvus.yaml"
    config.write_text(f"embedding:\n  backend: fake\n  dimension: 64\n"
                      f"store:\n  backend: milvus\n  uri: {milvus_uri}\n  collection: rebuilt\n")
    cli = make_cli(config, tmp_path / "index")
    cli("ingest", str(SAMPLE))
    before = json.loads(cli("ask", "--json", SADR).output)
    out = cli("ingest", "--rebuild").output
    assert "documents: 5 added" in out and "72 embedded" in out
    stats = json.loads(cli("stats", "--json").output)
    assert (stats["documents"], stats["chunks"], stats["files"], stats["healthy"]) == (5, 72, 1, True)
    after = json.loads(cli("ask", "--json", SADR).output)
    assert [p["citation"] for p in after["passages"]] == [p["citation"] for p in before["passages"]]

    client = MilvusClient(milvus_uri)
    names = lambda: sorted(n for n in client.list_collections() if n.startswith("rebuilt_"))  # noqa: E731
    assert len(names()) == 9 and "rebuilt_chunks" in names()  # the old data stays a minute for questions in flight
    assert "earlier writes replaced" in cli("check", "--repair").output
    assert len(names()) == 5 and "rebuilt_meta" in names() and "rebuilt_chunks" not in names()  # one data set
    store = MilvusStore(milvus_uri, "rebuilt")
    ids = store.chunk_ids_of([d.doc_id for d in store.documents()])
    assert len(ids) == 72 and min(ids) >= 72  # new ids: never the old ones again

    assert json.loads(cli("check", "--json").output)["healthy"] is True
    cli("remove", "iraq-archive-2")
    docs = json.loads(cli("docs", "--json").output)
    assert len(docs) == 4 and "iraq-archive-2" not in {d["doc_id"] for d in docs}
    remaining = len(store.chunk_ids_of([d["doc_id"] for d in docs]))
    assert remaining == sum(d["chunks"] for d in docs) < 72
    assert json.loads(cli("stats", "--json").output)["chunks"] == remaining
