"""`rag serve`: the chat UI."""

from __future__ import annotations

import click

from rag.cli.base import _common, main


@main.command()
@click.option("--host", help="Address to bind (default: config ui.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: config ui.port, 7860).")
@_common
def serve(make_engine, settings, host, port) -> None:
    """Start the chat UI in the browser."""
    from ui.app import launch

    launch(make_engine(), host=host or settings.ui.host, port=port or settings.ui.port)
