"""`rag`: a thin command line over Engine. Every command takes --index and --config.

Each command lives in its own module; importing them here registers them on `main`.
"""

from rag.cli.base import EXIT_ERROR, main
from rag.cli import ask, check, evaluate, info, ingest, migrate, serve  # noqa: F401  (registers the commands)
from rag.cli.ask import format_answer

__all__ = ["main", "format_answer", "EXIT_ERROR"]
