"""JSON Lines: one article per line; `text` required, `id`, `title`, `source`, `url`, `date`
optional. Read line by line, so a file of any size is read with flat memory; a bad line is a
warning naming its number, never a failure of the whole file. JSON Lines are UTF-8 (RFC 8259).

One line is read with a bounded readline: a line longer than the bytes an article within
ingest.max_article_chars can take (ReadLimits.max_jsonl_line_bytes) is skipped while it streams
past, never held; an article whose text is longer than ingest.max_article_chars is skipped too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from rag.ingest.limits import DEFAULT_LIMITS, ReadLimits
from rag.types import Document

Warn = Callable[[str], None]
_SKIP_BLOCK = 1024 * 1024  # the rest of an overlong line is read and dropped this much at a time


def parse_jsonl_lines(path: Path, handle: BinaryIO, on_warning: Warn | None = None,
                      limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    """The articles of the lines of `path` read lazily from `handle` (a file, or the bytes of an
    upload in a BytesIO); each bad or overlong line goes to `on_warning`."""
    warn = on_warning or (lambda message: None)
    seen: set[str] = set()
    for lineno, raw in enumerate(bounded_lines(handle, limits.max_jsonl_line_bytes), start=1):
        if raw is None:
            warn(f"line {lineno} is longer than {limits.max_jsonl_line_bytes:,} bytes, more than an article of "
                 f"ingest.max_article_chars ({limits.max_article_chars:,} characters) can take; skipped")
            continue
        if lineno == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            warn(f"line {lineno}: not UTF-8 (byte {exc.start}); skipped")
            continue
        except json.JSONDecodeError as exc:
            warn(f"line {lineno}: not valid JSON ({exc.msg}); skipped")
            continue
        del raw  # the decoded record holds what is needed; do not keep the line's bytes twice
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            warn(f"line {lineno}: needs a non-empty \"text\" string; skipped")
            continue
        text = record["text"].strip()
        if len(text) > limits.max_article_chars:
            warn(f"{limits.article_too_long(f'line {lineno}')}; skipped")
            continue
        doc_id = str(record.get("id") or f"{path.stem}-{lineno}")
        if doc_id in seen:
            warn(f"line {lineno}: id {doc_id!r} used twice; skipped")
            continue
        seen.add(doc_id)
        yield Document(
            doc_id, text, str(record.get("title") or doc_id), str(record.get("source") or ""),
            str(path), url=str(record.get("url") or ""), date=str(record.get("date") or ""),
            offset=None, line=None,
        )


def bounded_lines(handle: BinaryIO, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of `handle` (with their b"\\n"), None in place of a line longer than `max_bytes`:
    its bytes are read past in blocks and dropped, so memory never holds more than `max_bytes`."""
    while line := handle.readline(max_bytes + 1):
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line
            continue
        while (rest := handle.readline(_SKIP_BLOCK)) and not rest.endswith(b"\n"):
            pass
        yield None
