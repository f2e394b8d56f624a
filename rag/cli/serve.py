"""`rag serve`: the chat UI and the REST API on one port."""

from __future__ import annotations

import os
import sys

import click

from rag.cli.base import _common, echo, main


@main.command()
@click.option("--host", help="Address to bind (default: config ui.host, 127.0.0.1). Any other "
              "address than this computer's needs --auth (or RAG_AUTH), or --no-auth.")
@click.option("--port", type=click.IntRange(0, 65535),
              help="Port (default: config ui.port, 7860); 0 picks any free port.")
@click.option("--auth", "auth", metavar="USER:PASSWORD",
              help="Require this login for the page, the REST API and the Gradio API. Prefer "
                   "RAG_AUTH=USER:PASSWORD in the environment: arguments show in the process list.")
@click.option("--no-auth", is_flag=True, help="Serve another address than 127.0.0.1 with no password, on purpose.")
@click.option("--read-only", is_flag=True, help="No uploads or removals (the chat lists; the API answers 403).")
@_common
def serve(make_engine, settings, host, port, auth, no_auth, read_only) -> None:
    """Start the chat UI (and the REST API under /api) in the browser."""
    from ui.server import Credentials, ServeError, bind, check_exposure, serve as run

    host = host or settings.ui.host
    port = settings.ui.port if port is None else port
    try:
        secret = auth or os.environ.get("RAG_AUTH") or None
        if secret and no_auth:
            raise ServeError("--no-auth and a password (--auth or RAG_AUTH) contradict each other: "
                             "drop one", exit_code=2)
        credentials = Credentials.parse(secret) if secret else None
        warning = check_exposure(host, credentials, no_auth)
        sock = bind(host, port)
    except ServeError as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    if warning:
        click.echo(warning, err=True)
    with sock:
        run(make_engine(), sock, host, credentials=credentials, read_only=read_only)
