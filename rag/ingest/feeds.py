"""RSS and Atom feeds → one Document per item, parsed with feedparser.

A feed is recognised by its content (the first element is <rss>, <feed> or <rdf:RDF>), whatever
the file is called. Each item keeps its title, link (as `url`), date and the feed's title (as
`source`); its HTML (full content, else the summary) goes through the HTML reader.
"""

from __future__ import annotations

import calendar
import io
import re
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import ReadError
from rag.ingest.html import extract_html
from rag.types import Document

# Prolog (declaration, comments, doctype, stylesheet instructions) then the root element.
_FEED_START = re.compile(
    r"\A(?:\ufeff)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(?:rss|feed|rdf:RDF)[\s>/]", re.S | re.I)
SNIFF_BYTES = 4096


def looks_like_feed(head: bytes | str) -> bool:
    """Whether a file starting with `head` is an RSS or Atom feed."""
    if isinstance(head, bytes):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", errors="ignore")
        else:
            head = head.decode("utf-8", errors="ignore")
    return bool(_FEED_START.match(head[:SNIFF_BYTES]))


def read_feed(path: Path, data: bytes) -> tuple[list[Document], list[str]]:
    """The feed's items with text, and a warning for each item without."""
    import feedparser

    parsed = feedparser.parse(io.BytesIO(data))  # a stream: feedparser never fetches anything
    if not parsed.entries:
        problem = f" ({parsed.get('bozo_exception')})" if parsed.get("bozo") else ""
        raise ReadError(f"is not an RSS or Atom feed with items{problem}")
    source = _clean(parsed.feed.get("title", ""))
    documents: list[Document] = []
    warnings: list[str] = []
    for n, entry in enumerate(parsed.entries, start=1):
        title = _clean(entry.get("title", ""))
        text = _entry_text(entry, title)
        if not text:
            warnings.append(f"item {n} ({title or 'untitled'}): no text; skipped")
            continue
        documents.append(Document(
            f"{path.stem}-{n}", text, title or f"{source or path.stem} item {n}", source, str(path),
            url=entry.get("link", ""), date=_date(entry), offset=None, line=None,
        ))
    if not documents:
        raise ReadError("is a feed whose items hold no text")
    return documents, warnings


def _entry_text(entry, title: str) -> str:
    """The item's longest HTML body (full content beats a summary) as plain text."""
    bodies = [c.get("value", "") for c in entry.get("content", [])] + [entry.get("summary", "")]
    markup = max(bodies, key=len)
    if not markup.strip():
        return ""
    text = extract_html(f"<html><body>{markup}</body></html>").text
    if title and text.startswith(title + "\n\n"):
        text = text[len(title) + 2:]
    return text


def _date(entry) -> str:
    """ISO 8601 (UTC) from the published date, else the updated one; the raw string otherwise."""
    for key in ("published", "updated", "created"):
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
            return moment.isoformat().replace("+00:00", "Z")
        if entry.get(key):
            return str(entry[key])
    return ""


def _clean(text: str) -> str:
    return " ".join(str(text).split())
