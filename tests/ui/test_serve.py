"""How `rag serve` starts, or says in one line why it does not: exposure without a password,
a busy port, `--port 0`, and `--read-only` (a real server over the fake embedder)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SAMPLE
from tests.ui.conftest import SERVER_START_SECONDS, rag_command

FAKE_CONFIG = "embedding:\n  backend: fake\n  dimension: 64\n"


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("serve")
    config = folder / "config.yaml"
    config.write_text(FAKE_CONFIG)
    done = subprocess.run(rag_command("ingest", str(SAMPLE), "--index", str(folder / "index"), "--config", str(config)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder / "index", config


def serve(fake_index, *args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`rag serve ARGS` that is expected to exit by itself."""
    index, config = fake_index
    environment = {**{k: v for k, v in os.environ.items() if k != "RAG_AUTH"}, **(env or {})}
    return subprocess.run(rag_command("serve", "--index", str(index), "--config", str(config), *args),
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=environment)


def test_another_address_without_a_password_is_refused(fake_index):
    done = serve(fake_index, "--host", "0.0.0.0")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: refusing to listen on 0.0.0.0 without a password: set RAG_AUTH=USER:PASSWORD in the "
        "environment (or --auth USER:PASSWORD), or pass --no-auth to serve it to anyone who can reach it"]


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--auth", "alice"], None, "error: --auth / RAG_AUTH must be USER:PASSWORD, both non-empty"),
    ([], {"RAG_AUTH": ":secret"}, "error: --auth / RAG_AUTH must be USER:PASSWORD, both non-empty"),
    (["--no-auth"], {"RAG_AUTH": "alice:s3cret"},
     "error: --no-auth and a password (--auth or RAG_AUTH) contradict each other: drop one"),
])
def test_bad_auth_settings_are_one_line(fake_index, args, env, message):
    done = serve(fake_index, *args, env=env)
    assert done.returncode == 2 and done.stderr.splitlines() == [message]


def test_a_busy_port_is_one_line_and_exit_1(fake_index):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(fake_index, "--port", str(port))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: port {port} is in use; try `rag serve --port {port + 1}`, or `--port 0` for any free port"]


@pytest.fixture(scope="module")
def read_only_server(fake_index, tmp_path_factory):
    """`rag serve --port 0 --read-only`, its URL read from what it prints."""
    index, config = fake_index
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with log.open("w") as handle:
        process = subprocess.Popen(rag_command("serve", "--index", str(index), "--config", str(config), "--port", "0",
                                               "--read-only"),
                                   cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                   env={k: v for k, v in os.environ.items() if k != "RAG_AUTH"})
    deadline = time.monotonic() + SERVER_START_SECONDS
    url = None
    while url is None and time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"Chat UI on (http://127\.0\.0\.1:(\d+)/) ", log.read_text())
        url = found and found.group(1)
        time.sleep(0.2)
    if url is None:
        process.kill()
        pytest.fail(f"no URL printed:\n{log.read_text()}")
    yield url, index, log
    process.terminate()
    process.wait(timeout=15)


def test_port_0_picks_a_free_port_and_prints_the_url(read_only_server):
    url, _, log = read_only_server
    assert int(url.rsplit(":", 1)[1].strip("/")) > 0
    assert httpx.get(url, timeout=30).status_code == 200
    assert "read-only" in log.read_text() and "no login" in log.read_text()


def test_read_only_refuses_uploads_and_removals(read_only_server):
    url, index, _ = read_only_server
    with httpx.Client(base_url=url.rstrip("/"), timeout=60) as api:
        before = api.get("/api/documents").json()
        upload = api.post("/api/documents", files=[("files", ("a.md", b"# A\n\nSome text.\n", "text/markdown"))])
        assert upload.status_code == 403
        assert upload.json() == {"error": "this server is read-only (rag serve --read-only): no uploads or removals"}
        assert api.delete("/api/documents/iraq-archive-1").status_code == 403
        assert api.get("/api/documents").json() == before and len(before) == 5
        assert api.get("/api/health").json()["read_only"] is True
        assert api.post("/api/ask", json={"question": "why did Sadr cancel his itikaf?"}).status_code == 200
        # the page: no upload button and no upload or remove event to call
        config = api.get("/config").json()
    upload_buttons = [c for c in config["components"] if c.get("props", {}).get("elem_id") == "upload"]
    assert upload_buttons and all(c["props"].get("visible") is False for c in upload_buttons)
    triggers = {t[1] for d in config["dependencies"] for t in d.get("targets", [])}
    assert not {"upload", "remove"} & triggers
    assert not (index / "uploads").exists()


@pytest.mark.browser
def test_read_only_articles_tab_only_lists(read_only_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.ui.conftest import CHROMIUM_ARGS

    url, _, _ = read_only_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url, wait_until="load")
            page.get_by_role("tab", name="Articles").click()
            rows = page.locator("#article-list tr", has_text="Middle East Eye")
            expect(rows.first).to_be_visible(timeout=60_000)
            assert page.locator("#article-list button.remove").count() > 0  # rendered, but not shown
            expect(page.locator("#article-list button.remove").first).to_be_hidden()
            expect(page.get_by_role("button", name="Upload articles")).to_have_count(0)
        finally:
            browser.close()


@pytest.mark.parametrize(("indexes", "message"), [
    (["a={index}", "a={other}"], "error: two --index folders are named 'a' ({index} and {other}): name one with "
                                 "--index NAME=PATH"),
    (["{index}", "again={index}/"], "error: the folder {index} is given twice (as 'index' and 'again')"),
])
def test_two_collections_with_one_name_or_folder_are_one_line(fake_index, tmp_path, indexes, message):
    index, config = fake_index
    values = {"index": index, "other": tmp_path / "other"}
    args = [a for value in indexes for a in ("--index", value.format(**values))]
    done = subprocess.run(rag_command("serve", *args, "--config", str(config), "--port", "0"), cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "RAG_AUTH"})
    assert done.returncode == 2 and done.stderr.splitlines() == [message.format(**values)]


def test_collections_are_named_after_their_folders_or_as_given():
    from ui.collections import parse_index_option, plan_collections

    assert parse_index_option("news=/data/news") == ("news", Path("/data/news"))
    assert parse_index_option("My news=~/x") == ("My news", Path("~/x").expanduser())
    assert parse_index_option("/data/a=b/index") == ("index", Path("/data/a=b/index"))  # "=" inside a path
    assert parse_index_option("/data/rag index!") == ("rag index", Path("/data/rag index!"))
    assert plan_collections([], Path("/data/index")) == [("index", Path("/data/index"))]
    assert plan_collections(["/x/sample", "mine=/y/index"], Path("/z")) == [
        ("sample", Path("/x/sample")), ("mine", Path("/y/index"))]
