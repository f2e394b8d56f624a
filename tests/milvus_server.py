"""A real Milvus Lite server in a child process on a free loopback port, for tests and scripts.

`milvus-lite server` is the gRPC server the installed `milvus-lite` package ships; pymilvus talks
to it exactly as to Milvus Standalone or Distributed. It always binds 127.0.0.1 here (its own
default is 0.0.0.0). `python -m tests.milvus_server DIR` runs one in the foreground.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class MilvusLiteServer:
    """Starts `milvus-lite server --data-dir DIR --host 127.0.0.1 --port PORT`, waits until it
    answers, and stops it; `stop()` then `start()` again keeps the data (same folder, same port)."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log = self.data_dir.parent / f"milvus-lite-{self.port}.log"

    @property
    def uri(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> "MilvusLiteServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-c", "from milvus_lite.cmdline import main; main()", "server",
                   "--data-dir", str(self.data_dir), "--host", HOST, "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited with {self.process.returncode}: "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    pass
                client = MilvusClient(self.uri, timeout=5)
                client.list_collections()
                client.close()
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"milvus-lite server on {self.uri} did not answer in {timeout:.0f} s")
                time.sleep(0.2)

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGKILL when `kill`, as a crash would) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def __enter__(self) -> "MilvusLiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "milvus-data").resolve()
    port = int(sys.argv[2]) if len(sys.argv) > 2 else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on SIGTERM too
    with MilvusLiteServer(folder, port) as server:
        print(server.uri, flush=True)
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass


# pytest fixtures (import them into a test module: `from tests.milvus_server import milvus_uri`)
try:
    import pytest
except ImportError:  # pragma: no cover - a script without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def milvus_server(tmp_path_factory) -> Iterator[MilvusLiteServer]:
        """One real Milvus Lite server for the session (tests use their own collection prefixes)."""
        server = MilvusLiteServer(tmp_path_factory.mktemp("milvus") / "data").start()
        try:
            yield server
        finally:
            server.stop()

    @pytest.fixture
    def milvus_uri(milvus_server) -> str:
        return milvus_server.uri

    @pytest.fixture
    def private_milvus(tmp_path) -> Iterator[MilvusLiteServer]:
        """A server of this test's own, free to kill and restart."""
        server = MilvusLiteServer(tmp_path / "milvus-data").start()
        try:
            yield server
        finally:
            server.stop()

    @pytest.fixture(scope="session")
    def milvus_sample(tmp_path_factory):
        """(server, config file, index folder): a server of its own with the sample ingested by
        `rag ingest` with the real model into collections `sample_*`. A test may kill the server;
        it must start it again."""
        from tests.conftest import ROOT, SAMPLE

        folder = tmp_path_factory.mktemp("milvus-sample")
        server = MilvusLiteServer(folder / "data").start()
        config = folder / "config.yaml"
        config.write_text(f"store:\n  backend: milvus\n  uri: {server.uri}\n  collection: sample\n")
        done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(SAMPLE), "--index",
                               str(folder / "index"), "--config", str(config)],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and "chunks: 72 added, 72 embedded" in done.stdout, done.stdout + done.stderr
        try:
            yield server, config, folder / "index"
        finally:
            server.stop()
