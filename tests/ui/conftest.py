"""Fixtures for the UI tests: `rag serve` in a subprocess over a temp index, and Debian's Chromium.

One server over the sample (indexed with the real model by `rag ingest`) serves every browser
and API test; a second one, over an empty index with the fake embedder, shows the first run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from tests.conftest import ROOT, SAMPLE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 90


@dataclass
class Server:
    """A running `rag serve`: its URL, index folder and log file."""

    url: str
    index_dir: Path
    config: Path
    log: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def rag_command(*args: str) -> list[str]:
    """The `rag` CLI run by this interpreter (the venv's), whatever PATH says."""
    return [sys.executable, "-m", "rag.cli", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(index_dir: Path, config: Path, log: Path, args: Sequence[str] = (),
                 env: dict[str, str] | None = None, collections: Sequence[tuple[str, Path]] = (),
                 port: int | None = None) -> Server:
    """Start `rag serve` on a free port (or `port`) and wait until it answers HTTP (the login page,
    when `env` sets RAG_AUTH). `args` go to `rag serve`, `env` is added to this process's;
    `collections`: (name, folder) served as --index NAME=FOLDER after `index_dir` (the default)."""
    port = port or free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "RAG_AUTH"}, "PYTHONUNBUFFERED": "1", **(env or {})}
    handle = log.open("a")
    indexes = [str(index_dir)] + [f"{name}={folder}" for name, folder in collections]
    process = subprocess.Popen(
        rag_command("serve", *(a for i in indexes for a in ("--index", i)), "--config", str(config),
                    "--port", str(port), *args),
        cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    server = Server(f"http://127.0.0.1:{port}/", index_dir, config, log, process)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rag serve exited with {process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    stop_server(server)
    pytest.fail(f"rag serve did not answer within {SERVER_START_SECONDS} s:\n{server.log_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; missing is a failure, never a skip (`make browser` installs it)."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (never `playwright install`)")
    return CHROMIUM


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> tuple[Path, Path]:
    """(index folder, config file): the sample corpus indexed by `rag ingest` with the real model."""
    index_dir = tmp_path_factory.mktemp("ui-sample") / "index"
    config = ROOT / "config.yaml"
    done = subprocess.run(rag_command("ingest", str(SAMPLE), "--index", str(index_dir), "--config", str(config)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return index_dir, config


@pytest.fixture(scope="session")
def ui_server(sample_index, tmp_path_factory) -> Iterator[Server]:
    """`rag serve` over the sample index (real model), for the whole session."""
    index_dir, config = sample_index
    server = start_server(index_dir, config, tmp_path_factory.mktemp("ui-logs") / "serve.log")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def empty_ui_server(tmp_path_factory) -> Iterator[Server]:
    """`rag serve` on a folder with no index yet (the first run), with the fake embedder."""
    folder = tmp_path_factory.mktemp("ui-empty")
    config = folder / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    server = start_server(folder / "index", config, folder / "serve.log")
    yield server
    stop_server(server)


# The README's example login: its curl lines and Python examples run against auth_server unchanged.
AUTH = ("alice", "s3cret")
AUTH_CONFIG = """embedding:
  backend: fake
  dimension: 64
ui:
  max_upload_mb: 0.05
  max_upload_files: 3
  max_uploads_total_mb: 0.2
"""


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory) -> Iterator[Server]:
    """`rag serve` with a login (RAG_AUTH=alice:s3cret) over the sample indexed with the fake
    embedder (the questions here are plumbing), with small upload limits to run into."""
    folder = tmp_path_factory.mktemp("ui-auth")
    config = folder / "config.yaml"
    config.write_text(AUTH_CONFIG)
    done = subprocess.run(rag_command("ingest", str(SAMPLE), "--index", str(folder / "index"), "--config", str(config)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    server = start_server(folder / "index", config, folder / "serve.log", env={"RAG_AUTH": ":".join(AUTH)})
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory) -> Path:
    """Where screenshots go: $UI_ARTIFACTS_DIR (e.g. test-artifacts/, gitignored), else a temp dir."""
    folder = Path(os.environ.get("UI_ARTIFACTS_DIR") or tmp_path_factory.mktemp("ui-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def rag_ask_json(index_dir: Path, config: Path, question: str) -> dict:
    """`rag ask --json QUESTION` on the index, parsed."""
    done = subprocess.run(rag_command("ask", question, "--json", "--index", str(index_dir), "--config", str(config)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def uploads_of(server: Server) -> list[str]:
    """The names of the files in the server's uploads folder."""
    folder = server.index_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []



# A second collection beside the sample: dated articles of two sources about Basra, one undated,
# and one in Arabic, so filters and collections have something to tell apart.
NEWS_ARTICLES = {
    "un-may.md": """---
title: Basra votes peacefully, UN envoy tells the Security Council
source: UN News
date: 2024-05-14
---
The UN envoy told the Security Council that the provincial elections in Basra were held peacefully. Turnout in Basra reached forty-one percent, the highest since 2013.
""",
    "un-june.md": """---
title: Basra's water is running short, UN envoy warns
source: UN News
date: 2024-06-03
---
The UN envoy warned that Basra faces its worst water shortage in decades. The Shatt al-Arab carried a third less water into Basra than it did ten years ago.
""",
    "reuters-may.md": """---
title: Basra signs a deal to import electricity from Kuwait
source: Reuters
date: 2024-05-20
---
Basra province signed a deal to import 500 megawatts of electricity from Kuwait before the summer. The power line to Basra will be finished in August, officials said.
""",
    "undated.md": """---
title: Basra port handles record cargo
source: Gulf Observer
---
The port of Umm Qasr near Basra handled a record eleven million tonnes of cargo, the port authority said.
""",
    "basra-bridge-ar.md": """---
title: افتتاح جسر جديد فوق شط العرب في البصرة
source: صحيفة الخليج
date: 2024-05-10
---
افتتحت الحكومة المحلية في البصرة جسراً معلقاً جديداً فوق شط العرب يوم الخميس. وقال المحافظ إن طول الجسر ثمانمئة متر وإنه سيخفف الزحام عن مركز المدينة.

وأضاف أن الجسر كلف مئتي مليون دولار وأن شركة تركية بنته خلال ثلاث سنوات.
""",
}


def write_news(folder: Path) -> Path:
    """The NEWS_ARTICLES as files in `folder` (made), for `rag ingest`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in NEWS_ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def ingest(paths: Sequence[Path], index_dir: Path, config: Path) -> None:
    done = subprocess.run(rag_command("ingest", *map(str, paths), "--index", str(index_dir), "--config", str(config)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def desk_api_server(tmp_path_factory) -> Iterator[Server]:
    """`rag serve` with a login (alice:s3cret) over two collections indexed with the fake embedder
    (the REST plumbing of filters, collections and conversations): "sample" (the default) and
    "news" (NEWS_ARTICLES)."""
    folder = tmp_path_factory.mktemp("ui-desk-api")
    config = folder / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    ingest([SAMPLE], folder / "sample", config)
    ingest([write_news(folder / "news-articles")], folder / "news", config)
    server = start_server(folder / "sample", config, folder / "serve.log", env={"RAG_AUTH": ":".join(AUTH)},
                          collections=[("news", folder / "news")])
    yield server
    stop_server(server)


# The browser tests' one way to ask -----------------------------------------------------------

WAIT_MS = 60_000


def ask(page, question: str):
    """Type the question, press Enter, wait for its reply; returns the question's turn."""
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    expect(box).to_be_editable(timeout=WAIT_MS)
    turns = page.locator("#conversation .turn")
    before = turns.count()
    box.fill(question)
    box.press("Enter")
    expect(turns).to_have_count(before + 1, timeout=WAIT_MS)
    turn = turns.nth(before)
    expect(turn.locator(".question")).to_have_text(question)
    expect(turn.locator(".reply .searching")).to_have_count(0, timeout=WAIT_MS)
    expect(turn.locator(".answer-sentences, .abstained, .notice").first).to_be_visible(timeout=WAIT_MS)
    return turn
