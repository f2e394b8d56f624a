"""PDF → one Document with its page starts, text extracted with pypdf.

pypdf's plain extraction follows the content stream, which is the reading order of single- and
multi-column pages from word processors and layout programs. On that text:
- running headers and footers (a short line among the first or last three of more than half of
  the pages, page numbers counted as equal: "Page 3 of 9" = "Page 4 of 9") are dropped;
- a word split by a line-end hyphen is joined ("inter-" + "national" → "international"); a hyphen
  inside a line ("well-known") is kept;
- lines are joined into paragraphs; a paragraph ends at a short line that ends a sentence or is
  followed by a capital (the last line of a paragraph, a heading).
The text is counted page by page against ingest.max_article_chars: compressed content streams
can hold far more text than the file's size suggests.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from pathlib import Path

from rag.errors import ReadError
from rag.ingest.limits import DEFAULT_LIMITS, ReadLimits
from rag.types import Document

# pypdf logs what it repairs or guesses in damaged files to stderr; our ReadError says what matters.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"[ \t\u00a0]+")
_RUNNING_MAX_CHARS = 120  # running headers and footers are short lines
_EDGE_LINES = 3  # ... among the first or last three of a page
_SENTENCE_END = tuple(".!?:;\"”’)»")
_BAD_TITLES = re.compile(r"^(untitled|microsoft word\b|document\d*$)|\.(docx?|pdf|odt|rtf|indd)$", re.I)


def read_pdf(path: Path, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> tuple[Document, list[str]]:
    """The PDF's text as one Document (page_starts set, offset/line None) and warnings."""
    reader = _open(data)
    pages: list[list[str]] = []
    heading = ""
    chars = 0
    for n, page in enumerate(reader.pages, start=1):
        lines, page_heading = _page_lines(page, n, want_heading=not any(pages))
        pages.append(lines)
        heading = heading or page_heading
        chars += sum(len(line) for line in lines)
        limits.check_article(chars)  # page by page: stop at the cap, not at the last page
    if not any(pages):
        raise ReadError("no text layer (scanned?); OCR is not supported")
    warnings = []
    empty = [str(n) for n, lines in enumerate(pages, start=1) if not lines]
    if empty:
        warnings.append(f"no text layer on page(s) {', '.join(empty)} (scanned?); "
                        "OCR is not supported, those pages are left out")
    running = _running_lines(pages)
    paragraphs_by_page = [_paragraphs([ln for ln in lines if _key(ln) not in running], heading)
                          for lines in pages]

    meta = _metadata(reader)
    title = meta["title"]
    first_page = next((i for i, p in enumerate(paragraphs_by_page) if p), 0)
    first = paragraphs_by_page[first_page][0] if paragraphs_by_page[first_page] else ""
    if not title:
        title = heading or (first if _looks_like_heading(first) else "")
    if title and _SPACES.sub(" ", first).strip().casefold() == title.casefold():
        paragraphs_by_page[first_page] = paragraphs_by_page[first_page][1:]  # the title repeated

    text, page_starts = _join_pages(paragraphs_by_page)
    if not text.strip():
        raise ReadError("holds no article text")
    document = Document(path.stem, text, title or path.stem.replace("_", " ").replace("-", " "),
                        meta["author"], str(path), offset=None, line=None,
                        page_starts=tuple(page_starts))
    return document, warnings


def _open(data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise ReadError(f"is not a readable PDF ({_short(exc)})") from exc
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # owner-password-only files open with an empty password
        except DependencyError as exc:
            raise ReadError("is encrypted with AES; reading it needs the 'cryptography' package "
                            "(pip install cryptography)") from exc
        except (PdfReadError, NotImplementedError, ValueError) as exc:
            raise ReadError(f"is encrypted in a way that cannot be read ({_short(exc)})") from exc
        if not opened:
            raise ReadError("is encrypted and needs a password to open; save an unprotected copy")
    try:
        len(reader.pages)
    except Exception as exc:  # pypdf raises many types on broken page trees
        raise ReadError(f"is not a readable PDF ({_short(exc)})") from exc
    return reader


def _page_lines(page, number: int, want_heading: bool) -> tuple[list[str], str]:
    """The page's non-empty lines (spaces collapsed) and, if wanted, its heading: the first run
    of text set in the page's largest type, when that is clearly larger than the body text."""
    fragments: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size) -> None:
        if text.strip():
            scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
            fragments.append((text, round(font_size * scale, 1)))

    try:
        raw = page.extract_text(visitor_text=visit if want_heading else None) or ""
    except Exception as exc:  # pypdf raises many types on broken content streams
        raise ReadError(f"page {number} cannot be read ({_short(exc)})") from exc
    lines = (_SPACES.sub(" ", ln).strip() for ln in raw.replace("\r", "\n").split("\n"))
    return [ln for ln in lines if ln], _largest_type(fragments)


def _largest_type(fragments: list[tuple[str, float]]) -> str:
    if not fragments:
        return ""
    chars_by_size = Counter()
    for text, size in fragments:
        chars_by_size[size] += len(text.strip())
    body = chars_by_size.most_common(1)[0][0]
    largest = max(chars_by_size)
    if largest < 1.2 * body:
        return ""
    start = next(i for i, (_, size) in enumerate(fragments) if size == largest)
    run = []
    for text, size in fragments[start:]:
        if size != largest:
            break
        run.append(text)
    heading = _SPACES.sub(" ", " ".join(run).replace("\n", " ")).strip()
    return heading if _looks_like_heading(heading) else ""


def _key(line: str) -> str:
    return _DIGITS.sub("#", line.casefold())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Keys of the short lines found on more than half of the pages (at least two)."""
    with_text = [p for p in pages if p]
    if len(with_text) < 2:
        return set()
    counts = Counter(k for lines in with_text
                     for k in {_key(ln) for ln in _edges(lines) if len(ln) <= _RUNNING_MAX_CHARS})
    return {k for k, n in counts.items() if n >= 2 and n > len(with_text) / 2}


def _edges(lines: list[str]) -> list[str]:
    """The lines a running header or footer can be: the first and last few of the page's text
    (PDF writers draw them before or after the body, so they come out at either end)."""
    return lines if len(lines) <= 2 * _EDGE_LINES else lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]


def _paragraphs(lines: list[str], heading: str = "") -> list[str]:
    """Lines joined into paragraphs, line-end hyphenation undone; `heading` stands alone."""
    if not lines:
        return []
    if heading:
        for k in range(1, min(len(lines), 4) + 1):
            if " ".join(lines[:k]) == heading:
                return [heading] + _paragraphs(lines[k:])
    lengths = sorted(len(ln) for ln in lines)
    typical = lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))]  # a full line; short ones end paragraphs
    paragraphs: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        current = _join_line(current, line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        short = len(line) < 0.75 * typical
        if not following or (short and (line.endswith(_SENTENCE_END) or following[:1].isupper()
                                        or following[:1].isdigit())):
            paragraphs.append(current)
            current = ""
    return paragraphs


def _join_line(current: str, line: str) -> str:
    if not current:
        return line
    if current.endswith("\u00ad"):  # soft hyphen: always a break inside a word
        return current[:-1] + line
    if re.search(r"[^\W\d_]-$", current) and not current.endswith("--"):
        if line[:1].islower():
            return current[:-1] + line  # "inter-" + "national"
        return current + line  # "Anglo-" + "American": a real hyphen
    return f"{current} {line}"


def _join_pages(paragraphs_by_page: list[list[str]]) -> tuple[str, list[int]]:
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    for paragraphs in paragraphs_by_page:
        if length and paragraphs:
            parts.append("\n\n")
            length += 2
        starts.append(length)
        block = "\n\n".join(paragraphs)
        parts.append(block)
        length += len(block)
    return "".join(parts), starts


def _metadata(reader) -> dict[str, str]:
    try:
        info = reader.metadata
    except Exception:  # a broken info dictionary loses the metadata, not the text
        info = None
    title = author = ""
    if info is not None:
        title = _SPACES.sub(" ", str(info.title or "")).strip()
        author = _SPACES.sub(" ", str(info.author or "")).strip()
    if _BAD_TITLES.search(title):
        title = ""
    # No date: the creation date says when the PDF was made, not when the article was published.
    return {"title": title, "author": author}


def _looks_like_heading(line: str) -> bool:
    return 0 < len(line) <= 150 and not line.endswith((".", ",", ";", ":"))


def _short(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:120]
