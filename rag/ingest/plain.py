"""Plain text and Markdown articles (optional YAML front matter), and archive pages of several
articles in one text file (rag.ingest.archive)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import yaml

from rag.errors import ReadError
from rag.ingest.archive import split_archive
from rag.text import strip_span
from rag.types import Document

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_MD_HEADING = re.compile(r"\A#{1,2}[ \t]+(.+?)[ \t#]*$", re.M)


def read_text_articles(path: Path, text: str) -> list[Document]:
    """The archive page's articles, or the file as one article; each with its first line."""
    documents = read_archive(path, text) or [read_plain(path, text, path.suffix.lower())]
    return [with_line(d, text) for d in documents]


def with_line(document: Document, text: str) -> Document:
    """The document with the file line its text begins on (None for extracted text)."""
    line = None if document.offset is None else text.count("\n", 0, document.offset) + 1
    return replace(document, line=line)


def read_archive(path: Path, text: str) -> list[Document]:
    return [
        Document(f"{path.stem}-{n}", text[a.start:a.end], a.title, a.source, str(path), offset=a.start)
        for n, a in enumerate(split_archive(text), start=1)
    ]


def read_plain(path: Path, text: str, suffix: str) -> Document:
    """A .txt or .md article: optional YAML front matter, then a title line, then the body."""
    meta: dict = {}
    body_start = 0
    front = _FRONT_MATTER.match(text)
    if front:
        try:
            loaded = yaml.safe_load(front.group(1))
        except yaml.YAMLError as exc:
            raise ReadError(f"front matter is not valid YAML: {exc}") from exc
        meta = loaded if isinstance(loaded, dict) else {}
        body_start = front.end()
    start, end = strip_span(text, body_start, len(text))
    title = str(meta.get("title", "")).strip()
    if not title:
        first_line_end = text.find("\n", start)
        first_line_end = end if first_line_end == -1 or first_line_end > end else first_line_end
        first_line = text[start:first_line_end].strip()
        heading = _MD_HEADING.match(first_line) if suffix != ".txt" else None
        if heading:
            title = heading.group(1)
            start, end = strip_span(text, first_line_end, end)
        elif suffix == ".txt" and _looks_like_title(first_line) and first_line_end < end:
            title = first_line
            start, end = strip_span(text, first_line_end, end)
        else:
            title = path.stem.replace("_", " ").replace("-", " ")
    if end <= start:
        raise ReadError("holds no article text")
    return Document(path.stem, text[start:end], title, str(meta.get("source", "")).strip(), str(path),
                    url=str(meta.get("url", "")), date=str(meta.get("date", "")), offset=start)


def _looks_like_title(line: str) -> bool:
    return 0 < len(line) <= 200 and not line.endswith((".", ",", ";", ":"))
