"""`rag serve` against what a client may send (ui/server.py's gates), on real servers over the
sample indexed with the fake embedder and tests/ui/conftest.py's small upload limits (0.05 MB a
file, 3 files, so 1.1 MB in one upload with the multipart slack): HTTP Basic after browser
logouts, upload bodies counted as they stream (declared or not, and refused on --read-only before
they are read), Gradio calls that name no function, and request bodies never logged in full.
How the gates count is pinned in process at the end, over a stand-in app.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import subprocess
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ROOT, SAMPLE
from tests.ui.conftest import (AUTH, AUTH_CONFIG, CHROMIUM_ARGS, Server, rag_command, start_server, stop_server,
                               uploads_of)

SADR = "why did Sadr cancel his itikaf?"
BOUNDARY = "hardening-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
LIMIT = "at most 1.1 MB in one upload (ui.max_upload_mb x ui.max_upload_files)"
TOO_MANY = "more than 3 files in one upload; at most 3 (ui.max_upload_files): upload them in smaller groups"
READ_ONLY = {"error": "this server is read-only (rag serve --read-only): no uploads or removals"}


def serve_sample(tmp_path_factory, name: str, args: tuple[str, ...] = (), env: dict | None = None) -> Server:
    folder = tmp_path_factory.mktemp(name)
    config = folder / "config.yaml"
    config.write_text(AUTH_CONFIG)
    done = subprocess.run(rag_command("ingest", str(SAMPLE), "--index", str(folder / "index"), "--config", str(config)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return start_server(folder / "index", config, folder / "serve.log", args, env)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """With a login (RAG_AUTH=alice:s3cret), of its own: a logout here ends every session of alice."""
    running = serve_sample(tmp_path_factory, "hardening", env={"RAG_AUTH": ":".join(AUTH)})
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory) -> Iterator[Server]:
    running = serve_sample(tmp_path_factory, "hardening-read-only", ("--read-only",))
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def api(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url.rstrip("/"), auth=AUTH, timeout=120) as client:
        yield client


def new_log_lines(server: Server, before: str) -> list[str]:
    return server.log_text()[len(before):].splitlines()


def part(name: str, data: bytes, field: str = "files") -> bytes:
    """One multipart part: a file, or a plain field when `name` is empty."""
    filename = f'; filename="{name}"' if name else ""
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"{filename}\r\n'
            f"Content-Type: text/markdown\r\n\r\n").encode() + data + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def chunked(data: bytes, size: int = 64 * 1024) -> bytes:
    """`data` framed as HTTP chunks, without the last (empty) chunk: the body never ends."""
    return b"".join(f"{len(data[i:i + size]):x}\r\n".encode() + data[i:i + size] + b"\r\n"
                    for i in range(0, len(data), size))


def answer_to_partial_body(server: Server, path: str, headers: dict[str, str], sent: bytes = b"",
                           auth: tuple[str, str] | None = AUTH) -> tuple[int, dict]:
    """POST `path` with `headers` and only `sent` of the body, then wait for the answer: a
    server that answers without the rest answers at once; one that waits for it times out here."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=15)
    if auth:
        headers = {**headers, "Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()}
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if sent:
            connection.send(sent)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# HTTP Basic after a browser logs out ---------------------------------------------------------


def ask_over_gradio_with_basic(base: str) -> dict:
    """The Gradio API's /ask as curl -u would call it: POST the call, then read its event stream."""
    event = httpx.post(f"{base}/gradio_api/call/ask", json={"data": [SADR, None, None, None]}, auth=AUTH,
                       timeout=60).raise_for_status().json()["event_id"]
    stream = httpx.get(f"{base}/gradio_api/call/ask/{event}", auth=AUTH, timeout=120).raise_for_status().text
    assert "event: complete" in stream, stream
    data = json.loads(stream.split("event: complete\ndata: ", 1)[1].splitlines()[0])
    return json.loads(data[0])


def test_http_basic_on_the_gradio_api_survives_browser_logouts(server):
    from gradio_client import Client

    base = server.url.rstrip("/")
    for _ in range(2):  # any number of logouts
        with httpx.Client(base_url=base, timeout=60) as browser:
            assert browser.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
            session = dict(browser.cookies)
            assert browser.get("/config").status_code == 200
            assert browser.get("/logout").status_code == 302
        with httpx.Client(base_url=base, cookies=session, timeout=60) as logged_out:
            assert logged_out.get("/config").status_code == 401  # that browser's cookie is dead
            # HTTP Basic works, even next to the dead cookie
            assert logged_out.get("/gradio_api/info", auth=AUTH).status_code == 200
        assert httpx.get(f"{base}/gradio_api/info", auth=AUTH, timeout=60).status_code == 200
        assert ask_over_gradio_with_basic(base)["question"] == SADR
    answer = json.loads(Client(server.url, auth=AUTH, verbose=False).predict(SADR, api_name="/ask"))
    assert answer["question"] == SADR


# upload bodies --------------------------------------------------------------------------------


def test_a_chunked_upload_is_refused_as_soon_as_it_passes_the_limit(server):
    """No Content-Length, and the body never ends: the answer comes once 1.1 MB have passed."""
    body = part("big.md", b"word " * 250_000)  # 1.25 MB
    status, answer = answer_to_partial_body(server, "/api/documents", {"Content-Type": MULTIPART,
                                                                       "Transfer-Encoding": "chunked"}, chunked(body))
    assert (status, answer) == (413, {"error": f"the upload is more than 1.1 MB; {LIMIT}"})


def test_a_whole_chunked_upload_gets_the_same_answer_and_stores_nothing(server, api):
    before, uploads = server.log_text(), uploads_of(server)
    body = multipart(part("big.md", b"word " * 1_000_000))  # 5 MB

    def stream() -> Iterator[bytes]:  # a generator: httpx sends it chunked, with no Content-Length
        yield from (body[i:i + 65536] for i in range(0, len(body), 65536))

    refused = api.post("/api/documents", content=stream(), headers={"Content-Type": MULTIPART})
    assert refused.status_code == 413
    assert refused.json() == {"error": f"the upload is more than 1.1 MB; {LIMIT}"}
    lines = new_log_lines(server, before)
    assert len(lines) == 1 and lines[0].endswith(f"POST /api/documents -> 413: the upload is more than 1.1 MB; {LIMIT}")
    assert uploads_of(server) == uploads


def test_gradio_upload_takes_at_most_the_configured_files(api):
    notes = [part(f"note{n}.md", b"# Note\n\nA short note about the harbour.\n") for n in range(40)]
    refused = api.post("/gradio_api/upload", content=multipart(*notes[:4]), headers={"Content-Type": MULTIPART})
    assert refused.status_code == 413 and refused.json() == {"error": TOO_MANY}
    taken = api.post("/gradio_api/upload", content=multipart(*notes[:3]), headers={"Content-Type": MULTIPART})
    assert taken.status_code == 200 and [Path(p).name for p in taken.json()] == ["note0.md", "note1.md", "note2.md"]


def test_gradio_upload_of_40_files_is_refused_before_its_end(server):
    notes = multipart(*(part(f"note{n}.md", b"# Note\n\nThe harbour.\n" * 1000) for n in range(40)))
    status, answer = answer_to_partial_body(server, "/gradio_api/upload", {"Content-Type": MULTIPART,
                                                                           "Transfer-Encoding": "chunked"},
                                            chunked(notes))
    assert (status, answer) == (413, {"error": TOO_MANY})


def test_gradio_upload_bytes_are_capped_too(server):
    """Within the file count, a big plain field still passes the bytes one upload may hold."""
    status, answer = answer_to_partial_body(server, "/gradio_api/upload", {"Content-Type": MULTIPART,
                                                                           "Transfer-Encoding": "chunked"},
                                            chunked(part("", b"x" * 1_300_000, field="note")))
    assert (status, answer) == (413, {"error": f"the upload is more than 1.1 MB; {LIMIT}"})


@pytest.mark.parametrize("path", ["/api/documents", "/gradio_api/upload"])
def test_read_only_refuses_uploads_before_reading_them(read_only_server, path):
    """500 KB declared (within the limits), not a byte sent: the refusal comes at once."""
    before = read_only_server.log_text()
    status, answer = answer_to_partial_body(read_only_server, path, {"Content-Type": MULTIPART,
                                                                     "Content-Length": "500000"}, auth=None)
    assert (status, answer) == (403, READ_ONLY)
    lines = new_log_lines(read_only_server, before)
    assert len(lines) == 1 and lines[0].endswith(f"POST {path} -> 403: {READ_ONLY['error']}")


# Gradio calls that name no function ---------------------------------------------------------

UNKNOWN_FN = "no function with fn_index 9999 (GET /gradio_api/info lists the API)"
UNKNOWN_NAME = "no API endpoint named 'nope' (GET /gradio_api/info lists them)"
UNKNOWN_CALLS = [
    ("/gradio_api/queue/join", {"fn_index": 9999, "data": [], "session_hash": "hardening"}, UNKNOWN_FN),
    ("/gradio_api/run/predict", {"fn_index": 9999, "data": []}, UNKNOWN_FN),
    ("/gradio_api/run/nope", {"data": []}, UNKNOWN_NAME),
    ("/gradio_api/call/nope", {"data": []}, UNKNOWN_NAME),
    ("/gradio_api/call/v2/nope", {}, UNKNOWN_NAME),
]


@pytest.mark.parametrize(("path", "body", "message"), UNKNOWN_CALLS, ids=[c[0] for c in UNKNOWN_CALLS])
def test_a_call_naming_no_function_is_404_with_one_log_line(server, api, path, body, message):
    before = server.log_text()
    refused = api.post(path, json=body)
    assert refused.status_code == 404 and refused.json() == {"error": message}
    lines = new_log_lines(server, before)
    assert len(lines) == 1 and lines[0].endswith(f"POST {path} -> 404: {message}"), lines


def test_a_gradio_api_call_is_at_most_1_mb(server, api):
    too_big = {"error": "a Gradio API call's body is at most 1.0 MB"}
    flood = json.dumps({"fn_index": 0, "data": ["A" * 1_100_000], "session_hash": "hardening"})
    refused = api.post("/gradio_api/queue/join", content=flood, headers={"Content-Type": "application/json"})
    assert refused.status_code == 413 and refused.json() == too_big
    # any other route of Gradio's API, as it streams: here one that reads up to 1000 files into memory
    blobs = b"".join(part(f"blob{n}.bin", b"x" * 40_000) for n in range(30))
    status, answer = answer_to_partial_body(server, "/gradio_api/component_server",
                                            {"Content-Type": MULTIPART, "Transfer-Encoding": "chunked"}, chunked(blobs))
    assert (status, answer) == (413, too_big)


def test_the_functions_the_page_has_still_join_the_queue(api):
    config = api.get("/config").json()
    ask = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")
    joined = api.post("/gradio_api/queue/join", json={"fn_index": ask, "data": [SADR, None, None, None],
                                                       "session_hash": "hardening-join"})
    assert joined.status_code == 200 and joined.json()["event_id"]


# the log ------------------------------------------------------------------------------------


def test_request_bodies_are_never_logged_in_full(server, api):
    before = server.log_text()
    flood = "A" * 200_000
    # too few inputs: Gradio fails, quoting the inputs it got in its message, run directly and queued
    assert api.post("/gradio_api/run/ask", json={"data": [flood]}).status_code == 500
    event = api.post("/gradio_api/call/ask", json={"data": [flood]}).json()["event_id"]
    assert "event: error" in api.get(f"/gradio_api/call/ask/{event}").text
    # an unknown field's name goes into the REST API's one-line 422
    refused = api.post("/api/ask", json={"question": SADR, "B" * 200_000: 1})
    assert refused.status_code == 422
    logged = server.log_text()[len(before):]
    assert "A" * 1000 not in logged and "B" * 1000 not in logged
    assert max(len(line) for line in logged.splitlines()) < 1000
    # each failure is still there, cut short
    assert logged.count("a Gradio call failed") == 2 and logged.count("didn't receive enough input values") == 2
    assert "POST /api/ask -> 422: BBBB" in logged


# the page -----------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_page_shows_why_too_many_files_were_refused(server, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    files = []
    for n in range(4):
        files.append(tmp_path / f"note{n}.md")
        files[-1].write_text(f"# Note {n}\n\nA short note about the harbour.\n", encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url, wait_until="load")
            page.get_by_label("username").fill(AUTH[0])
            page.get_by_label("password").fill(AUTH[1])
            page.get_by_role("button", name="Login").click()
            expect(page.locator("#question textarea")).to_be_editable(timeout=60_000)
            page.get_by_role("tab", name="Articles").click()
            page.locator('input[type=file][accept*=".jsonl"]').set_input_files([str(f) for f in files])
            expect(page.locator("body")).to_contain_text(TOO_MANY, timeout=60_000)
        finally:
            browser.close()
    assert not any((server.index_dir / "uploads" / f.name).exists() for f in files)


# the gates' counting, in process ---------------------------------------------------------------


class ReadingApp:
    """Stands in for the upload routes: reads the whole body, then answers 200. Like FastAPI, it
    turns any error while reading into a 400 of its own."""

    def __init__(self) -> None:
        self.received = 0

    async def __call__(self, scope, receive, send) -> None:
        status = 200
        try:
            more = True
            while more:
                message = await receive()
                self.received += len(message.get("body", b""))
                more = message.get("more_body", False)
        except Exception:
            status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})


def through_gate(gate_of, path: str, body: bytes, headers: dict[str, str], chunk: int = 64 * 1024):
    """(status, body, bytes the app received) of a POST of `body` in chunks through `gate_of(app)`."""
    app = ReadingApp()
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(gate_of(app)(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return sent[0]["status"], sent[1]["body"], app.received


def upload_gate(read_only: str | None = None):
    from ui.limits import UploadLimits
    from ui.gates import UploadGate

    limits = UploadLimits(max_file_bytes=50_000, max_files=3, max_total_bytes=10**9)
    return lambda app: UploadGate(app, limits, read_only)


def test_the_gate_passes_on_no_chunk_past_the_limit():
    from ui.gates import MULTIPART_SLACK

    limit = 3 * 50_000 + MULTIPART_SLACK
    status, body, received = through_gate(upload_gate(), "/api/documents", multipart(part("a.md", b"w" * 10**7)),
                                          {"Content-Type": MULTIPART})
    assert status == 413 and json.loads(body)["error"].startswith("the upload is more than 1.1 MB; at most 1.1 MB")
    assert limit - 64 * 1024 < received <= limit  # the chunk that passed the limit never reached the app


def test_the_gate_refuses_before_reading_when_declared_too_big_or_read_only():
    declared = {"Content-Type": MULTIPART, "Content-Length": str(10**7)}
    assert through_gate(upload_gate(), "/api/documents", b"", declared)[::2] == (413, 0)
    for path in ("/api/documents", "/gradio_api/upload/"):
        status, body, received = through_gate(upload_gate("read-only"), path, b"x" * 1000, {"Content-Type": MULTIPART})
        assert (status, json.loads(body), received) == (403, {"error": "read-only"}, 0)


def test_the_gate_counts_gradio_upload_files_and_lets_the_rest_through():
    three = multipart(*(part(f"n{i}.md", b"text " * 100) for i in range(3)))
    for chunk in (1, 7, 64, 1 << 16):  # delimiters split across chunks anywhere
        assert through_gate(upload_gate(), "/gradio_api/upload", three, {"Content-Type": MULTIPART}, chunk)[:2] \
            == (200, b"read")
    four = multipart(*(part(f"n{i}.md", b"text " * 100) for i in range(4)))
    status, body, received = through_gate(upload_gate(), "/gradio_api/upload", four, {"Content-Type": MULTIPART}, 7)
    assert status == 413 and json.loads(body) == {"error": TOO_MANY}
    assert received < four.index(b'filename="n3.md"')  # nothing of the fourth file reached the app
    # REST uploads count their files in ui.api (with the exact number); other routes are not gated
    assert through_gate(upload_gate(), "/api/documents", four, {"Content-Type": MULTIPART})[:2] == (200, b"read")
    assert through_gate(upload_gate(), "/api/ask", b"x" * 10**7, {})[:2] == (200, b"read")


def test_part_counter_counts_the_parts_begun_never_the_closing_line():
    from ui.gates import PartCounter

    body = multipart(*(part(f"n{i}.md", b"--" + BOUNDARY.encode()[:-1] + b"--") for i in range(5)))
    for size in range(1, 40):
        counter = PartCounter.of(MULTIPART)
        counts = [counter.feed(body[i:i + size]) for i in range(0, len(body), size)]
        assert counts[-1] == 5 and counts == sorted(counts)
    assert PartCounter.of("application/json") is None
    assert PartCounter.of(f'multipart/form-data; boundary="{BOUNDARY}"').feed(part("a.md", b"x")) == 1
