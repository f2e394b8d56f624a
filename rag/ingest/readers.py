"""Files → Documents: one reader per format, chosen by extension (the archive format by content)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from rag.ingest.archive import split_archive
from rag.ingest.html import extract_html
from rag.text import strip_span
from rag.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
MAX_FILE_BYTES = 50 * 1024 * 1024


from rag.errors import ReadError  # noqa: E402  (re-exported: readers raise it)


@dataclass(frozen=True)
class ReadResult:
    documents: list[Document]
    warnings: list[str]


def find_files(paths: list[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Supported files under `paths` (folders read recursively, hidden entries skipped), and
    (path, problem) for each path that cannot be read."""
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(path)
            else:
                problems.append((str(path), f"unsupported file type {path.suffix or '(none)'}; "
                                            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"))
        else:
            problems.append((str(path), "no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, problems


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped); a file that is not text is refused."""
    if b"\x00" in data[:8192]:
        raise ReadError("looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc


def read_documents(path: Path, data: bytes) -> ReadResult:
    """The articles in one file. Raises ReadError when it holds none."""
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    text = decode(data)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        result = _read_jsonl(path, text)
    elif suffix in (".html", ".htm"):
        result = ReadResult([_read_html(path, text)], [])
    else:
        result = ReadResult(_read_archive(path, text) or [_read_plain(path, text, suffix)], [])
    if not result.documents:
        raise ReadError("holds no article text")
    return ReadResult([_with_line(d, text) for d in result.documents], result.warnings)


def _with_line(document: Document, text: str) -> Document:
    """The document with the file line its text begins on (None for extracted text)."""
    line = None if document.offset is None else text.count("\n", 0, document.offset) + 1
    return replace(document, line=line)


def _read_archive(path: Path, text: str) -> list[Document]:
    return [
        Document(f"{path.stem}-{n}", text[a.start:a.end], a.title, a.source, str(path), offset=a.start)
        for n, a in enumerate(split_archive(text), start=1)
    ]


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_MD_HEADING = re.compile(r"\A#{1,2}[ \t]+(.+?)[ \t#]*$", re.M)


def _read_plain(path: Path, text: str, suffix: str) -> Document:
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


def _read_html(path: Path, text: str) -> Document:
    article = extract_html(text)
    if not article.text:
        raise ReadError("holds no article text (no paragraphs found in the HTML)")
    return Document(path.stem, article.text, article.title or path.stem, article.source, str(path),
                    url=article.url, date=article.date, offset=None)


def _read_jsonl(path: Path, text: str) -> ReadResult:
    """One article per line: `text` required; `id`, `title`, `source`, `url`, `date` optional."""
    documents: list[Document] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"{path.name} line {lineno}: not valid JSON ({exc.msg}); skipped")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            warnings.append(f"{path.name} line {lineno}: needs a non-empty \"text\" string; skipped")
            continue
        doc_id = str(record.get("id") or f"{path.stem}-{lineno}")
        if doc_id in seen:
            warnings.append(f"{path.name} line {lineno}: id {doc_id!r} used twice; skipped")
            continue
        seen.add(doc_id)
        body = record["text"].strip()
        documents.append(Document(
            doc_id, body, str(record.get("title") or doc_id), str(record.get("source") or ""),
            str(path), url=str(record.get("url") or ""), date=str(record.get("date") or ""), offset=None,
        ))
    return ReadResult(documents, warnings)
