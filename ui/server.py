"""`rag serve`: the chat (Gradio) and the REST API (ui/api.py) on one port, behind one login.

The socket is bound here before anything heavy loads, so a busy port is one line at once.
Authentication covers every route but the login page and the static assets: the browser logs
in through Gradio's login page (a session cookie); the REST API and the Gradio API take the
same user and password, as that cookie or as HTTP Basic.

Behind the login, ASGI gates check what the app would take on trust: an upload's body is counted
as it streams (and refused on --read-only before it is read), and a Gradio API call must name a
function the page has. Nothing logs a request body in full: a log line or a traceback message is
cut to MAX_LOGGED_CHARS.
"""

from __future__ import annotations

import errno
import hmac
import logging
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ui.collections import Collections
from ui.gates import AuthGate, GradioCallGate, UploadGate
from ui.logs import BoundedLogs, quiet_gradio_tracebacks

if TYPE_CHECKING:
    from rag.engine import Engine

log = logging.getLogger("rag.serve")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
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


def build_server_app(source: "Engine | Collections", credentials: Credentials | None = None,
                     read_only: bool = False) -> tuple[Any, Any]:
    """(ASGI app, Gradio Blocks): the REST routes, then the chat mounted at /, behind the login,
    over one Engine or several collections (the first is the default; its settings set the limits)."""
    from starlette.routing import Mount

    from rag.offline import enforce_offline

    enforce_offline()  # before gradio is imported: no analytics
    import gradio as gr

    from ui.api import READ_ONLY, build_router, install_error_handlers
    from ui.app import build_app, launch_options
    from ui.docs import api_app
    from ui.limits import UploadLimits

    quiet_gradio_tracebacks()
    collections = Collections.of(source, read_only)
    limits = UploadLimits.from_settings(collections.default.engine.settings.ui)
    blocks = build_app(collections, read_only=read_only)
    blocks.queue(default_concurrency_limit=1)
    app = api_app(title="rag-news", version=_version(),
                  description="Ask your news articles: cited passages, the same JSON as `rag ask --json`.")
    app.include_router(build_router(collections, limits, read_only))
    install_error_handlers(app)
    options = {key: value for key, value in launch_options().items() if key not in ("share",)}
    options["css"] = (options.get("css") or "") + ("\n" + READ_ONLY_CSS if read_only else "")
    options["max_file_size"] = limits.max_file_bytes
    gr.mount_gradio_app(app, blocks, path="/",
                        auth=(credentials.user, credentials.password) if credentials else None,
                        auth_message="Log in with the user and password given to rag serve --auth (or RAG_AUTH).",
                        **options)
    gated = UploadGate(GradioCallGate(app, blocks), limits, READ_ONLY if read_only else None)
    if credentials is None:
        return gated, blocks
    gradio_app = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "")  # the one at /
    return AuthGate(gated, credentials, gradio_app), blocks


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-news")
    except PackageNotFoundError:
        return "unknown"


def serve(source: "Engine | Collections", sock: socket.socket, host: str, credentials: Credentials | None = None,
          read_only: bool = False, warm_up_at_start: bool = True) -> None:
    """Serve the chat and the REST API over one Engine or several collections on the bound
    socket until interrupted (blocking).

    The default collection's model loads in the background from the start (`warm_up_at_start`),
    so a question asked as soon as the page shows does not wait for it."""
    import uvicorn

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(BoundedLogs())
    app, blocks = build_server_app(source, credentials, read_only)
    if warm_up_at_start:
        blocks.backend.start_warm_up()
    # log_config=None: uvicorn's records go through the handler above, and its filter, too
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3, lifespan="on")
    server = uvicorn.Server(config)
    url = url_of(sock, host)
    reach = ("this computer only" if is_loopback(host)
             else f"listening on {host}: other computers can reach it")
    who = f"login required (user {credentials.user})" if credentials else "no login"
    extras = ", read-only: no conversations kept" if read_only else ""
    names = blocks.backend.collections.names
    if len(names) > 1:
        extras += f"; collections {', '.join(names)}"

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(f"Chat UI on {url} ({reach}; {who}{extras}); REST API at {url}api/docs; Ctrl+C stops it.",
                  flush=True)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    server.run(sockets=[sock])
