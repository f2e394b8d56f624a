"""A streamed chat completion from an OpenAI-compatible server, with every fault as one line.

httpx, not the `openai` package: httpx is already installed (gradio needs it), it streams the
server-sent events line by line, and its faults are typed (ConnectError, ReadTimeout,
RemoteProtocolError) so each becomes a sentence naming the server and what to do. The `openai`
client (3.63: 16 MB installed, with jiter and sniffio) retries a dead server twice with back-off
before saying so, reads OPENAI_* variables, and without a base URL falls back to
$OPENAI_BASE_URL, then api.openai.com: not what an offline tool should risk.

Only `llm.base_url` is contacted: proxies from the environment are ignored (`trust_env=False`)
and redirects are refused, so no other host ever sees the question or the articles.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from typing import Any, Iterator

import httpx

from rag.config import LLMSettings

API_KEY_VARIABLE = "RAG_LLM_API_KEY"
_MESSAGE_CHARS = 200


class GeneratorUnavailable(RuntimeError):
    """The model server could not give an answer; the message is one line naming the server and
    what to do."""


class ChatStream:
    """One streamed chat completion. Iterate for the pieces of text as they come; `close()`, from
    any thread, ends it and closes the connection, which makes the server stop the request.
    `finish_reason` is the server's ("stop", "length", ...) once the stream has ended."""

    def __init__(self, llm: LLMSettings, messages: list[dict[str, str]],
                 response_format: dict[str, Any] | None = None) -> None:
        if not llm.base_url:
            raise GeneratorUnavailable("no model server is configured: set llm.base_url (e.g. "
                                       "http://127.0.0.1:11434/v1 for Ollama) and answer.generator: llm")
        self.llm = llm
        self.url = llm.base_url.rstrip("/") + "/chat/completions"
        self.body = request_body(llm, messages, response_format)
        self.finish_reason = ""
        self.model = llm.model
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._response: httpx.Response | None = None

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._pieces()
        except GeneratorUnavailable:
            raise
        except httpx.HTTPError as exc:
            if self.closed:
                return
            raise GeneratorUnavailable(describe_transport_error(exc, self.llm)) from None
        finally:
            self.close()

    def close(self) -> None:
        """End the stream and its connection; safe from any thread, and more than once."""
        self._closed.set()
        with self._lock:
            response, client = self._response, self._client
        if response is not None:
            _shutdown_socket(response)  # wakes a read blocked in another thread
            response.close()
        if client is not None:
            client.close()

    def _pieces(self) -> Iterator[str]:
        if self.closed:
            return
        timeout = httpx.Timeout(self.llm.timeout, connect=min(self.llm.timeout, 10.0))
        client = httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False)
        with self._lock:
            self._client = client
        if self.closed:  # closed while the client was made
            client.close()
            return
        request = client.build_request("POST", self.url, json=self.body, headers=_headers())
        response = client.send(request, stream=True)
        with self._lock:
            self._response = response
        if self.closed:
            return
        if response.status_code != 200:
            response.read()
            raise GeneratorUnavailable(describe_http_error(response.status_code, response.text, self.llm))
        kind = response.headers.get("content-type", "")
        if "text/event-stream" not in kind:
            # A server that ignores `stream` answers with one JSON object: take its text whole.
            response.read()
            yield self._whole_reply(response.text)
            return
        for line in response.iter_lines():
            if self.closed:
                return
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            piece = self._event_text(data)
            if piece:
                yield piece

    def _event_text(self, data: str) -> str:
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            raise GeneratorUnavailable(f"the model server at {self.llm.base_url} sent a stream event that is "
                                       "not JSON: is llm.base_url an OpenAI-compatible API (ending in /v1)?") from None
        if isinstance(event, dict) and event.get("error"):
            # Faults after the stream began (llama.cpp, vLLM) come as an event holding `error`.
            raise GeneratorUnavailable(describe_http_error(0, data, self.llm))
        choices = event.get("choices") if isinstance(event, dict) else None
        if not choices:
            return ""
        choice = choices[0] or {}
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        self.model = str(event.get("model") or self.model)
        delta = choice.get("delta") or {}
        return delta.get("content") or ""

    def _whole_reply(self, text: str) -> str:
        try:
            reply = json.loads(text)
            choice = reply["choices"][0]
            self.finish_reason = str(choice.get("finish_reason") or "")
            self.model = str(reply.get("model") or self.model)
            return choice["message"]["content"] or ""
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            raise GeneratorUnavailable(f"the model server at {self.llm.base_url} did not answer like an "
                                       "OpenAI-compatible API: check llm.base_url (it ends in /v1)") from None


def request_body(llm: LLMSettings, messages: list[dict[str, str]],
                 response_format: dict[str, Any] | None = None) -> dict[str, Any]:
    """The /chat/completions request."""
    body: dict[str, Any] = {
        "messages": messages,
        "stream": True,
        "max_tokens": llm.max_tokens,
        "temperature": llm.temperature,
        # llama.cpp: with its prompt cache on, an identical prompt at temperature 0 returned
        # different text. Ollama (Go's JSON decoding) and vLLM (extra fields allowed, logged)
        # ignore a field they do not know.
        "cache_prompt": False,
    }
    if llm.model:
        body["model"] = llm.model
    if response_format is not None:
        body["response_format"] = response_format
    return body


def describe_http_error(status: int, text: str, llm: LLMSettings) -> str:
    """One line for an error reply (`status` 0: an error event inside the stream)."""
    server = f"the model server at {llm.base_url}"
    message = _error_message(text)
    lowered = message.lower()
    if status in (401, 403):
        return (f"{server} refused the API key (HTTP {status}): set {API_KEY_VARIABLE} to the key the "
                "server expects")
    if _is_model_error(lowered) and status in (0, 400, 404):
        name = llm.model or "(none: llm.model is empty)"
        return (f"{server} does not know the model {name}: set llm.model to a model it serves"
                f" (Ollama: `ollama pull {llm.model or 'MODEL'}`)")
    if status == 404:
        return (f"{server} has no chat endpoint ({llm.base_url.rstrip('/')}/chat/completions answered 404): "
                "llm.base_url should be the API root, e.g. http://127.0.0.1:11434/v1")
    if re.search(r"context|exceed|too long|too many tokens|maximum.*length", lowered):
        return (f"{server} says the prompt does not fit the model's context ({_clip(message)}): give the "
                "server a larger context (llama-server -c, Ollama num_ctx) or ask for fewer passages")
    if "response_format" in lowered or "json_schema" in lowered or "grammar" in lowered:
        return (f"{server} cannot answer in the asked JSON form ({_clip(message)}): set llm.structured: false")
    if 300 <= status < 400:
        return (f"{server} redirects elsewhere (HTTP {status}); only llm.base_url is contacted: set it to "
                "the server's own address")
    what = f"HTTP {status}" if status else "an error"
    return f"{server} answered {what}: {_clip(message) or 'no reason given'}"


def describe_transport_error(exc: httpx.HTTPError, llm: LLMSettings) -> str:
    """One line for a connection fault."""
    server = f"the model server at {llm.base_url}"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{server} did not accept a connection within {min(llm.timeout, 10.0):g} s: is it running and reachable?"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot reach {server} ({_clip(str(exc)) or 'connection refused'}): start it, or fix llm.base_url"
    if isinstance(exc, httpx.TimeoutException):
        return (f"{server} sent nothing for {llm.timeout:g} s: raise llm.timeout, or use a smaller model "
                "or fewer passages")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"{server} closed the connection before the answer was complete: did it stop? Start it again"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"{server} is not an http:// or https:// address: fix llm.base_url"
    return f"{server} failed: {_clip(str(exc)) or type(exc).__name__}"


def _headers() -> dict[str, str]:
    key = os.environ.get(API_KEY_VARIABLE, "").strip()
    return {"Authorization": f"Bearer {key}"} if key else {}


def _is_model_error(lowered: str) -> bool:
    """Ollama: 'model "x" not found, try pulling it first'; vLLM: 'The model `x` does not exist.'"""
    return "model" in lowered and bool(re.search(r"not found|does not exist|unknown model|no such model|not loaded",
                                                 lowered))


def _error_message(text: str) -> str:
    """The message of an error body: {"error": {"message": ...}}, {"error": "..."}, {"message": ...},
    {"detail": ...}, or the text itself."""
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return _one_line(text)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            error = error.get("message") or error.get("detail") or error.get("type") or ""
        if not error and isinstance(body.get("message") or body.get("detail"), str):
            error = body.get("message") or body.get("detail")
        return _one_line(str(error or ""))
    return _one_line(text)


def _one_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _clip(text: str) -> str:
    text = _one_line(text)
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "…"


def _shutdown_socket(response: httpx.Response) -> None:
    """Shut the connection's socket down: unlike close(), this ends a recv() that another thread
    is blocked in."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
