"""`rag stats` and `rag docs`: what the index holds."""

from __future__ import annotations

import json

import click

from rag.cli.base import _common, main


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_common
def stats(make_engine, settings, as_json) -> None:
    """Counts and settings of the index."""
    data = make_engine().stats()
    if as_json:
        click.echo(json.dumps(data))
    else:
        for key, value in data.items():
            click.echo(f"{key:>15}: {value}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_common
def docs(make_engine, settings, as_json) -> None:
    """List the indexed articles."""
    infos = make_engine().documents()
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos]))
        return
    for info in infos:
        click.echo(f"{info.doc_id}\t{info.source or '-'}\t{info.chunks} chunks\t{info.title}")
    click.echo(f"{len(infos)} articles")
