"""`rag stats` and `rag docs`: what the index holds."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

import click

from rag.cli.base import EXIT_ERROR, _common, echo, main, one_line
from rag.types import DocumentInfo


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_common
def stats(make_engine, settings, as_json) -> None:
    """Counts and settings of the index."""
    data = make_engine().stats()
    if as_json:
        click.echo(json.dumps(data))
    else:
        echo(format_stats(data))
    if not data.get("healthy", True):
        sys.exit(EXIT_ERROR)  # scripts checking an index see it is unhealthy


@main.command()
@click.option("--match", default="", metavar="TEXT", help="Only articles whose title, source, file or id holds TEXT.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many (the first, by file).")
@click.option("--json", "as_json", is_flag=True)
@_common
def docs(make_engine, settings, match, limit, as_json) -> None:
    """List the indexed articles."""
    shown, total = make_engine().find_documents(match, limit)
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in shown]))
        return
    echo(format_documents(shown))
    if len(shown) < total:
        echo(f"({len(shown)} of {total} shown: --limit or --match to see others)")


def format_stats(data: dict[str, Any]) -> str:
    """One "key: value" line per entry, the values in one column; nested settings as
    `name=value` pairs ("max_words=110, overlap_sentences=1"), true/false as yes/no."""
    width = max((len(key) for key in data), default=0) + 1
    return "\n".join(f"{key + ':':<{width}} {format_value(value)}" for key, value in data.items())


def format_value(value: Any) -> str:
    """A stats value as a person reads it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value) or "-"
    return str(value)


def format_documents(infos: Sequence[DocumentInfo]) -> str:
    """The articles as aligned columns (id, source, chunks, title), then how many there are."""
    rows = [(one_line(i.doc_id), one_line(i.source or "-"), str(i.chunks), "chunk" if i.chunks == 1 else "chunks",
             one_line(i.title)) for i in infos]
    widths = [max((len(row[col]) for row in rows), default=0) for col in range(4)]
    lines = [f"{doc_id:<{widths[0]}}  {source:<{widths[1]}}  {count:>{widths[2]}} {noun:<{widths[3]}}  "
             f"{title}".rstrip() for doc_id, source, count, noun, title in rows]
    lines.append(f"{plural(len(infos), 'article')}, {plural(sum(i.chunks for i in infos), 'chunk')}")
    return "\n".join(lines)


def plural(count: int, noun: str) -> str:
    """"1 chunk", "2 chunks"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
