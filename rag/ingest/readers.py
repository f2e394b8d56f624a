"""Files → Documents: the dispatcher choosing one reader per format.

By extension, except feeds (recognised by content in any text file, and required of .xml, .rss
and .atom) and archive pages (recognised by content in .txt and .md files):

    .txt .md .markdown   rag.ingest.plain (any encoding: rag.ingest.encoding)
    .html .htm           rag.ingest.webpage (trafilatura; rag.ingest.html for short pages)
    .jsonl               rag.ingest.jsonl (streamed line by line: no size limit)
    .pdf                 rag.ingest.pdf
    .docx                rag.ingest.docx
    .epub                rag.ingest.epub
    RSS / Atom           rag.ingest.feeds
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ReadError
from rag.ingest.discover import find_files, unsupported_reason
from rag.ingest.encoding import decode_text
from rag.ingest.feeds import SNIFF_BYTES, looks_like_feed, read_feed
from rag.ingest.formats import FEED_SUFFIXES, HTML_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES
from rag.ingest.webpage import extract_page
from rag.ingest.jsonl import iter_jsonl, parse_jsonl_lines
from rag.ingest.plain import read_text_articles
from rag.types import Document

MAX_FILE_BYTES = 50 * 1024 * 1024  # every format but JSON Lines, which is streamed

__all__ = ["SUPPORTED_SUFFIXES", "MAX_FILE_BYTES", "ReadError", "ReadResult", "find_files",
           "unsupported_reason", "read_documents", "iter_documents"]


@dataclass(frozen=True)
class ReadResult:
    documents: list[Document]
    warnings: list[str]


def read_documents(path: Path, data: bytes) -> ReadResult:
    """The articles in one file whose bytes are `data`, and warnings (about the file, without its
    name: the caller names it). Raises ReadError when it holds none."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        warnings: list[str] = []
        documents = list(parse_jsonl_lines(path, io.BytesIO(data), warnings.append))
        if not documents:
            raise ReadError("holds no article text" + (f" ({warnings[0]})" if warnings else ""))
        return ReadResult(documents, warnings)
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        result = _read(path, suffix, data)
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
    return result


def iter_documents(path: Path, on_warning: Callable[[str], None] | None = None) -> Iterator[Document]:
    """The articles of one file, one at a time. A .jsonl file is read line by line (any size,
    flat memory; a bad line goes to `on_warning`); other files are read whole (size limit
    MAX_FILE_BYTES). Raises ReadError (or OSError) as read_documents does."""
    if path.suffix.lower() == ".jsonl":
        produced = False
        for document in iter_jsonl(path, on_warning):
            produced = True
            yield document
        if not produced:
            raise ReadError("holds no article text")
        return
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ReadError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    result = read_documents(path, path.read_bytes())
    for warning in result.warnings:
        if on_warning:
            on_warning(warning)
    yield from result.documents


def _read(path: Path, suffix: str, data: bytes) -> ReadResult:
    if suffix == ".pdf":
        from rag.ingest.pdf import read_pdf

        document, warnings = read_pdf(path, data)
        return ReadResult([document], warnings)
    if suffix == ".docx":
        from rag.ingest.docx import read_docx

        return ReadResult([read_docx(path, data)], [])
    if suffix == ".epub":
        from rag.ingest.epub import read_epub

        return ReadResult(read_epub(path, data), [])
    if looks_like_feed(data[:SNIFF_BYTES]):
        documents, warnings = read_feed(path, data)
        return ReadResult(documents, warnings)
    if suffix in FEED_SUFFIXES:
        raise ReadError("is not an RSS or Atom feed (its first element is not <rss>, <feed> or <rdf:RDF>)")
    decoded = decode_text(data)
    warnings = [decoded.warning] if decoded.warning else []
    if suffix in HTML_SUFFIXES:
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
