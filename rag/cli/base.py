"""The `rag` command group and what every command shares: --index, --config, errors."""

from __future__ import annotations

import functools
import json
import sys
import unicodedata
from pathlib import Path

import click

from rag.config import ConfigError, load_settings
from rag.errors import IndexProblem

EXIT_ERROR = 1
# Characters that steer a terminal or reorder what it shows: file names and article text may hold
# them (an OSC sequence, a forged "added 1 file" line after a carriage return, a right-to-left override).
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def terminal_text(text: str) -> str:
    """`text` safe to print: control characters (but newlines and tabs) and bidirectional
    controls shown as escapes (\\x1b, \\u202e), so names and articles cannot steer the terminal."""
    def shown(char: str) -> str:
        if char in "\n\t" or (unicodedata.category(char) != "Cc" and char not in _BIDI_CONTROLS):
            return char
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return "".join(map(shown, text)) if not text.isprintable() else text


def one_line(text: object) -> str:
    """A name or title to print inside a line: its line breaks and tabs shown as escapes too
    (\\n), so a file name or title cannot start a line of its own ("files: 9 added")."""
    return terminal_text(str(text).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t"))


def echo(text: str, err: bool = False) -> None:
    """Print text output for a person (JSON output goes through click.echo as it is)."""
    click.echo(terminal_text(text), err=err)


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
                echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rag-news", prog_name="rag", message="%(prog)s %(version)s")
def main() -> None:
    """Ask questions of your news articles, offline; answers are passages with citations."""


