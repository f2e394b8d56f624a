"""`rag check`: is the index whole, and repair what can be rebuilt from its record."""

from __future__ import annotations

import json
import sys

import click

from rag.cli.base import EXIT_ERROR, _common, echo, main


@main.command()
@click.option("--repair", is_flag=True,
              help="Restore a lost index.json; rebuild the keyword and vector indexes from the stored record "
                   "(nothing is embedded again).")
@click.option("--full", is_flag=True,
              help="Check everything: every page of the record and every stored vector (slow on big indexes).")
@click.option("--json", "as_json", is_flag=True)
@_common
def check(make_engine, settings, repair, full, as_json) -> None:
    """Check that the index's files are whole and agree; --repair rebuilds the derived ones.

    Without --full: the record's pages (SQLite quick_check), the keyword index's checksums, the
    vector file's header and size, and that the three agree."""
    engine = make_engine()
    done = engine.check(repair=True) if repair else []
    problems = engine.check(full=full)
    if as_json:
        click.echo(json.dumps({"healthy": not problems, "problems": problems, "repaired": done}))
    else:
        for line in done:
            echo(line)
        for problem in problems:
            echo(f"problem: {problem}")
        if not problems:
            echo(f"the index at {engine.index_dir} is healthy")
    if problems:
        sys.exit(EXIT_ERROR)
