"""`rag check`: is the index whole, and repair what can be rebuilt from its record."""

from __future__ import annotations

import json
import sys

import click

from rag.cli.base import EXIT_ERROR, _common, main


@main.command()
@click.option("--repair", is_flag=True,
              help="Rebuild the keyword and vector indexes from the stored record (nothing is embedded again).")
@click.option("--json", "as_json", is_flag=True)
@_common
def check(make_engine, settings, repair, as_json) -> None:
    """Check that the index's files are whole and agree; --repair rebuilds the derived ones."""
    engine = make_engine()
    done = engine.check(repair=True) if repair else []
    problems = engine.check()
    if as_json:
        click.echo(json.dumps({"healthy": not problems, "problems": problems, "repaired": done}))
    else:
        for line in done:
            click.echo(line)
        for problem in problems:
            click.echo(f"problem: {problem}")
        if not problems:
            click.echo(f"the index at {engine.index_dir} is healthy")
    if problems:
        sys.exit(EXIT_ERROR)
