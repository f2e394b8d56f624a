"""EPUB → one Document per chapter, read with ebooklib; each chapter's XHTML through the HTML reader.

One Document per chapter rather than one per book, because a citation then names its chapter
in the title ("Letters from the Lighthouse: Storm season"), the article list shows the chapters,
and a passage never runs from one chapter into the next. (News e-books, such as the daily
editions calibre builds, hold one article per chapter.) A book of a single chapter is one
Document titled with the book title. The source is the book's author, else its publisher.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path

from rag.errors import ReadError
from rag.ingest.html import extract_html
from rag.types import Document


def read_epub(path: Path, data: bytes) -> list[Document]:
    """The book's chapters in reading (spine) order, each with text, as Documents."""
    import ebooklib
    from ebooklib import epub

    try:
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except (zipfile.BadZipFile, epub.EpubException, KeyError, ValueError, AttributeError, IndexError) as exc:
        raise ReadError(f"is not a readable EPUB ({str(exc) or type(exc).__name__})") from exc
    book_title = _first(book, "title") or path.stem.replace("_", " ").replace("-", " ")
    source = _first(book, "creator") or _first(book, "publisher")
    date = _first(book, "date")
    toc = _toc_titles(book.toc)

    chapters: list[tuple[str, str]] = []  # (chapter title, text)
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or isinstance(item, epub.EpubNav) or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        article = extract_html(item.get_content().decode("utf-8", errors="replace"))
        if not article.text:
            continue  # a cover or an image page
        heading = toc.get(posixpath.normpath(item.get_name())) or _first_heading(item) or article.title
        text = article.text
        if heading and text.startswith(heading + "\n\n"):
            text = text[len(heading) + 2:]  # the chapter heading repeated as its first block
        elif heading and text == heading:
            continue
        chapters.append((heading, text))
    if not chapters:
        raise ReadError("holds no chapter with text")
    if len(chapters) == 1:
        return [Document(path.stem, chapters[0][1], book_title, source, str(path), date=date,
                         offset=None, line=None)]
    return [
        Document(f"{path.stem}-{n}", text, _chapter_title(book_title, heading, n), source, str(path),
                 date=date, offset=None, line=None)
        for n, (heading, text) in enumerate(chapters, start=1)
    ]


def _chapter_title(book_title: str, heading: str, n: int) -> str:
    if not heading or heading == book_title:
        return f"{book_title}: chapter {n}"
    return f"{book_title}: {heading}"


def _first(book, name: str) -> str:
    values = book.get_metadata("DC", name)
    return " ".join(str(values[0][0]).split()) if values and values[0][0] else ""


def _toc_titles(toc) -> dict[str, str]:
    """File name → its first table-of-contents title (nested sections flattened)."""
    from ebooklib import epub

    titles: dict[str, str] = {}

    def walk(entries) -> None:
        for entry in entries:
            if isinstance(entry, tuple):  # (Section, [children])
                walk([entry[0]])
                walk(entry[1])
            elif isinstance(entry, (epub.Link, epub.Section, epub.EpubHtml)):
                href = getattr(entry, "href", None) or getattr(entry, "file_name", None)
                title = " ".join((entry.title or "").split())
                if href and title:
                    titles.setdefault(posixpath.normpath(href.split("#")[0]), title)

    walk(toc)
    return titles


def _first_heading(item) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(item.get_content(), "html.parser")
    tag = soup.find(["h1", "h2", "h3"])
    return " ".join(tag.get_text(" ").split()) if tag else ""
