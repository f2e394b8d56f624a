"""Word (.docx) → one Document, read with python-docx.

Paragraphs, headings and tables in the order they appear in the body; a table becomes one
paragraph with one line per row, cells joined with " | " (a merged cell counted once). The title
is the core properties' title, else the first "Title" or heading paragraph; the source is the
core properties' author. No date is set: the file's dates say when it was
made, not when the article was published.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from rag.errors import ReadError
from rag.types import Document

_SPACES = re.compile(r"\s+")
_PLACEHOLDER_AUTHORS = {"python-docx", "author", "unknown", "user", "administrator", "microsoft office user"}


def read_docx(path: Path, data: bytes) -> Document:
    """The Word file's text as one Document (offset/line None: the text is extracted)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        word = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(f"is not a readable Word .docx file ({str(exc) or type(exc).__name__})") from exc
    blocks: list[tuple[str, bool]] = []  # (text, is a heading)
    for item in word.iter_inner_content():
        if isinstance(item, docx.table.Table):
            rows = _table_rows(item)
            if rows:
                blocks.append(("\n".join(rows), False))
        else:
            text = _clean(item.text)
            if text:
                blocks.append((text, _is_heading(item)))
    props = word.core_properties
    title = _clean(props.title or "")
    if not title:
        title = next((text for text, heading in blocks if heading), "")
    if blocks and title and blocks[0][0].casefold() == title.casefold():
        blocks = blocks[1:]  # the title repeated as the first paragraph
    text = "\n\n".join(text for text, _ in blocks)
    if not text:
        raise ReadError("holds no article text")
    # No date: the core properties' dates say when the file was made, not when the article ran.
    return Document(path.stem, text, title or path.stem.replace("_", " ").replace("-", " "),
                    _source(props.author), str(path), offset=None, line=None)


def _source(author: str | None) -> str:
    """The core properties' author, unless it is a tool's placeholder."""
    author = _clean(author or "")
    return "" if author.casefold() in _PLACEHOLDER_AUTHORS else author


def _is_heading(paragraph) -> bool:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    return name == "Title" or name.startswith("Heading")


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(_clean(cell.text))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
