"""The `rag` command group and what every command shares: --index, --config, errors."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from rag.config import ConfigError, load_settings
from rag.errors import IndexProblem

EXIT_ERROR = 1


def _common(command):
    """--index and --config for every command, handed on as one Engine factory."""

    @click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
                  help="Index folder (default: config index_dir, else the user data dir).")
    @click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="Config file (default: $RAG_CONFIG, else ./config.yaml, else built-in).")
    @functools.wraps(command)
    def wrapper(index_dir, config_file, **kwargs):
        try:
            settings = load_settings(config_file)

            def make_engine():
                from rag.engine import Engine

                return Engine(settings, index_dir)

            return command(make_engine, settings=settings, **kwargs)
        except (ConfigError, IndexProblem, FileNotFoundError, ValueError, RuntimeError) as exc:
            if kwargs.get("as_json"):  # a --json caller parses stdout: the error is JSON there too
                click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
            else:
                click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rag-news", prog_name="rag", message="%(prog)s %(version)s")
def main() -> None:
    """Ask questions of your news articles, offline; answers are passages with citations."""


