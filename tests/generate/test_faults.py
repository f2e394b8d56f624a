"""Every fault of the model server becomes one line naming the server and what to do, never a
traceback; with the generator, the extractive answer stands with that line as `fallback`."""

import socket
import threading

import pytest

from rag.generate import GeneratorUnavailable, generate_answer
from rag.generate.client import ChatStream
from rag.generate.prompt import build_prompt
from tests.generate.conftest import (
    LlamaServer,
    ProcessServer,
    ReplayServer,
    answer_for,
    article_text,
    settings_for,
    wait_until,
)

QUESTION = "Why did the harbour bridge close?"


def one_line(message: str, base_url: str) -> str:
    assert "\n" not in message and "Traceback" not in message
    assert base_url in message
    return message


def fault_of(settings, question=QUESTION, docs=("bridge",), embed=None) -> str:
    """The fallback line of a generation that must end in a fault."""
    result = generate_answer(question, answer_for(question, list(docs)), settings, embed, article_text)
    assert result.outcome == "fault", result
    return one_line(result.fallback, settings.llm.base_url)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down():
    settings = settings_for(f"http://127.0.0.1:{closed_port()}/v1")
    assert "cannot reach the model server at" in fault_of(settings)
    assert "start it, or fix llm.base_url" in fault_of(settings)


def test_no_server_configured_is_named_before_any_connection():
    with pytest.raises(GeneratorUnavailable, match="no model server is configured: set llm.base_url"):
        ChatStream(settings_for("").llm, [])


@pytest.mark.llm_server
def test_wrong_url(llama):
    settings = settings_for(llama.address + "/api")
    assert "has no chat endpoint" in fault_of(settings)
    assert "llm.base_url should be the API root, e.g. http://127.0.0.1:11434/v1" in fault_of(settings)


@pytest.mark.llm_server
def test_refused_key(smollm2, monkeypatch):
    server = LlamaServer(smollm2, api_key="sekret")
    try:
        settings = settings_for(server.base_url, max_tokens=16)
        monkeypatch.delenv("RAG_LLM_API_KEY", raising=False)
        assert "refused the API key (HTTP 401): set RAG_LLM_API_KEY" in fault_of(settings)
        monkeypatch.setenv("RAG_LLM_API_KEY", "wrong")
        assert "refused the API key (HTTP 401)" in fault_of(settings)
        monkeypatch.setenv("RAG_LLM_API_KEY", "sekret")  # the right key: the model answers
        stream = ChatStream(settings.llm, build_prompt(QUESTION, answer_for(QUESTION, ["bridge"]).passages).messages())
        assert "".join(stream).strip()
    finally:
        server.stop()


@pytest.mark.parametrize("body", [
    {"error": {"message": 'model "llama9" not found, try pulling it first', "type": "not_found_error",
               "param": None, "code": None}},  # Ollama's OpenAI-compatible route
    {"error": 'model "llama9" not found, try pulling it first'},  # Ollama's own routes
    {"object": "error", "message": "The model `llama9` does not exist.", "type": "NotFoundError", "param": None,
     "code": 404},  # vLLM
])
def test_unknown_model(body):
    # llama.cpp serves its one model under any name (checked): these are the recorded replies of
    # the servers that do check it.
    server = ReplayServer(404, body)
    try:
        settings = settings_for(server.base_url, model="llama9")
        assert fault_of(settings).endswith("does not know the model llama9: set llm.model to a model it serves "
                                           "(Ollama: `ollama pull llama9`)")
        assert server.requests[0]["model"] == "llama9"
    finally:
        server.stop()


@pytest.mark.llm_server
def test_timeout(llama):
    settings = settings_for(llama.base_url, timeout=0.2)
    assert "sent nothing for 0.2 s: raise llm.timeout" in fault_of(settings)
    assert wait_until(lambda: not llama.busy(), 60)  # the closed request was dropped by the server


@pytest.mark.llm_server
def test_context_overflow(smollm2):
    server = LlamaServer(smollm2, n_ctx=256)
    try:
        message = fault_of(settings_for(server.base_url), docs=("bridge", "festival"))
        assert "says the prompt does not fit the model's context (request (" in message
        assert "give the server a larger context (llama-server -c, Ollama num_ctx) or ask for fewer passages" in message
    finally:
        server.stop()


@pytest.mark.llm_server
def test_a_reply_not_in_the_asked_json_form(llama):
    settings = settings_for(llama.base_url, structured=True, max_tokens=16)
    assert "did not reply in the asked JSON form (cut at llm.max_tokens): set llm.structured: false" in \
        fault_of(settings)


@pytest.mark.llm_server
def test_a_reply_without_citations(llama):
    question = "Who is the mayor of Portmere?"
    result = generate_answer(question, answer_for(question, ["bridge", "festival"]), settings_for(llama.base_url),
                             None, article_text)
    assert result.reply.strip() == "The mayor of Portmere is Mayor Lena Hollis."
    assert result.outcome == "fault"
    assert result.fallback == ("the model (smollm2) did not cite the sentences as asked (like [S1.2]), so nothing "
                               "it wrote can be checked; try llm.structured: true or a larger model")
    assert [s.shown_as for s in result.sentences] == ["dropped"]


@pytest.mark.llm_server
def test_server_going_down_mid_stream(smollm2):
    server = ProcessServer(smollm2)
    try:
        settings = settings_for(server.base_url)
        stream = ChatStream(settings.llm, build_prompt(QUESTION, answer_for(QUESTION, ["bridge"]).passages).messages())
        pieces = []
        with pytest.raises(GeneratorUnavailable) as fault:
            for piece in stream:
                pieces.append(piece)
                if len(pieces) == 2:
                    server.kill()
        assert len(pieces) == 2
        assert one_line(str(fault.value), server.base_url).endswith(
            "closed the connection before the answer was complete: did it stop? Start it again")
    finally:
        server.kill()


@pytest.mark.llm_server
def test_server_going_down_during_a_generation(smollm2):
    server = ProcessServer(smollm2)
    try:
        settings = settings_for(server.base_url)
        results = []
        worker = threading.Thread(target=lambda: results.append(generate_answer(
            QUESTION, answer_for(QUESTION, ["bridge"]), settings, None, article_text)))
        worker.start()
        assert wait_until(lambda: _connected(server.base_url), 30)
        server.kill()
        worker.join(30)
        assert not worker.is_alive()
        (result,) = results
        assert result.outcome == "fault"
        assert "closed the connection before the answer was complete" in one_line(result.fallback, server.base_url)
    finally:
        server.kill()


def _connected(base_url: str) -> bool:
    """Whether some connection to the server's port is open (the request is in flight)."""
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    try:
        with open("/proc/net/tcp") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return True
    return any(line.split()[2].endswith(f":{port:04X}") and line.split()[3] == "01" for line in lines)


def test_only_the_configured_server_is_contacted(monkeypatch):
    server = ReplayServer(200, {"choices": [{"message": {"content": "NOT ANSWERED"}}]})
    proxy = ReplayServer(200, {"choices": [{"message": {"content": "from the proxy"}}]})
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.base_url.removesuffix("/v1"))
        monkeypatch.setenv("NO_PROXY", "")
        result = generate_answer(QUESTION, answer_for(QUESTION, ["bridge"]), settings_for(server.base_url), None)
        assert result.outcome == "declined"
        assert (len(server.requests), len(proxy.requests)) == (1, 0)
    finally:
        server.stop()
        proxy.stop()


def test_a_redirect_is_not_followed():
    server = ReplayServer(307, {"error": "moved"})
    try:
        assert "redirects elsewhere (HTTP 307); only llm.base_url is contacted" in \
            fault_of(settings_for(server.base_url))
        assert len(server.requests) == 1
    finally:
        server.stop()
