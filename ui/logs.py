"""Log lines that never carry a request body in full: each message, and each exception's message
in a traceback, is cut to MAX_LOGGED_CHARS (a client's input may be quoted in them)."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

MAX_LOGGED_CHARS = 500  # of one log message or exception message: a client's input may be quoted in it


def clamp(text: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """`text`, or its first `limit` characters and how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters in all)"


def bounded_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and of the exceptions it came from, as Python prints it, but each
    exception's message cut to MAX_LOGGED_CHARS: Gradio's messages quote a call's inputs whole."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    blocks = [("Traceback (most recent call last):\n" + "".join(traceback.format_tb(e.__traceback__))
               if e.__traceback__ else "") + clamp(f"{type(e).__qualname__}: {e}") for e in reversed(chain)]
    return "\n\nThe above exception led to this one:\n\n".join(blocks)


class BoundedLogs(logging.Filter):
    """A logging filter: every record's message, and each message in its traceback, at most
    MAX_LOGGED_CHARS long, so no request body reaches the log in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > MAX_LOGGED_CHARS:
            record.msg, record.args = clamp(message), None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = bounded_traceback(record.exc_info[1])
        return True


GRADIO_LOG = logging.getLogger("rag.serve.gradio")


class _GradioTraceback:
    """Stands in for the `traceback` module inside Gradio's request modules: their print_exc()
    (a failed call, whose message may quote the inputs it was given) becomes one record of
    GRADIO_LOG, whose filter bounds it; anything else is the real module's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def print_exc(*args: Any, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            GRADIO_LOG.error("a Gradio call failed", exc_info=exc)


def quiet_gradio_tracebacks() -> None:
    """Send the tracebacks Gradio prints while serving a call to GRADIO_LOG, bounded."""
    import gradio.queueing
    import gradio.route_utils
    import gradio.routes

    if not any(isinstance(f, BoundedLogs) for f in GRADIO_LOG.filters):
        GRADIO_LOG.addFilter(BoundedLogs())
    for module in (gradio.queueing, gradio.route_utils, gradio.routes):
        module.traceback = _GradioTraceback()
