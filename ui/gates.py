"""ASGI gates in front of the app: what the app would otherwise take on trust, checked first.

AuthGate: every route but the login page and the static files needs a login (Gradio's session
cookie, or HTTP Basic; the gate owns the token Basic requests are handed on with, so a browser's
logout never breaks Basic). UploadGate: an upload's body is counted as it streams and refused
past the limits (413), and on --read-only before any byte is read (403). GradioCallGate: a Gradio
API call names a function the page has (404 JSON otherwise) and its body is small.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from base64 import b64decode
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from ui.limits import describe_size

if TYPE_CHECKING:
    from ui.limits import UploadLimits
    from ui.server import Credentials

log = logging.getLogger("rag.serve")

# Reachable without a login: the login page itself (Gradio serves it at / until the session
# cookie is set), logging in and out, and the page's static files.
# /api/docs-files/: Swagger UI's script and style sheet (ui.docs), the same bytes as any copy of
# swagger-ui-dist; the docs page and the OpenAPI schema, which describe this server, stay behind it.
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon", "/api/docs-files/")
PUBLIC_PATHS = {"/", "/login", "/login/", "/logout", "/theme.css", "/favicon.ico", "/manifest.json",
                "/robots.txt"}
REALM = "rag-news"
MULTIPART_SLACK = 1024 * 1024  # multipart headers and boundaries around the files
REST_UPLOAD = "/api/documents"
GRADIO_UPLOAD = "/gradio_api/upload"
# A Gradio API call's body (uploads aside): /ask's question and 20 earlier ones of 1000 characters
# are under 130 KB as JSON even escaped, and the page's own calls are smaller.
MAX_CALL_BYTES = 1024 * 1024


# the gates -------------------------------------------------------------------------------------

Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]


class UploadGate:
    """ASGI middleware over the two upload routes, the REST one (POST /api/documents) and
    Gradio's (POST /gradio_api/upload), behind the login.

    On --read-only (`read_only` holds the refusal) both are 403 before any byte of the body is
    read. Otherwise the body is counted as it streams, whether its size is declared or not: past
    the bytes one upload may hold (ui.max_upload_mb x ui.max_upload_files, plus the multipart
    framing), or, on Gradio's route, past ui.max_upload_files files, it is 413 at once. The app
    never gets the chunk that passes the limit, so nothing past it is spooled to disk."""

    def __init__(self, app: Callable, limits: "UploadLimits", read_only: str | None = None) -> None:
        self.app = app
        self.max_bytes = limits.max_files * limits.max_file_bytes + MULTIPART_SLACK
        self.max_files = limits.max_files
        self.read_only = read_only

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        route = _upload_route(scope)
        if route is None:
            return await self.app(scope, receive, send)
        if self.read_only:
            return await _reply(scope, send, 403, self.read_only)
        limit = (f"at most {describe_size(self.max_bytes)} in one upload "
                 "(ui.max_upload_mb x ui.max_upload_files)")
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await _reply(scope, send, 413, f"the upload is {describe_size(int(declared))}; {limit}")
        too_big = _byte_limit(self.max_bytes, f"the upload is more than {describe_size(self.max_bytes)}; {limit}")
        parts = PartCounter.of(_header(scope, b"content-type")) if route == GRADIO_UPLOAD else None

        def check(chunk: bytes) -> str | None:
            if problem := too_big(chunk):
                return problem
            if parts is not None and parts.feed(chunk) > self.max_files:
                return (f"more than {self.max_files} files in one upload; at most {self.max_files} "
                        "(ui.max_upload_files): upload them in smaller groups")
            return None

        await _pass_counted(self.app, scope, receive, send, check)


class PartCounter:
    """Counts the parts of a multipart body as it streams: a part begins at each delimiter line
    (CRLF, "--", the boundary) but the closing one (the same, then "--")."""

    def __init__(self, boundary: bytes) -> None:
        self.delimiter = b"\r\n--" + boundary
        self.pending = b"\r\n"  # the first delimiter has no line break before it
        self.parts = 0

    @classmethod
    def of(cls, content_type: str) -> "PartCounter | None":
        """The counter for a multipart/form-data body, or None for anything else (the app
        refuses that itself)."""
        found = re.search(r'boundary="?([^";]+)"?', content_type)
        if not content_type.lower().startswith("multipart/form-data") or not found:
            return None
        return cls(found.group(1).encode("latin-1"))

    def feed(self, chunk: bytes) -> int:
        """Count the parts that begin in `chunk`; returns the parts begun so far."""
        data = self.pending + chunk
        start, after = 0, len(self.delimiter)
        while (at := data.find(self.delimiter, start)) >= 0:
            if len(data) < at + after + 2:  # not yet known whether it closes the body
                self.pending = data[at:]
                return self.parts
            self.parts += data[at + after:at + after + 2] != b"--"
            start = at + after
        self.pending = data[max(start, len(data) - after - 1):]
        return self.parts


class GradioCallGate:
    """ASGI middleware over Gradio's API (POST /gradio_api/..., its upload route aside): a call's
    body is at most MAX_CALL_BYTES, counted as it streams (413 past that), and a call that names
    a function the page does not have (an unknown fn_index or api_name) is a 404 JSON error with
    one log line, where Gradio fails with a 500 and a traceback. The calls whose body names the
    function are read whole first, to look.

    A plain HTTP call by name (POST /gradio_api/call/NAME) may leave out trailing arguments that
    have defaults, as gradio_client does: they are filled in with those defaults (Gradio itself
    wants every input), so a call written before `where` and `collection` existed still works."""

    ROUTE = re.compile(r"/gradio_api/(?:(?P<join>queue/join)|(?P<run>run|api)/(?P<run_name>[^/]+)"
                       r"|call/(?P<v2>v2/)?(?P<call_name>[^/]+))")

    def __init__(self, app: Callable, blocks: Any) -> None:
        from pydantic import TypeAdapter

        self.app = app
        self.blocks = blocks
        self.fn_index = TypeAdapter(int)  # as Gradio reads it: 7, 7.0 and "7" are all 7

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/") if scope["type"] == "http" and scope["method"] == "POST" else ""
        if not path.startswith("/gradio_api/") or path == GRADIO_UPLOAD:
            return await self.app(scope, receive, send)
        too_big = f"a Gradio API call's body is at most {describe_size(MAX_CALL_BYTES)}"
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > MAX_CALL_BYTES:
            return await _reply(scope, send, 413, too_big)
        found = self.ROUTE.fullmatch(path)
        if found and found["call_name"]:  # the API name alone picks the function
            if problem := self._unknown_name(found["call_name"], public_only=bool(found["v2"])):
                return await _reply(scope, send, 404, problem)
            body = await _read_body(receive, MAX_CALL_BYTES)
            if body is None:
                return await _reply(scope, send, 413, too_big)
            body = self._with_defaults(body, found["call_name"])
            scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
                     + [(b"content-length", str(len(body)).encode())]}
            receive = _replay(body, receive)
        elif found:
            body = await _read_body(receive, MAX_CALL_BYTES)
            if body is None:
                return await _reply(scope, send, 413, too_big)
            if problem := self._unknown_function(body, found["run_name"]):
                return await _reply(scope, send, 404, problem)
            receive = _replay(body, receive)
        await _pass_counted(self.app, scope, receive, send, _byte_limit(MAX_CALL_BYTES, too_big))

    def _unknown_function(self, body: bytes, api_name: str | None) -> str | None:
        """Why the call's body (and route's API name) names no function; None when it does, or
        when the body is not one Gradio would take (it says why itself)."""
        from pydantic import ValidationError

        try:
            call = json.loads(body)
            fn_index = call.get("fn_index") if isinstance(call, dict) else None
            fn_index = None if fn_index is None else self.fn_index.validate_python(fn_index)
        except (ValueError, ValidationError):  # not JSON, or an fn_index Gradio refuses with a 422
            return None
        if fn_index is None:
            return self._unknown_name(api_name, public_only=False) if api_name else None
        if fn_index in self.blocks.fns:
            return None
        session, holder = call.get("session_hash"), self.blocks.state_holder
        if isinstance(session, str) and session in holder and fn_index in holder[session].blocks_config.fns:
            return None  # a function the page added for this session
        return f"no function with fn_index {fn_index} (GET /gradio_api/info lists the API)"

    def _with_defaults(self, body: bytes, api_name: str) -> bytes:
        """The call's body with the trailing arguments it leaves out filled in with the function's
        defaults; as it was when it is not such a call or a left-out argument has no default."""
        import inspect

        try:
            call = json.loads(body)
        except ValueError:
            return body
        data = call.get("data") if isinstance(call, dict) else None
        fn = next((f for f in self.blocks.fns.values() if f.api_name == api_name and f.fn is not None), None)
        if not isinstance(data, list) or fn is None or len(data) >= len(fn.inputs):
            return body
        try:
            left_out = list(inspect.signature(fn.fn).parameters.values())[len(data):len(fn.inputs)]
        except (TypeError, ValueError):
            return body
        if len(left_out) != len(fn.inputs) - len(data) or any(p.default is inspect.Parameter.empty for p in left_out):
            return body
        return json.dumps({**call, "data": data + [p.default for p in left_out]}).encode()

    def _unknown_name(self, api_name: str, public_only: bool) -> str | None:
        names = {fn.api_name for fn in self.blocks.fns.values()
                 if not public_only or (fn.fn is not None and fn.api_visibility == "public")}
        if api_name in names:
            return None
        return f"no API endpoint named {api_name!r} (GET /gradio_api/info lists them)"


class _Answered(BaseException):
    """Raised out of `receive` once a gate has answered the request. A BaseException, so that no
    layer of the app handles it on the way out (FastAPI turns any Exception raised while it reads
    a body into a 400 of its own, and logs it)."""


async def _pass_counted(app: Callable, scope: dict, receive: Receive, send: Send,
                        check: Callable[[bytes], str | None]) -> None:
    """Hand the request to `app`, each body chunk first to `check`: when that returns a refusal,
    it is the answer (413), sent at once; the app never gets that chunk, and whatever it sends
    after is dropped."""
    answered = started = False

    async def counted_receive() -> dict:
        nonlocal answered
        message = await receive()
        if message["type"] == "http.request" and (problem := check(message.get("body", b""))):
            if not started:  # the app answers only after the body: a refusal mid-answer cannot be sent
                await _reply(scope, send, 413, problem)
            answered = True
            raise _Answered
        return message

    async def guarded_send(message: dict) -> None:
        nonlocal started
        if not answered:
            started = started or message["type"] == "http.response.start"
            await send(message)

    try:
        await app(scope, counted_receive, guarded_send)
    except BaseException:
        if not answered:  # once answered, what the app raises is only the refusal on its way out
            raise


def _byte_limit(limit: int, refusal: str) -> Callable[[bytes], str | None]:
    """A check for _pass_counted: `refusal` once the chunks seen pass `limit` bytes."""
    seen = 0

    def check(chunk: bytes) -> str | None:
        nonlocal seen
        seen += len(chunk)
        return refusal if seen > limit else None

    return check


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes `limit` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` (read already) once, then what the client sends next."""
    given = False

    async def replay() -> dict:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _upload_route(scope: dict) -> str | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path = scope["path"].rstrip("/")
    return path if path in (REST_UPLOAD, GRADIO_UPLOAD) else None


def _header(scope: dict, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), "")


async def _reply(scope: dict, send: Send, status: int, message: str) -> None:
    """Answer `{"error": message}` with `status`, and log it in one line."""
    log.warning("%s %s -> %d: %s", scope["method"], scope["path"], status, message)
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class AuthGate:
    """ASGI middleware: every request but the public paths carries a valid Gradio session cookie
    or HTTP Basic credentials; otherwise 401 JSON. A request with HTTP Basic is handed on with a
    server-side session cookie, so Gradio's own checks accept it too."""

    def __init__(self, app: Callable, credentials: "Credentials", gradio_app: Any) -> None:
        self.app = app
        self.credentials = credentials
        self.gradio_app = gradio_app
        self.basic_token = secrets.token_urlsafe(32)  # never sent to a client
        self.cookie_names = (f"access-token-{gradio_app.cookie_id}", f"access-token-unsecure-{gradio_app.cookie_id}")

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _is_public(scope["path"]):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cookies = _cookies(headers.get("cookie", ""))
        if any(cookies.get(name) in self.gradio_app.tokens for name in self.cookie_names):
            return await self.app(scope, receive, send)
        if self._basic_ok(headers.get("authorization", "")):
            # Gradio's /logout drops every session of the user, this one too: set it again each time.
            self.gradio_app.tokens[self.basic_token] = self.credentials.user
            kept = [f"{name}={value}" for name, value in cookies.items() if name not in self.cookie_names]
            cookie = "; ".join(kept + [f"{self.cookie_names[1]}={self.basic_token}"])  # no stale session first
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"cookie"]
                     + [(b"cookie", cookie.encode("latin-1"))]}
            return await self.app(scope, receive, send)
        await self._refuse(scope, send)

    def _basic_ok(self, header: str) -> bool:
        kind, _, encoded = header.partition(" ")
        if kind.lower() != "basic":
            return False
        try:
            user, sep, password = b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return bool(sep) and self.credentials.match(user, password)

    async def _refuse(self, scope: dict, send: Send) -> None:
        client = (scope.get("client") or ("?",))[0]
        log.warning("%s %s from %s -> 401: no valid login", scope.get("method", "WS"), scope["path"], client)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = (b'{"error": "authentication required: log in at / in a browser, or send the user and '
                b'password as HTTP Basic (curl -u USER:PASSWORD)"}')
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if scope["path"].startswith("/api"):  # a browser asks for the password here; not on the page's own calls
            headers.append((b"www-authenticate", f'Basic realm="{REALM}"'.encode()))
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _cookies(header: str) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in header.split(";"))
    return {name: value for name, _, value in pairs if name}


# logs ------------------------------------------------------------------------------------------
