"""A damaged index through the chat and the REST API: one message naming the file and the fix,
never a traceback, a plain-text 500 or a chat stuck on "Searching the articles…".

The damage is a garbled keyword file whose lookup makes tantivy panic: pyo3 raises that as a
PanicException, a BaseException that `except Exception` lets through.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from tests.conftest import FAKE_SETTINGS, SAMPLE
from tests.ui.conftest import start_server, stop_server


def _garbled_index(folder: Path) -> Path:
    index = folder / "index"
    Engine(FAKE_SETTINGS, index, embedder=FakeEmbedder(64)).ingest([SAMPLE])
    data = index / json.loads((index / "index.json").read_text())["data"]
    [term] = list(data.glob("keyword-*/*.term"))
    raw = bytearray(term.read_bytes())
    rng = random.Random(3)
    middle = len(raw) // 2
    for i in range(middle, min(len(raw), middle + 4096)):
        raw[i] = rng.randrange(256)
    term.write_bytes(bytes(raw))
    return index


@pytest.fixture
def damaged_server(tmp_path):
    index = _garbled_index(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    server = start_server(index, config, tmp_path / "serve.log")
    yield server
    stop_server(server)


def test_rest_ask_on_a_damaged_index_is_a_json_500_naming_the_fix(damaged_server):
    reply = httpx.post(f"{damaged_server.url}api/ask", json={"question": "Sadr cancelled itikaf", "mode": "keyword"},
                       timeout=60)
    assert reply.status_code == 500 and reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert "keyword-1 is damaged" in error and "rag check --repair" in error
    assert "Traceback" not in damaged_server.log_text()


def test_the_chat_shows_the_message_and_takes_questions_again(tmp_path):
    from ui.app import ChatBackend
    from ui import handlers

    backend = ChatBackend(Engine(FAKE_SETTINGS.with_updates(retrieval={"mode": "keyword"}), _garbled_index(tmp_path),
                                 embedder=FakeEmbedder(64)))
    chat = handlers.add_question((), "Sadr cancelled itikaf")
    chat, _, page, _, question, ask = backend.answered(chat)
    assert "keyword-1 is damaged" in chat[-1].message and "rag check --repair" in page
    assert question["interactive"] is True and ask["interactive"] is True
