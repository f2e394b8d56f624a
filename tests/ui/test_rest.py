"""The REST API and the login of `rag serve`, against a real server (tests/ui/conftest.py
auth_server: RAG_AUTH=alice:s3cret, the sample indexed with the fake embedder, small upload
limits). The README's curl lines and Python examples are parsed out of the README and run, so
they cannot drift from what the server does.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.ui.conftest import AUTH, rag_ask_json, rag_command

README_URL = "http://127.0.0.1:7860"
SECTION = "## Serving on a network, and the REST API"
SADR = "why did Sadr cancel his itikaf?"
MY_ARTICLE = """---
title: Arctic beekeepers harvest the first honey in Tromsø
source: Polar Gazette
---
Beekeepers in the Norwegian city of Tromsø harvested the first honey ever produced so far north this August.
The head beekeeper, Ingrid Solberg, said the bees produced 120 kilograms of heather honey.
"""


def readme_blocks(language: str) -> list[str]:
    """The ```language code blocks of the README's serving section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def readme_curl_lines() -> list[str]:
    return [line for block in readme_blocks("bash") for line in block.splitlines() if line.startswith("curl ")]


@pytest.fixture(scope="module")
def api(auth_server) -> httpx.Client:
    with httpx.Client(base_url=auth_server.url.rstrip("/"), auth=AUTH, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(auth_server) -> httpx.Client:
    with httpx.Client(base_url=auth_server.url.rstrip("/"), timeout=60) as client:
        yield client


def new_log_lines(server, before: str) -> list[str]:
    return server.log_text()[len(before):].splitlines()


# the README ---------------------------------------------------------------------------------


def test_the_readme_shows_one_curl_line_per_route():
    def route(line: str) -> str:
        method = re.search(r"-X (\w+)", line)
        method = method.group(1) if method else "POST" if re.search(r" -[dF] ", line) else "GET"
        return f"{method} {re.search(r'/api/[^ ]*', line).group(0)}"

    assert [route(line) for line in readme_curl_lines()] == [
        "GET /api/health", "POST /api/ask", "GET /api/documents", "GET /api/documents/iraq-archive-4",
        "POST /api/documents", "DELETE /api/documents/my-article"]


def test_the_readme_curl_lines_work(auth_server, tmp_path):
    """Each line as printed (URL aside), in order: health, ask, list, read, upload, remove."""
    (tmp_path / "my-article.md").write_text(MY_ARTICLE, encoding="utf-8")
    outputs = []
    for line in readme_curl_lines():
        args = [a.replace(README_URL + "/", auth_server.url) for a in shlex.split(line)]
        done = subprocess.run([*args, "--silent", "--show-error", "--write-out", "\n%{http_code}"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        body, _, status = done.stdout.rpartition("\n")
        assert done.returncode == 0 and status == "200", (line, done.stdout, done.stderr)
        outputs.append(json.loads(body))
        if "/api/ask" in line:  # the same question through the CLI, on the same index
            expected_answer = rag_ask_json_k(auth_server, SADR, 3)
    health, answer, documents, article, uploaded, removed = outputs
    assert health["status"] == "ok" and health["documents"] >= 5 and health["model"].startswith("fake")
    assert answer == expected_answer
    assert {d["doc_id"] for d in documents} >= {f"iraq-archive-{n}" for n in range(1, 6)}
    assert article["doc_id"] == "iraq-archive-4" and "Hennis-Plasschaert" in article["text"]
    assert uploaded["documents_added"] == 1 and [s["name"] for s in uploaded["stored"]] == ["my-article.md"]
    assert removed == {"removed": ["my-article"]}
    assert not (auth_server.index_dir / "uploads" / "my-article.md").exists()


def rag_ask_json_k(server, question: str, k: int) -> dict:
    done = subprocess.run(rag_command("ask", question, "--k", str(k), "--json", "--index", str(server.index_dir),
                                      "--config", str(server.config)), cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("number", [0, 1])
def test_the_readme_python_examples_work(auth_server, number):
    """The httpx example and the gradio_client example (a default Client, no download_files)."""
    code = readme_blocks("python")[number].replace(README_URL, auth_server.url.rstrip("/"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    expected = rag_ask_json(auth_server.index_dir, auth_server.config, SADR)
    if number == 0:  # one line per answer sentence: the sentence, then its passage's title
        assert done.stdout.splitlines()[0].startswith(expected["answer"][0]["sentence"] + " -- ")
    else:
        assert done.stdout.splitlines()[-1] == expected["passages"][0]["citation"]["title"]


# each route -------------------------------------------------------------------------------


def test_ask_returns_exactly_the_rag_ask_json(api, auth_server):
    got = api.post("/api/ask", json={"question": SADR})
    assert got.status_code == 200
    assert got.json() == rag_ask_json(auth_server.index_dir, auth_server.config, SADR)


def test_ask_takes_history_k_and_mode(api):
    followed = api.post("/api/ask", json={"question": "Why did he cancel it?", "history": [SADR], "k": 2,
                                          "mode": "keyword"}).json()
    assert followed["question"] == "Why did he cancel it?" and "sadr" in followed["search_query"].lower()
    retrieved = len(followed["passages"]) - followed.get("context_passages", 0)  # context passages come after
    assert [p["rank"] for p in followed["passages"][:retrieved]] == [1, 2]


def test_documents_match_rag_docs(api, auth_server):
    done = subprocess.run(rag_command("docs", "--json", "--index", str(auth_server.index_dir), "--config",
                                      str(auth_server.config)), cwd=ROOT, capture_output=True, text=True, timeout=120)
    listed = api.get("/api/documents").json()
    assert sorted(listed, key=lambda d: d["doc_id"]) == sorted(json.loads(done.stdout), key=lambda d: d["doc_id"])


def test_documents_can_be_matched_and_paged(api):
    everything = api.get("/api/documents")
    assert everything.headers["X-Total-Count"] == str(len(everything.json()))
    matched = api.get("/api/documents", params={"match": "UN NEWS"})
    assert matched.json() and all(d["source"] == "UN News" for d in matched.json())
    assert matched.headers["X-Total-Count"] == str(len(matched.json()))
    page = api.get("/api/documents", params={"limit": 2, "offset": 1})
    assert page.json() == everything.json()[1:3] and page.headers["X-Total-Count"] == everything.headers["X-Total-Count"]
    beyond = api.get("/api/documents", params={"limit": 2, "offset": 99})
    assert beyond.json() == [] and beyond.headers["X-Total-Count"] == everything.headers["X-Total-Count"]
    folded = api.get("/api/documents", params={"match": "SADR’S FOES", "limit": 1})  # non-ASCII: ’
    assert [d["doc_id"] for d in folded.json()] == ["iraq-archive-5"] and folded.headers["X-Total-Count"] == "1"
    literal = api.get("/api/documents", params={"match": "100%"})
    assert literal.json() == [] and literal.headers["X-Total-Count"] == "0"
    refused = api.get("/api/documents", params={"limit": 0})
    assert refused.status_code == 422 and "limit" in refused.json()["error"]


def test_one_document_has_its_text_and_metadata(api):
    article = api.get("/api/documents/iraq-archive-4").json()
    assert {"doc_id", "title", "source", "path", "url", "date", "text"} <= set(article)
    assert article["source"] == "UN News" and article["path"].endswith("iraq-archive.txt")
    missing = api.get("/api/documents/no-such-article")
    assert missing.status_code == 404 and "no-such-article" in missing.json()["error"]


def test_upload_then_remove(api, auth_server):
    files = [("files", ("bees.md", MY_ARTICLE.encode(), "text/markdown")),
             ("files", ("notes.exe", b"MZ", "application/octet-stream"))]
    uploaded = api.post("/api/documents", files=files)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["rejected"] == ["notes.exe"] and uploaded.json()["documents_added"] == 1
    assert "bees" in {d["doc_id"] for d in api.get("/api/documents").json()}
    answer = api.post("/api/ask", json={"question": "Who is the head beekeeper in Tromsø?"}).json()
    assert answer["passages"][0]["citation"]["doc_id"] == "bees"
    assert api.delete("/api/documents/bees").json() == {"removed": ["bees"]}
    assert "bees" not in {d["doc_id"] for d in api.get("/api/documents").json()}
    assert not (auth_server.index_dir / "uploads" / "bees.md").exists()
    assert api.delete("/api/documents/bees").status_code == 404


def test_an_upload_with_an_earlier_name_is_its_new_version(api, auth_server):
    first = MY_ARTICLE.replace("120 kilograms", "80 kilograms").encode()
    assert api.post("/api/documents", files=[("files", ("hives.md", first, "text/markdown"))]).status_code == 200
    again = api.post("/api/documents", files=[("files", ("hives.md", MY_ARTICLE.encode(), "text/markdown"))]).json()
    assert [Path(p).name for p in again["files_updated"]] == ["hives.md"]
    uploads = auth_server.index_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir() if "hives" in p.name) == ["hives.md"]  # nothing kept aside
    assert "120 kilograms" in api.get("/api/documents/hives").json()["text"]
    assert api.delete("/api/documents/hives").status_code == 200 and not (uploads / "hives.md").exists()


def test_health_names_generation_counts_and_model(api):
    health = api.get("/api/health").json()
    assert health["status"] == "ok" and health["read_only"] is False
    assert isinstance(health["generation"], int) and health["documents"] >= 5 and health["chunks"] > 0
    assert health["model"].startswith("fake")


def test_openapi_describes_every_route(api):
    assert api.get("/api/docs").status_code == 200
    paths = api.get("/api/openapi.json").json()["paths"]
    assert {(path, method) for path, methods in paths.items() for method in methods} == {
        ("/api/ask", "post"), ("/api/ask/stream", "post"), ("/api/documents", "get"), ("/api/documents", "post"),
        ("/api/documents/{doc_id}", "get"), ("/api/documents/{doc_id}", "delete"), ("/api/health", "get"),
        ("/api/collections", "get"), ("/api/sources", "get"), ("/api/conversations", "get"),
        ("/api/conversations/{conversation_id}", "get"), ("/api/conversations/{conversation_id}", "delete"),
        ("/api/conversations/{conversation_id}/markdown", "get")}


# validation -------------------------------------------------------------------------------

BAD_ASKS = [
    ({"question": SADR, "k": 0}, "k: Input should be greater than or equal to 1"),
    ({"question": SADR, "k": -5}, "k: Input should be greater than or equal to 1"),
    ({"question": SADR, "k": 51}, "k: Input should be less than or equal to 50"),
    ({"question": SADR, "k": 1000000}, "k: Input should be less than or equal to 50"),
    ({"question": SADR, "k": "many"}, "k: Input should be a valid integer, unable to parse string as an integer"),
    ({"question": ""}, "question: String should have at least 1 character"),
    ({"question": "   "}, "question: the question is empty"),
    ({"question": "x" * 1001}, "question: String should have at most 1000 characters"),
    ({"question": SADR, "mode": "fuzzy"}, "mode: Input should be 'dense', 'keyword' or 'hybrid'"),
    ({"question": SADR, "history": "not a list"}, "history: Input should be a valid list"),
    ({"question": SADR, "top_k": 3}, "top_k: unknown field (allowed: question, k, history, mode, where, collection, generate)"),
    ({}, "question: required"),
]


@pytest.mark.parametrize(("body", "message"), BAD_ASKS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_ASKS)])
def test_bad_questions_are_422_with_one_log_line(api, auth_server, body, message):
    before = auth_server.log_text()
    refused = api.post("/api/ask", json=body)
    assert refused.status_code == 422
    assert refused.json() == {"error": message}
    lines = new_log_lines(auth_server, before)
    assert len(lines) == 1 and "POST /api/ask -> 422" in lines[0] and message in lines[0], lines


def test_a_body_that_is_not_json_is_422(api):
    refused = api.post("/api/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert refused.status_code == 422 and refused.json() == {"error": "the body is not valid JSON"}


def test_unknown_api_routes_and_methods_are_json_errors(api):
    assert api.get("/api/nothing").status_code == 404 and "/api/nothing" in api.get("/api/nothing").json()["error"]
    wrong = api.put("/api/ask")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert wrong.json()["error"] == "PUT is not allowed on /api/ask: use POST"
    patched = api.patch("/api/documents/iraq-archive-1")
    assert patched.status_code == 405 and patched.headers["Allow"] == "DELETE, GET"
    assert api.get("/api/ask").status_code == 405


# upload limits ----------------------------------------------------------------------------


def test_too_many_files_in_one_upload(api, auth_server):
    files = [("files", (f"a{n}.md", b"# A\n\nText.\n", "text/markdown")) for n in range(4)]
    refused = api.post("/api/documents", files=files)
    assert refused.status_code == 413
    assert refused.json()["error"] == "4 files in one upload; at most 3 (ui.max_upload_files): upload them in smaller groups"
    assert not any(p.name.startswith("a") for p in (auth_server.index_dir / "uploads").glob("a*.md"))


def test_a_file_over_the_size_limit(api):
    refused = api.post("/api/documents", files=[("files", ("big.md", b"# Big\n\n" + b"word " * 12000, "text/markdown"))])
    assert refused.status_code == 413
    assert refused.json()["error"] == "big.md is 59 KB; at most 51 KB per file (ui.max_upload_mb)"


def test_the_uploads_folder_total(api, auth_server):
    filler = auth_server.index_dir / "uploads" / "filler.bin"
    filler.parent.mkdir(exist_ok=True)
    filler.write_bytes(b"\0" * 210_000)  # the limit is 0.2 MB
    try:
        refused = api.post("/api/documents", files=[("files", ("small.md", MY_ARTICLE.encode(), "text/markdown"))])
    finally:
        filler.unlink()
    assert refused.status_code == 413
    assert refused.json()["error"].startswith("the uploads folder holds ") and "ui.max_uploads_total_mb" in refused.json()["error"]


def test_an_upload_bigger_than_the_limits_allow_is_refused_before_it_is_read(api, auth_server):
    files = [("files", (f"huge{n}.md", b"word " * 140_000, "text/markdown")) for n in range(3)]
    before = auth_server.log_text()
    refused = api.post("/api/documents", files=files)
    assert refused.status_code == 413
    assert refused.json() == {"error": "the upload is 2.0 MB; at most 1.1 MB in one upload "
                                       "(ui.max_upload_mb x ui.max_upload_files)"}
    assert new_log_lines(auth_server, before) and "huge0.md" not in auth_server.log_text()


def test_only_unsupported_files_is_415(api):
    refused = api.post("/api/documents", files=[("files", ("tool.exe", b"MZ", "application/octet-stream"))])
    assert refused.status_code == 415 and refused.json() == {"error": "unsupported file type: tool.exe"}


# authentication ---------------------------------------------------------------------------

PROTECTED = [("GET", "/api/health"), ("POST", "/api/ask"), ("GET", "/api/documents"),
             ("GET", "/api/documents/iraq-archive-4"), ("POST", "/api/documents"),
             ("DELETE", "/api/documents/iraq-archive-4"), ("GET", "/api/docs"), ("GET", "/api/openapi.json"),
             ("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/call/ask"),
             ("POST", "/gradio_api/queue/join"), ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/queue/data"),
             ("GET", "/gradio_api/file=/etc/passwd"), ("POST", "/gradio_api/cancel"), ("GET", "/monitoring")]


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_every_route_needs_the_login(anonymous, auth_server, method, path):
    for auth in (None, ("alice", "wrong"), ("bob", "s3cret")):
        refused = anonymous.request(method, path, auth=auth)
        assert refused.status_code == 401, (auth, refused.text)
        assert refused.json()["error"].startswith("authentication required")
    assert ("www-authenticate" in refused.headers) == path.startswith("/api/")


@pytest.mark.parametrize("path", ["/api/health", "/api/documents", "/api/docs", "/config", "/gradio_api/info"])
def test_the_login_opens_them_as_http_basic(anonymous, path):
    assert anonymous.get(path, auth=AUTH).status_code == 200


def test_the_page_is_a_login_page_until_logged_in(anonymous, auth_server):
    page = anonymous.get("/")
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert anonymous.post("/login", data={"username": "alice", "password": "nope"}).status_code == 400
    with httpx.Client(base_url=auth_server.url.rstrip("/"), timeout=60) as browser:
        assert browser.get("/config").status_code == 401
        assert browser.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        assert browser.get("/config").status_code == 200  # the session cookie
        assert '"auth_required":true' not in browser.get("/").text.replace(" ", "")
        assert browser.get("/api/health").status_code == 200  # the REST API takes the cookie too


def test_a_default_gradio_client_answers_ask(auth_server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(Exception, match="credentials"):
        Client(auth_server.url, verbose=False)
    client = Client(auth_server.url, auth=AUTH, verbose=False)  # default download_files: no 403
    got = client.predict(SADR, api_name="/ask")
    assert json.loads(got) == rag_ask_json(auth_server.index_dir, auth_server.config, SADR)
    before = auth_server.log_text()
    with pytest.raises(AppError, match="k must be a whole number from 1 to 50, not -5"):
        client.predict(SADR, None, -5, api_name="/ask")
    with pytest.raises(AppError, match="mode must be one of dense, keyword, hybrid"):
        client.predict(SADR, None, None, "fuzzy", api_name="/ask")
    lines = new_log_lines(auth_server, before)
    assert len(lines) == 2 and "Traceback" not in "".join(lines), lines
