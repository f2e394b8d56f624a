"""JSON Lines: one article per line; `text` required, `id`, `title`, `source`, `url`, `date`
optional. Read line by line, so a file of any size is read with flat memory; a bad line is a
warning naming its number, never a failure of the whole file. JSON Lines are UTF-8 (RFC 8259)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from rag.types import Document

Warn = Callable[[str], None]


def iter_jsonl(path: Path, on_warning: Warn | None = None) -> Iterator[Document]:
    """The articles of a .jsonl file, read lazily line by line."""
    with path.open("rb") as handle:
        yield from parse_jsonl_lines(path, handle, on_warning)


def parse_jsonl_lines(path: Path, lines: Iterable[bytes], on_warning: Warn | None = None) -> Iterator[Document]:
    """The articles of these raw lines of `path`; each bad line goes to `on_warning`."""
    warn = on_warning or (lambda message: None)
    seen: set[str] = set()
    for lineno, raw in enumerate(lines, start=1):
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
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            warn(f"line {lineno}: needs a non-empty \"text\" string; skipped")
            continue
        doc_id = str(record.get("id") or f"{path.stem}-{lineno}")
        if doc_id in seen:
            warn(f"line {lineno}: id {doc_id!r} used twice; skipped")
            continue
        seen.add(doc_id)
        yield Document(
            doc_id, record["text"].strip(), str(record.get("title") or doc_id), str(record.get("source") or ""),
            str(path), url=str(record.get("url") or ""), date=str(record.get("date") or ""),
            offset=None, line=None,
        )
