"""`rag serve`: the chat UI and the REST API on one port, over one index folder or several."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from rag.cli.base import echo, main
from rag.config import ConfigError, default_index_dir, load_settings
from rag.errors import IndexProblem


@main.command()
@click.option("--index", "indexes", multiple=True, metavar="[NAME=]PATH",
              help="Index folder to serve (default: config index_dir, else the user data dir). Repeat it to "
                   "serve several, each a collection the chat and the API can choose; NAME=PATH names one "
                   "(default: the folder's name). The first is the default.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: $RAG_CONFIG, else ./config.yaml, else built-in).")
@click.option("--host", help="Address to bind (default: config ui.host, 127.0.0.1). Any other "
              "address than this computer's needs --auth (or RAG_AUTH), or --no-auth.")
@click.option("--port", type=click.IntRange(0, 65535),
              help="Port (default: config ui.port, 7860); 0 picks any free port.")
@click.option("--auth", "auth", metavar="USER:PASSWORD",
              help="Require this login for the page, the REST API and the Gradio API. Prefer "
                   "RAG_AUTH=USER:PASSWORD in the environment: arguments show in the process list.")
@click.option("--no-auth", is_flag=True, help="Serve another address than 127.0.0.1 with no password, on purpose.")
@click.option("--read-only", is_flag=True, help="No uploads or removals (the chat lists; the API answers 403), "
              "and no conversations kept.")
def serve(indexes, config_file, host, port, auth, no_auth, read_only) -> None:
    """Start the chat UI (and the REST API under /api) in the browser."""
    from ui.collections import open_collections, plan_collections
    from ui.server import Credentials, ServeError, bind, check_exposure, serve as run

    try:
        settings = load_settings(config_file)
        default = Path(settings.index_dir).expanduser() if settings.index_dir else default_index_dir()
        plan = plan_collections(indexes, default)
    except (ConfigError, ValueError) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ValueError) and not isinstance(exc, ConfigError) else 1)
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
        try:
            collections = open_collections(settings, plan, read_only)
        except (ValueError, RuntimeError, IndexProblem) as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(1)
        run(collections, sock, host, credentials=credentials, read_only=read_only)
