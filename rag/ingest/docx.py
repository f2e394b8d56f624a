"""Word (.docx) → one Document, read with python-docx.

Paragraphs, headings and tables in the order they appear in the body; a table becomes one
paragraph with one line per row, cells joined with " | " (a merged cell counted once). The title
is the core properties' title, else the first "Title" or heading paragraph; the source is the
core properties' author. No date is set: the file's dates say when it was
made, not when the article was published.

python-docx loads every part of the package into memory, and a small .docx can hold a part that
inflates to gigabytes. So the zip is opened here first, within the `ingest:` caps
(rag.ingest.limits.ZipBudget), and python-docx is handed a copy rebuilt in memory in which only the
parts that can hold text (XML, relationships) are inflated; the others (images, embedded
objects, fonts) are left empty under their names, so the relationships to them still resolve.
The text counts against ingest.max_article_chars as it is gathered.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

from rag.errors import ReadError
from rag.ingest.limits import DEFAULT_LIMITS, ReadLimits, ZipBudget
from rag.types import Document

_SPACES = re.compile(r"\s+")
_PLACEHOLDER_AUTHORS = {"python-docx", "author", "unknown", "user", "administrator", "microsoft office user"}
_CONTENT_TYPES = "[Content_Types].xml"
_TEXT_RUN = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"
_ZIP_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError,
               EOFError, OSError, ValueError)


def read_docx(path: Path, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> Document:
    """The Word file's text as one Document (offset/line None: the text is extracted)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    package = text_parts_only(data, limits)
    try:
        word = docx.Document(io.BytesIO(package))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _unreadable(str(exc) or type(exc).__name__) from exc
    del package
    blocks: list[tuple[str, bool]] = []  # (text, is a heading)
    headings: dict[str | None, bool] = {}  # style id → a heading style?
    chars = 0
    for item in word.iter_inner_content():
        is_table = isinstance(item, docx.table.Table)
        text = "\n".join(_table_rows(item)) if is_table else _clean(item.text)
        if not text:
            continue
        blocks.append((text, not is_table and _is_heading(item, headings)))
        chars += len(text) + 2
        limits.check_article(chars)  # while gathering: stop a long file at the cap, not at its end
    props = word.core_properties
    title = _clean(props.title or "")
    if not title:
        title = next((text for text, heading in blocks if heading), "")
    if blocks and title and blocks[0][0].casefold() == title.casefold():
        blocks = blocks[1:]  # the title repeated as the first paragraph
    text = "\n\n".join(text for text, _ in blocks)
    if not text:
        raise ReadError("holds no article text")
    limits.check_article(len(text))
    # No date: the core properties' dates say when the file was made, not when the article ran.
    return Document(path.stem, text, title or path.stem.replace("_", " ").replace("-", " "),
                    _source(props.author), str(path), offset=None, line=None)


def text_parts_only(data: bytes, limits: ReadLimits) -> bytes:
    """The .docx in `data` rebuilt (stored, uncompressed) with its text parts as they are and its
    other parts empty. ReadError when it is not a zip, is damaged, or a part is over a cap."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_DAMAGE as exc:
        raise _unreadable(str(exc) or type(exc).__name__) from exc
    rebuilt = io.BytesIO()
    with archive, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_STORED) as package:
        budget = ZipBudget(archive, limits)  # every declared size checked before anything inflates
        # As zipfile reads them: the last member of a name wins.
        members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        types = _content_types(_inflate(budget, members[_CONTENT_TYPES])) if _CONTENT_TYPES in members else {}
        for name, info in members.items():
            part = _inflate(budget, info) if _holds_text(name, types) else b""
            if _content_type(name, types).endswith("main+xml"):  # the document's body
                _check_text_length(part, limits)
            package.writestr(name, part)
    return rebuilt.getvalue()


def _inflate(budget: ZipBudget, info: zipfile.ZipInfo) -> bytes:
    try:
        return budget.read(info)
    except ReadError:  # over a cap (a ValueError too, but not damage)
        raise
    except _ZIP_DAMAGE as exc:
        raise _unreadable(f"{info.filename} is damaged: {exc}") from exc


def _content_types(xml: bytes) -> dict[str, str]:
    """[Content_Types].xml as part name ("/word/document.xml") or extension ("png") → content
    type, keys in lower case (OPC names are case-insensitive); {} when it is not XML (python-docx
    then says what is wrong)."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return {}
    types: dict[str, str] = {}
    for element in root:
        tag = element.tag.rsplit("}", 1)[-1]
        key = element.get("PartName") if tag == "Override" else element.get("Extension") if tag == "Default" else None
        if key:
            types[key.lower()] = element.get("ContentType", "")
    return types


def _content_type(name: str, types: dict[str, str]) -> str:
    """The content type [Content_Types].xml gives part `name`, "" when none."""
    lower = name.lower()
    base = lower.rsplit("/", 1)[-1]
    return types.get("/" + lower) or types.get(base.rsplit(".", 1)[1] if "." in base else "", "")


def _holds_text(name: str, types: dict[str, str]) -> bool:
    """Whether python-docx needs part `name` to read the text: XML and relationships, not
    images (even SVG), embedded objects or fonts."""
    lower = name.lower()
    if lower == _CONTENT_TYPES.lower() or lower.endswith(".rels"):
        return True
    kind = _content_type(name, types)
    if not kind:
        return lower.endswith(".xml")
    return kind.endswith(("+xml", "/xml")) and not kind.startswith("image/")


def _check_text_length(xml: bytes, limits: ReadLimits) -> None:
    """ReadError when the document's text is over ingest.max_article_chars, found by streaming
    its XML before python-docx builds the whole tree (1 GB and minutes for a 64 MB body). What
    counts is the text of its runs (w:t), each with its whitespace collapsed: the article's text
    holds at least that. XML that does not parse is left for python-docx to report."""
    from lxml import etree

    chars = 0
    try:
        for _, element in etree.iterparse(io.BytesIO(xml), events=("end",), resolve_entities=False, no_network=True):
            if element.tag == _TEXT_RUN and element.text:
                chars += len(" ".join(element.text.split()))
                limits.check_article(chars)
            element.clear(keep_tail=True)  # and drop the elements read, so memory stays flat
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError:
        return


def _unreadable(reason: str) -> ReadError:
    return ReadError(f"is not a readable Word .docx file ({reason})")


def _source(author: str | None) -> str:
    """The core properties' author, unless it is a tool's placeholder."""
    author = _clean(author or "")
    return "" if author.casefold() in _PLACEHOLDER_AUTHORS else author


def _is_heading(paragraph, known: dict[str | None, bool]) -> bool:
    """Whether the paragraph's style is a title or heading; `known` caches the answer per style
    id, as python-docx searches the styles part anew for each paragraph (0.6 ms: 10 minutes
    for the paragraphs of a 64 MB document)."""
    style_id = paragraph._p.style
    if style_id not in known:
        name = (paragraph.style.name if paragraph.style is not None else "") or ""
        known[style_id] = name == "Title" or name.startswith("Heading")
    return known[style_id]


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
