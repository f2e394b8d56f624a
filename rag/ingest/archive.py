"""The archive-page format: several articles in one file, each framed by title lines.

    Title – Source
    <article paragraphs>
    See more here:            (or "More here:", "Read more here:", "Read more:")
    Title - Source            (the title repeated)

The format is recognised from this framing, never from the file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import normalize_for_match, strip_span

FOOTER_MARKERS = ("see more here:", "more here:", "read more here:", "read more:")
_TITLE_SOURCE = re.compile(r"^(?P<title>.+?)\s+[–—-]\s+(?P<source>[^–—]+?)\s*$")


@dataclass(frozen=True)
class ArchiveArticle:
    title: str
    source: str
    start: int  # body span in the file's text
    end: int


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str  # stripped


def split_archive(text: str) -> list[ArchiveArticle]:
    """The articles of an archive page, or [] when the text is not in that format."""
    lines = _lines(text)
    articles: list[ArchiveArticle] = []
    search_from = 0
    for i, line in enumerate(lines):
        if line.text.lower() not in FOOTER_MARKERS:
            continue
        repeated = _next_nonblank(lines, i + 1)
        if repeated is None or not _TITLE_SOURCE.match(lines[repeated].text):
            continue
        header = _find_header(lines, search_from, i, lines[repeated].text)
        if header is None:
            continue
        match = _TITLE_SOURCE.match(lines[header].text)
        body_start = lines[header].end
        body_end = lines[i].start
        body_start, body_end = strip_span(text, body_start, body_end)
        if body_end > body_start:
            articles.append(ArchiveArticle(match["title"].strip(), match["source"].strip(),
                                           body_start, body_end))
        search_from = repeated + 1
    return articles


def _find_header(lines: list[_Line], first: int, footer: int, repeated_title: str) -> int | None:
    """The header line of the article ending at `footer`: the one the footer repeats."""
    wanted = _title_key(repeated_title)
    for j in range(first, footer):
        if _TITLE_SOURCE.match(lines[j].text) and _title_key(lines[j].text) == wanted:
            return j
    return None


def _title_key(line: str) -> str:
    """Header and footer spell the same title with different dashes and ellipses."""
    return re.sub(r"[\s.–—-]+", " ", normalize_for_match(line)).strip()


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    for m in re.finditer(r"[^\n]*", text):
        if m.start() == m.end() and out and out[-1].end == m.start():
            continue
        out.append(_Line(m.start(), m.end(), m.group().strip()))
    return out


def _next_nonblank(lines: list[_Line], i: int) -> int | None:
    while i < len(lines):
        if lines[i].text:
            return i
        i += 1
    return None

