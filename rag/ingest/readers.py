"""Files → Documents: the dispatcher choosing one reader per format.

By extension, except feeds (recognised by content in any text file, and required of .xml, .rss
and .atom) and archive pages (recognised by content in .txt and .md files):

    .txt .md .markdown   rag.ingest.plain (any encoding: rag.ingest.encoding)
    .html .htm           rag.ingest.webpage (trafilatura; rag.ingest.html for short pages)
    .jsonl               rag.ingest.jsonl (streamed line by line: no file size limit)
    .pdf                 rag.ingest.pdf
    .docx                rag.ingest.docx
    .epub                rag.ingest.epub
    RSS / Atom           rag.ingest.feeds

Every reader works within a ReadLimits (rag.ingest.limits: the config's `ingest:` caps).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ReadError
from rag.ingest.discover import find_files, unsupported_reason
from rag.ingest.encoding import decode_text
from rag.ingest.feeds import SNIFF_BYTES, looks_like_feed, read_feed
from rag.ingest.formats import FEED_SUFFIXES, HTML_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES
from rag.ingest.webpage import extract_page
from rag.ingest.jsonl import parse_jsonl_lines
from rag.ingest.limits import DEFAULT_LIMITS, ReadLimits
from rag.ingest.plain import read_text_articles
from rag.types import Document

# The default of ingest.max_file_mb, for code that imported it; the cap in force is ReadLimits'.
MAX_FILE_BYTES = DEFAULT_LIMITS.max_file_bytes

__all__ = ["SUPPORTED_SUFFIXES", "MAX_FILE_BYTES", "ReadError", "ReadLimits", "ReadResult", "find_files",
           "unsupported_reason", "read_documents", "iter_documents"]


@dataclass(frozen=True)
class ReadResult:
    documents: list[Document]
    warnings: list[str]


def read_documents(path: Path, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> ReadResult:
    """The articles in one file whose bytes are `data`, and warnings (about the file, without its
    name: the caller names it). Raises ReadError when it holds none, or when it is over one of
    `limits` (ingest.max_file_mb, ingest.max_article_chars, ...)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        warnings: list[str] = []
        documents = list(parse_jsonl_lines(path, io.BytesIO(data), warnings.append, limits))
        if not documents:
            raise ReadError("holds no article text" + (f" ({warnings[0]})" if warnings else ""))
        return ReadResult(documents, warnings)
    limits.check_file_size(len(data))
    try:
        result = _read(path, suffix, data, limits)
    except ReadError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a third-party parser tripping over a damaged file: a reason, not a crash
        detail = (str(exc) or "").splitlines()[0][:120] if str(exc) else ""
        raise ReadError(f"is damaged or not what its name says ({type(exc).__name__}"
                        f"{': ' + detail if detail else ''})") from exc
    if not result.documents:
        raise ReadError("holds no article text")
    # Every reader's articles pass here: the readers that can grow text past their input
    # (Word, EPUB, PDF) also check while they read; this is the check for all the others.
    many = len(result.documents) > 1
    for n, document in enumerate(result.documents, start=1):
        limits.check_article(len(document.text), f"article {n} ({document.title})" if many else "its text")
    return result


def iter_documents(path: Path, on_warning: Callable[[str], None] | None = None,
                   limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    """The articles of one file, one at a time. A .jsonl file is read line by line (any size,
    flat memory; a bad or overlong line goes to `on_warning`); other files are read whole, up to
    ingest.max_file_mb. Raises ReadError (or OSError) as read_documents does."""
    # Opened without blocking: a plain open of a FIFO waits forever for a writer.
    with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ReadError("is not a regular file")
        if path.suffix.lower() == ".jsonl":
            produced = False
            for document in parse_jsonl_lines(path, handle, on_warning, limits):
                produced = True
                yield document
            if not produced:
                raise ReadError("holds no article text")
            return
        limits.check_file_size(os.fstat(handle.fileno()).st_size)
        data = handle.read(limits.max_file_bytes + 1)  # the file may have grown since
    result = read_documents(path, data, limits)
    for warning in result.warnings:
        if on_warning:
            on_warning(warning)
    yield from result.documents


def _read(path: Path, suffix: str, data: bytes, limits: ReadLimits) -> ReadResult:
    if suffix == ".pdf":
        from rag.ingest.pdf import read_pdf

        document, warnings = read_pdf(path, data, limits)
        return ReadResult([document], warnings)
    if suffix == ".docx":
        from rag.ingest.docx import read_docx

        return ReadResult([read_docx(path, data, limits)], [])
    if suffix == ".epub":
        from rag.ingest.epub import read_epub

        return ReadResult(read_epub(path, data, limits), [])
    if looks_like_feed(data[:SNIFF_BYTES]):
        documents, warnings = read_feed(path, data, limits)
        return ReadResult(documents, warnings)
    if suffix in FEED_SUFFIXES:
        raise ReadError("is not an RSS or Atom feed (its first element is not <rss>, <feed> or <rdf:RDF>)")
    decoded = decode_text(data)
    warnings = [decoded.warning] if decoded.warning else []
    if suffix in HTML_SUFFIXES:
        limits.check_markup_text(decoded.text)
        return ReadResult([_read_html(path, decoded.text)], warnings)
    if suffix not in TEXT_SUFFIXES:
        raise ReadError(f"unsupported type {suffix or '(no extension)'}")
    return ReadResult(read_text_articles(path, decoded.text), warnings)


def _read_html(path: Path, text: str) -> Document:
    article = extract_page(text)
    if not article.text:
        raise ReadError("holds no article text (no paragraphs found in the HTML)")
    return Document(path.stem, article.text, article.title or path.stem, article.source, str(path),
                    url=article.url, date=article.date, offset=None, line=None)
