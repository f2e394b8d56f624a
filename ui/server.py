"""`rag serve`: the chat (Gradio) and the REST API (ui/api.py) on one port, behind one login.

The socket is bound here before anything heavy loads, so a busy port is one line at once.
Authentication covers every route but the login page and the static assets: the browser logs
in through Gradio's login page (a session cookie); the REST API and the Gradio API take the
same user and password, as that cookie or as HTTP Basic.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import secrets
import socket
import threading
from base64 import b64decode
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ui.limits import describe_size

if TYPE_CHECKING:
    from rag.engine import Engine

log = logging.getLogger("rag.serve")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Reachable without a login: the login page itself (Gradio serves it at / until the session
# cookie is set), logging in and out, and the page's static files.
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon")
PUBLIC_PATHS = {"/", "/login", "/login/", "/logout", "/theme.css", "/favicon.ico", "/manifest.json",
                "/robots.txt"}
REALM = "rag-news"
MULTIPART_SLACK = 1024 * 1024  # multipart headers and boundaries around the files
READ_ONLY_CSS = ".read-only .article-list button.remove { display: none; }"


class ServeError(RuntimeError):
    """`rag serve` cannot start; the message is one line and says what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    @classmethod
    def parse(cls, value: str) -> "Credentials":
        """USER:PASSWORD (the password may hold ':'), both non-empty."""
        user, sep, password = value.partition(":")
        if not sep or not user or not password:
            raise ServeError("--auth / RAG_AUTH must be USER:PASSWORD, both non-empty", exit_code=2)
        return cls(user, password)

    def match(self, user: str, password: str) -> bool:
        same_user = hmac.compare_digest(user.encode(), self.user.encode())
        return hmac.compare_digest(password.encode(), self.password.encode()) and same_user


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def check_exposure(host: str, credentials: Credentials | None, no_auth: bool) -> str | None:
    """Refuse (ServeError, exit 2) to serve another address without a password, unless --no-auth;
    returns the warning to print when it is served open on purpose."""
    if credentials is not None or is_loopback(host):
        return None
    if not no_auth:
        raise ServeError(f"refusing to listen on {host} without a password: set RAG_AUTH=USER:PASSWORD "
                         "in the environment (or --auth USER:PASSWORD), or pass --no-auth to serve it "
                         "to anyone who can reach it", exit_code=2)
    return (f"warning: listening on {host} with no password (--no-auth): anyone who can reach this "
            "port can read, upload and remove articles")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port), or ServeError with one line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}: unknown address ({exc.strerror})") from exc
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not past a live listener on Linux
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} is in use; try `rag serve --port {port + 1}`, "
                             "or `--port 0` for any free port") from exc
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    """The URL to open for a socket bound to `host` (a wildcard address is shown as loopback)."""
    port = sock.getsockname()[1]
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def build_server_app(engine: "Engine", credentials: Credentials | None = None,
                     read_only: bool = False) -> tuple[Any, Any]:
    """(ASGI app, Gradio Blocks): the REST routes, then the chat mounted at /, behind the login."""
    from fastapi import FastAPI
    from starlette.routing import Mount

    from rag.offline import enforce_offline

    enforce_offline()  # before gradio is imported: no analytics
    import gradio as gr

    from ui.api import build_router, install_error_handlers
    from ui.app import build_app, launch_options
    from ui.limits import UploadLimits

    limits = UploadLimits.from_settings(engine.settings.ui)
    blocks = build_app(engine, read_only=read_only)
    blocks.queue(default_concurrency_limit=1)
    app = FastAPI(title="rag-news", version=_version(), docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Ask your news articles: cited passages, the same JSON as `rag ask --json`.")
    app.include_router(build_router(engine, limits, read_only))
    install_error_handlers(app)
    options = {key: value for key, value in launch_options().items() if key not in ("share",)}
    options["css"] = (options.get("css") or "") + ("\n" + READ_ONLY_CSS if read_only else "")
    options["max_file_size"] = limits.max_file_bytes
    gr.mount_gradio_app(app, blocks, path="/",
                        auth=(credentials.user, credentials.password) if credentials else None,
                        auth_message="Log in with the user and password given to rag serve --auth (or RAG_AUTH).",
                        **options)
    gated = UploadSizeGate(app, limits.max_files * limits.max_file_bytes + MULTIPART_SLACK)
    if credentials is None:
        return gated, blocks
    gradio_app = next(r.app for r in app.routes if isinstance(r, Mount))
    return AuthGate(gated, credentials, gradio_app), blocks


class UploadSizeGate:
    """ASGI middleware: a REST upload whose declared size exceeds what the limits could ever
    accept is refused (413) before its body is read and spooled to disk."""

    def __init__(self, app: Callable, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/") == "/api/documents":
            length = dict(scope.get("headers", [])).get(b"content-length", b"0")
            if length.isdigit() and int(length) > self.max_bytes:
                log.warning("POST /api/documents -> 413: %s bytes declared", length.decode())
                body = json.dumps({"error": f"the upload is {describe_size(int(length))}; at most "
                                            f"{describe_size(self.max_bytes)} in one upload "
                                            "(ui.max_upload_mb x ui.max_upload_files)"}).encode()
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class AuthGate:
    """ASGI middleware: every request but the public paths carries a valid Gradio session cookie
    or HTTP Basic credentials; otherwise 401 JSON. A request with HTTP Basic is handed on with a
    server-side session cookie, so Gradio's own checks accept it too."""

    def __init__(self, app: Callable, credentials: Credentials, gradio_app: Any) -> None:
        self.app = app
        self.credentials = credentials
        self.gradio_app = gradio_app
        self.basic_token = secrets.token_urlsafe(32)  # never sent to a client
        gradio_app.tokens[self.basic_token] = credentials.user
        self.cookie_names = (f"access-token-{gradio_app.cookie_id}", f"access-token-unsecure-{gradio_app.cookie_id}")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket") or _is_public(scope["path"]):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cookies = _cookies(headers.get("cookie", ""))
        if any(cookies.get(name) in self.gradio_app.tokens for name in self.cookie_names):
            return await self.app(scope, receive, send)
        if self._basic_ok(headers.get("authorization", "")):
            cookie = "; ".join(([headers["cookie"]] if headers.get("cookie") else [])
                               + [f"{self.cookie_names[1]}={self.basic_token}"])
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

    async def _refuse(self, scope: dict, send: Callable) -> None:
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-news")
    except PackageNotFoundError:
        return "unknown"


def serve(engine: "Engine", sock: socket.socket, host: str, credentials: Credentials | None = None,
          read_only: bool = False, warm_up_at_start: bool = True) -> None:
    """Serve the chat and the REST API on the bound socket until interrupted (blocking).

    The model loads in the background from the start (`warm_up_at_start`), so a question asked
    as soon as the page shows does not wait for it."""
    import uvicorn

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app, blocks = build_server_app(engine, credentials, read_only)
    if warm_up_at_start:
        blocks.backend.start_warm_up()
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=3,
                            lifespan="on")
    server = uvicorn.Server(config)
    url = url_of(sock, host)
    reach = ("this computer only" if is_loopback(host)
             else f"listening on {host}: other computers can reach it")
    who = f"login required (user {credentials.user})" if credentials else "no login"
    extras = ", read-only" if read_only else ""

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(f"Chat UI on {url} ({reach}; {who}{extras}); REST API at {url}api/docs; Ctrl+C stops it.",
                  flush=True)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    server.run(sockets=[sock])
