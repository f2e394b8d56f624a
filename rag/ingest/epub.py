"""EPUB → one Document per chapter, read with zipfile and ElementTree; each chapter's XHTML
through the HTML reader.

One Document per chapter rather than one per book, because a citation then names its chapter
in the title ("Letters from the Lighthouse: Storm season"), the article list shows the chapters,
and a passage never runs from one chapter into the next. (News e-books, such as the daily
editions calibre builds, hold one article per chapter.) A book of a single chapter is one
Document titled with the book title. The source is the book's author, else its publisher.
Chapter names come from the table of contents (the EPUB 3 navigation document, else the EPUB 2
NCX), else from the chapter's first h1–h3.

The archive is read within the `ingest:` caps (rag.ingest.limits.ZipBudget: ingest.max_member_mb
per file once inflated, ingest.max_inflated_mb for all together, so a zip bomb stops at its cap),
and each chapter's text within ingest.max_article_chars.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote
from xml.etree import ElementTree

from rag.errors import ReadError
from rag.ingest.html import extract_html
from rag.ingest.limits import DEFAULT_LIMITS, ReadLimits, ZipBudget
from rag.types import Document

_NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container", "opf": "http://www.idpf.org/2007/opf",
       "dc": "http://purl.org/dc/elements/1.1/", "x": "http://www.w3.org/1999/xhtml",
       "ops": "http://www.idpf.org/2007/ops", "ncx": "http://www.daisy.org/z3986/2005/ncx/"}
_DOCUMENT_TYPES = {"application/xhtml+xml", "text/html"}
_NCX_TYPE = "application/x-dtbncx+xml"
_BARE_AMPERSAND = re.compile(rb"&(?!#?\w+;)")
_HEAD_START, _HEAD_END = re.compile(r"<head\b", re.IGNORECASE), re.compile(r"</head\s*>", re.IGNORECASE)


class _Item(NamedTuple):
    path: str  # in the archive
    media_type: str
    properties: list[str]


def read_epub(path: Path, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> list[Document]:
    """The book's chapters in reading (spine) order, each with text, as Documents."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _unreadable(f"not a zip archive: {exc}") from exc
    with archive:
        book = _Book(archive, limits)
        rootfile = book.xml("META-INF/container.xml").find(".//c:rootfile", _NS)
        if rootfile is None or not rootfile.get("full-path"):
            raise _unreadable("META-INF/container.xml names no package file")
        package_path = rootfile.get("full-path", "")
        package = book.xml(package_path)
        metadata = package.find("opf:metadata", _NS)
        manifest = _manifest(package, posixpath.dirname(package_path))
        spine = package.find("opf:spine", _NS)
        if spine is None:
            raise _unreadable("its package file has no spine")
        toc = _toc(book, manifest, spine.get("toc", ""))
        chapters: list[tuple[str, str]] = []  # (chapter title, text)
        for itemref in spine.findall("opf:itemref", _NS):
            item = manifest.get(itemref.get("idref", ""))
            if item is None or item.media_type not in _DOCUMENT_TYPES or _is_nav(item):
                continue
            what = f"chapter {len(chapters) + 1} ({item.path})"
            chapter = _chapter(book.read(item.path), toc.get(item.path, ""), limits, what)
            if chapter:
                limits.check_article(len(chapter[1]), what)
                chapters.append(chapter)
    if not chapters:
        raise ReadError("holds no chapter with text")
    book_title = _dc(metadata, "title") or path.stem.replace("_", " ").replace("-", " ")
    source = _dc(metadata, "creator") or _dc(metadata, "publisher")
    date = _dc(metadata, "date")
    if len(chapters) == 1:
        return [Document(path.stem, chapters[0][1], book_title, source, str(path), date=date,
                         offset=None, line=None)]
    return [
        Document(f"{path.stem}-{n}", text, _chapter_title(book_title, heading, n), source, str(path),
                 date=date, offset=None, line=None)
        for n, (heading, text) in enumerate(chapters, start=1)
    ]


class _Book:
    """The archive's files, read within the caps of a ZipBudget."""

    def __init__(self, archive: zipfile.ZipFile, limits: ReadLimits) -> None:
        self.archive = archive
        self.budget = ZipBudget(archive, limits)  # every declared size checked before anything inflates

    def read(self, name: str) -> bytes:
        """The file's bytes; ReadError when it is missing, damaged or over a cap."""
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise _unreadable(f"{name} is missing from the archive") from None
        try:
            return self.budget.read(info)
        except ReadError:  # over a cap: the message names it
            raise
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError) as exc:
            raise _unreadable(f"{name} is damaged: {exc}") from exc

    def xml(self, name: str) -> ElementTree.Element:
        """The file parsed as XML (a bare "&", as in "Tom & Jerry", forgiven); ReadError otherwise."""
        data = self.read(name)
        try:
            return ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            try:
                return ElementTree.fromstring(_BARE_AMPERSAND.sub(b"&amp;", data))
            except ElementTree.ParseError:
                raise _unreadable(f"{name} is not well-formed XML: {exc}") from None


def _unreadable(reason: str) -> ReadError:
    return ReadError(f"is not a readable EPUB ({reason})")


def _manifest(package: ElementTree.Element, folder: str) -> dict[str, _Item]:
    """Item id → where it is in the archive, its media type and its properties."""
    return {
        element.get("id", ""): _Item(_resolve(folder, element.get("href", "")), element.get("media-type", ""),
                                     element.get("properties", "").split())
        for element in package.findall("opf:manifest/opf:item", _NS)
    }


def _is_nav(item: _Item) -> bool:
    return item.media_type == "application/xhtml+xml" and "nav" in item.properties


def _resolve(folder: str, href: str) -> str:
    """An href (relative to `folder`, percent-encoded, maybe with a #fragment) → an archive path."""
    return posixpath.normpath(posixpath.join(folder, unquote(href.split("#")[0])))


def _toc(book: _Book, manifest: dict[str, _Item], ncx_id: str) -> dict[str, str]:
    """Archive path → its first table-of-contents title, from the navigation document, else the
    NCX. A missing or broken table of contents only costs the chapter names: it is skipped."""
    nav = next((item for item in manifest.values() if _is_nav(item)), None)
    ncx = manifest.get(ncx_id) or next((i for i in manifest.values() if i.media_type == _NCX_TYPE), None)
    titles: dict[str, str] = {}
    try:
        if nav is not None:
            root, folder = book.xml(nav.path), posixpath.dirname(nav.path)
            toc = next((e for e in root.iter(f"{{{_NS['x']}}}nav")
                        if "toc" in e.get(f"{{{_NS['ops']}}}type", "").split()), None)
            for li in toc.iter(f"{{{_NS['x']}}}li") if toc is not None else ():
                link = li.find("x:a", _NS)
                label = li[0] if li.find("x:ol", _NS) is not None else link  # a section's own label
                if link is not None and link.get("href"):
                    _add(titles, _resolve(folder, link.get("href", "")), "".join(label.itertext()))
        elif ncx is not None:
            root, folder = book.xml(ncx.path), posixpath.dirname(ncx.path)
            for point in root.iter(f"{{{_NS['ncx']}}}navPoint"):
                label, content = point.find("ncx:navLabel/ncx:text", _NS), point.find("ncx:content", _NS)
                if label is not None and content is not None and content.get("src"):
                    _add(titles, _resolve(folder, content.get("src", "")), label.text or "")
    except ReadError:
        return {}
    return titles


def _add(titles: dict[str, str], path: str, title: str) -> None:
    """Record `title` (whitespace collapsed) for `path` unless it has one already."""
    title = " ".join(title.split())
    if title:
        titles.setdefault(path, title)


def _chapter(raw: bytes, toc_title: str, limits: ReadLimits, what: str) -> tuple[str, str] | None:
    """(heading, text) of one chapter file; None when it has no text of its own (a cover, an image
    page, a heading alone). ReadError when its text is over ingest.max_article_chars."""
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"  # EPUB allows only these
    # Without its <head>: a chapter's <title> is often the book's, so the HTML reader takes the
    # first h1 as the headline it drops when repeated (as it did when ebooklib read the books).
    markup = _without_head(raw.decode(encoding, errors="replace"))
    limits.check_markup_text(markup, what)
    article = extract_html(markup)
    if not article.text:
        return None
    heading = toc_title or _first_heading(markup)
    text = article.text
    if heading and text.startswith(heading + "\n\n"):
        text = text[len(heading) + 2:]  # the chapter heading repeated as its first block
    elif heading and text == heading:
        return None
    return heading, text


def _without_head(markup: str) -> str:
    start = _HEAD_START.search(markup)  # two searches rather than one "<head.*?</head>": linear time
    end = _HEAD_END.search(markup, start.end()) if start else None
    return markup[:start.start()] + markup[end.end():] if start and end else markup


def _first_heading(markup: str) -> str:
    from bs4 import BeautifulSoup

    tag = BeautifulSoup(markup, "html.parser").find(["h1", "h2", "h3"])
    return " ".join(tag.get_text(" ").split()) if tag else ""


def _chapter_title(book_title: str, heading: str, n: int) -> str:
    if not heading or heading == book_title:
        return f"{book_title}: chapter {n}"
    return f"{book_title}: {heading}"


def _dc(metadata: ElementTree.Element | None, name: str) -> str:
    """The first Dublin Core `name` element's text, whitespace collapsed."""
    element = metadata.find(f"dc:{name}", _NS) if metadata is not None else None
    return " ".join((element.text or "").split()) if element is not None else ""
