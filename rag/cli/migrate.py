"""`rag migrate --to milvus`: copy the local index into a Milvus server, embedding nothing."""

from __future__ import annotations

import json
import sys

import click

from rag.cli.base import _common, main


@main.command()
@click.option("--to", "to", type=click.Choice(["milvus"]), required=True, help="Where to copy the index.")
@click.option("--uri", help="Milvus server (default: store.uri in the config). Token: $RAG_MILVUS_TOKEN.")
@click.option("--collection", help="Prefix of the collections (default: store.collection in the config).")
@click.option("--replace", is_flag=True, help="Replace an index the collections already hold.")
@click.option("--json", "as_json", is_flag=True)
@_common
def migrate(make_engine, settings, to, uri, collection, replace, as_json) -> None:
    """Copy the local index (--index) into Milvus: vectors, passages, articles and file records
    are copied as they are, nothing is embedded again. Afterwards set `store.backend: milvus`."""
    from rag.engine import Engine

    folder = make_engine().index_dir  # --index resolved as by every command
    engine = Engine(settings.with_updates(store={"backend": "local"}), folder)  # the source is the local folder
    store = settings.store.model_copy(update={k: v for k, v in {"uri": uri, "collection": collection}.items() if v})
    total = engine.document_totals()[0]
    with click.progressbar(length=total, label="copying articles", file=sys.stderr, hidden=as_json) as bar:
        report = engine.migrate(store, replace, bar.update)
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    click.echo(f"copied {report.documents} articles, {report.chunks} passages and {report.files} file records "
               f"from {report.source} to {report.target} in {report.seconds} s; embedded: {report.embedded}")
    click.echo(f"to answer from it, set in the config: store: {{backend: milvus, uri: {store.uri}, "
               f"collection: {store.collection}}}")
