"""RSS and Atom feeds → one Document per item, parsed with feedparser.

A feed is recognised by its content (the first element is <rss>, <feed> or <rdf:RDF>), whatever
the file is called. Each item keeps its title, link (as `url`), date and the feed's title (as
`source`); its HTML (full content, else the summary) goes through the HTML reader.

A feed whose DOCTYPE has an internal subset (`<!DOCTYPE rss [ ... ]>`, where entities are
declared) is refused for safety: entity declarations are how the "billion laughs" attack (entities
expanding to gigabytes) and XXE (entities reading local files) work, and news feeds do not need
them. It is still recognised as a feed, so the refusal says so, rather than calling it "not a
feed" (or reading its markup as a text article). feedparser's own defences stay behind this one:
it drops every entity declaration but plain-text ones and never fetches external entities. A
plain DOCTYPE (`<!DOCTYPE rss PUBLIC "..." "...">`, as RSS 0.91 feeds have) is read normally.
"""

from __future__ import annotations

import calendar
import io
import re
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import ReadError
from rag.ingest.html import extract_html
from rag.ingest.limits import DEFAULT_LIMITS, ReadLimits
from rag.types import Document

# The prolog: the XML declaration and stylesheet instructions, comments, a DOCTYPE (with or
# without an internal subset). Each item can match in one way only, so a start that is not a
# feed fails in linear time: "(?:\s+)*" or ".*?\?>" inside the repetition backtracks
# exponentially (a text file starting with 30 spaces took seconds, 40 spaces hours).
_PROLOG = (r"(?:\s|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->"
           r"|<!DOCTYPE[^>\[]*(?:\[[^\]]*\]\s*)?>)*")
_ROOT = r"(?:rss|feed|rdf:RDF)"
# The root element, or a DOCTYPE naming it (an internal subset can be longer than the sniff).
_FEED_START = re.compile(rf"\A\ufeff?{_PROLOG}(?:<{_ROOT}[\s>/]|<!DOCTYPE\s+{_ROOT}[\s>\[])", re.S | re.I)
_INTERNAL_SUBSET = re.compile(rf"\A\ufeff?{_PROLOG}<!DOCTYPE[^>\[]*\[", re.S | re.I)
SNIFF_BYTES = 4096


def looks_like_feed(head: bytes | str) -> bool:
    """Whether a file starting with `head` is an RSS or Atom feed."""
    return bool(_FEED_START.match(_text(head[:SNIFF_BYTES])))


def read_feed(path: Path, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Document], list[str]]:
    """The feed's items with text, and a warning for each item without. ReadError when an
    item's text is over ingest.max_article_chars."""
    import feedparser

    if _INTERNAL_SUBSET.match(_text(data[:SNIFF_BYTES])):
        raise ReadError("is a feed whose DOCTYPE has an internal subset (<!DOCTYPE ... [ ... ]>, where entities "
                        "are declared): refused for safety, as entity expansion is the 'billion laughs' attack "
                        "and external entities are XXE; without the subset it is read")

    # A stream: feedparser never fetches anything. Its HTML sanitizer and link resolver are for
    # showing the items' HTML; only their text is kept here (the HTML reader drops scripts), and
    # on a large item they took 50 s and 600 MB for 5 MB.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries:
        problem = f" ({parsed.get('bozo_exception')})" if parsed.get("bozo") else ""
        raise ReadError(f"is not an RSS or Atom feed with items{problem}")
    source = _clean(parsed.feed.get("title", ""))
    documents: list[Document] = []
    warnings: list[str] = []
    for n, entry in enumerate(parsed.entries, start=1):
        title = _clean(entry.get("title", ""))
        text = _entry_text(entry, title, limits, f"item {n} ({title or 'untitled'})")
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


def _text(head: bytes | str) -> str:
    """The start of a file as text, for the patterns above (UTF-16 with a BOM, else UTF-8)."""
    if isinstance(head, str):
        return head
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    return head.decode(encoding, errors="ignore")


def _entry_text(entry, title: str, limits: ReadLimits, what: str) -> str:
    """The item's longest HTML body (full content beats a summary) as plain text."""
    bodies = [c.get("value", "") for c in entry.get("content", [])] + [entry.get("summary", "")]
    markup = max(bodies, key=len)
    if not markup.strip():
        return ""
    limits.check_markup_text(markup, what)
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
