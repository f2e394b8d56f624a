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
                 env: dict[str, str] | None = None) -> Server:
    """Start `rag serve` on a free port and wait until it answers HTTP (the login page, when
    `env` sets RAG_AUTH). `args` go to `rag serve`, `env` is added to this process's."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "RAG_AUTH"}, "PYTHONUNBUFFERED": "1", **(env or {})}
    handle = log.open("w")
    process = subprocess.Popen(
        rag_command("serve", "--index", str(index_dir), "--config", str(config), "--port", str(port), *args),
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

