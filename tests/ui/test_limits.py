"""The pure checks behind the server: question input, upload limits, credentials, exposure."""

from __future__ import annotations

import pytest

from ui.limits import InputError, UploadLimits, check_question, refuse_uploads
from ui.server import Credentials, ServeError, bind, check_exposure, url_of


def test_a_question_is_stripped_and_defaults_stay_none():
    assert check_question("  why?  ") == ("why?", None, [], None)
    assert check_question("why?", 0, None, "") == ("why?", None, [], None)  # forms that cannot send null
    assert check_question("why?", 3, [" a ", "", "b"], "keyword") == ("why?", 3, ["a", "b"], "keyword")
    assert check_question("why?", 5.0) == ("why?", 5, [], None)
    assert check_question("why?", history=[str(n) for n in range(30)])[2] == [str(n) for n in range(10, 30)]


@pytest.mark.parametrize(("args", "message"), [
    (("",), "the question is empty"),
    (("   ",), "the question is empty"),
    ((None,), "the question is empty"),
    (("x" * 1001,), "the question is 1001 characters long; at most 1000"),
    (("why?", -5), "k must be a whole number from 1 to 50, not -5"),
    (("why?", 51), "k must be a whole number from 1 to 50, not 51"),
    (("why?", 1000000), "k must be a whole number from 1 to 50, not 1000000"),
    (("why?", 2.5), "k must be a whole number from 1 to 50, not 2.5"),
    (("why?", True), "k must be a whole number from 1 to 50, not True"),
    (("why?", "3"), "k must be a whole number from 1 to 50, not '3'"),
    (("why?", None, "not a list of questions"), "history must be a list of earlier questions"),
    (("why?", None, None, "fuzzy"), "mode must be one of dense, keyword, hybrid, not 'fuzzy'"),
])
def test_bad_questions_say_what_is_allowed(args, message):
    with pytest.raises(InputError) as refused:
        check_question(*args)
    assert str(refused.value).startswith(message)


LIMITS = UploadLimits(max_file_bytes=10_240, max_files=2, max_total_bytes=30_720)


def test_uploads_within_the_limits_pass(tmp_path):
    assert refuse_uploads([("a.md", 10_240), ("b.md", 900)], tmp_path / "uploads", LIMITS) == []


def test_each_limit_has_its_own_message(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "old.md").write_bytes(b"x" * 20_480)
    assert refuse_uploads([("a.md", 10), ("b.md", 15_360), ("c.md", 10)], folder, LIMITS) == [
        "3 files in one upload; at most 2 (ui.max_upload_files): upload them in smaller groups",
        "b.md is 15 KB; at most 10 KB per file (ui.max_upload_mb)",
        "the uploads folder holds 20 KB and this upload adds 15 KB; at most 30 KB in all "
        "(ui.max_uploads_total_mb): remove some uploaded articles first",
    ]
    assert refuse_uploads([("tiny.md", 1010)], tmp_path / "none", UploadLimits(1000, 5, 10**6)) == [
        "tiny.md is 1010 bytes; at most 1000 bytes per file (ui.max_upload_mb)"]


def test_credentials_are_user_colon_password():
    assert Credentials.parse("alice:s3:cret") == Credentials("alice", "s3:cret")
    assert Credentials("alice", "pw").match("alice", "pw")
    assert not Credentials("alice", "pw").match("alice", "pW") and not Credentials("alice", "pw").match("bob", "pw")
    for bad in ("alice", "alice:", ":pw", ""):
        with pytest.raises(ServeError) as refused:
            Credentials.parse(bad)
        assert refused.value.exit_code == 2


def test_exposure_needs_a_password_or_no_auth():
    assert check_exposure("127.0.0.1", None, False) is None
    assert check_exposure("localhost", None, False) is None
    assert check_exposure("0.0.0.0", Credentials("a", "b"), False) is None
    with pytest.raises(ServeError) as refused:
        check_exposure("192.168.1.5", None, False)
    assert refused.value.exit_code == 2 and "RAG_AUTH=USER:PASSWORD" in str(refused.value)
    warning = check_exposure("0.0.0.0", None, True)
    assert warning.startswith("warning: listening on 0.0.0.0 with no password (--no-auth)")


def test_port_0_binds_a_free_port_and_the_url_names_it():
    with bind("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        assert port > 0 and url_of(sock, "127.0.0.1") == f"http://127.0.0.1:{port}/"
        assert url_of(sock, "0.0.0.0") == f"http://127.0.0.1:{port}/"
        with pytest.raises(ServeError, match=f"port {port} is in use"):
            bind("127.0.0.1", port)


def test_an_unknown_host_is_one_line():
    with pytest.raises(ServeError, match="cannot listen on no-such-host.invalid: unknown address"):
        bind("no-such-host.invalid", 0)


def test_an_empty_index_over_rest(fake_engine):
    """Before anything is indexed (the first run), in process over the real app: 409 with what to do."""
    from fastapi.testclient import TestClient

    from ui.server import build_server_app

    app, _ = build_server_app(fake_engine)
    with TestClient(app) as client:
        refused = client.post("/api/ask", json={"question": "why?"})
        assert refused.status_code == 409
        assert refused.json() == {"error": "no articles are indexed yet: upload some (POST /api/documents) "
                                           "or run `rag ingest PATH`"}
        assert client.get("/api/documents").json() == []
        assert client.get("/api/documents/anything").status_code == 404
        health = client.get("/api/health").json()
        assert health["exists"] is False and health["documents"] == 0
