"""Nothing leaves the machine: ingest and ask with the real model while outside sockets fail."""

import socket

import pytest

from rag.config import Settings
from rag.engine import Engine
from tests.conftest import SAMPLE


@pytest.fixture
def no_network(monkeypatch):
    attempts = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and self.family != socket.AF_UNIX:
            attempts.append(address)
            raise OSError(f"network disabled in tests: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


@pytest.mark.model
def test_ingest_and_ask_make_no_outside_connection(tmp_path, no_network):
    engine = Engine(Settings(), tmp_path / "index")
    engine.ingest([SAMPLE])
    answer = engine.ask("why did Sadr cancel his itikaf?")
    assert not answer.abstained
    assert no_network == []
