"""How much one file may make the readers hold: the `ingest:` caps of config.yaml, in one place.

Every reader takes a ReadLimits and checks it while it reads, before memory grows: the bytes of a
file (ingest.max_file_mb; JSON Lines are streamed instead), the text of one article
(ingest.max_article_chars: a JSON Lines line, a web page, a feed item, a chapter, a Word or PDF
file), and the members of a zip container (.docx, .epub) once inflated (ingest.max_member_mb
each, ingest.max_inflated_mb together). A file over a cap is refused with a ReadError naming the
cap's config key and value, so the user knows what to raise.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from rag.errors import ReadError

if TYPE_CHECKING:
    from rag.config import IngestSettings

MB = 1024 * 1024
_BLOCK = MB  # read this much at a time: of a zip member (a bomb stops one block past its cap), of markup
# The longest JSON spelling of one character (one str index): an escaped surrogate pair,
# "\ud83d\ude00", 12 bytes. A line longer than that many bytes per character of the cap, plus room
# for the other fields, cannot hold an article within the cap.
_JSON_BYTES_PER_CHAR = 12
_JSON_LINE_SLACK = 64 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """The caps, in the units config.yaml gives them (defaults: config.yaml's)."""

    max_file_mb: int = 50
    max_article_chars: int = 2_000_000
    max_member_mb: int = 64
    max_inflated_mb: int = 256

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> ReadLimits:
        """The caps of the config's `ingest:` section."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * MB

    @property
    def max_member_bytes(self) -> int:
        return self.max_member_mb * MB

    @property
    def max_inflated_bytes(self) -> int:
        return self.max_inflated_mb * MB

    @property
    def max_jsonl_line_bytes(self) -> int:
        """The longest JSON Lines line that can hold an article within max_article_chars: longer
        lines are skipped while they are read, never held."""
        return _JSON_BYTES_PER_CHAR * self.max_article_chars + _JSON_LINE_SLACK

    def check_file_size(self, size: int) -> None:
        """ReadError when a file of `size` bytes is over ingest.max_file_mb."""
        if size > self.max_file_bytes:
            raise ReadError(f"is larger than ingest.max_file_mb ({self.max_file_mb:,} MB)")

    def article_too_long(self, what: str) -> str:
        """The reason `what` ("its text", "chapter 3", "line 7") is refused for its length."""
        return f"{what} is longer than ingest.max_article_chars ({self.max_article_chars:,} characters)"

    def check_article(self, chars: int, what: str = "its text") -> None:
        """ReadError when an article of `chars` characters is over ingest.max_article_chars."""
        if chars > self.max_article_chars:
            raise ReadError(self.article_too_long(what))

    def check_markup_text(self, markup: str, what: str = "its text") -> None:
        """ReadError when the text of HTML or XHTML `markup` is over ingest.max_article_chars,
        counted by a streaming parser before any tree of it is built: BeautifulSoup and
        trafilatura hold about 100 times a page of a million short paragraphs, and take minutes.
        The text counted is all the page's text outside <script> and <style>, each text node with
        its whitespace collapsed: the article the HTML reader keeps is a part of it. Markup the
        streaming parser gives up on is left to the reader (whose articles are checked after)."""
        if len(markup) <= self.max_article_chars:
            return  # the text cannot be longer than the markup holding it
        from lxml import etree

        chars = 0
        try:
            for text in _markup_texts(markup):
                chars += len(" ".join(text.split()))
                self.check_article(chars, what)
        except etree.LxmlError:
            return


def _markup_texts(markup: str) -> Iterator[str]:
    """The text nodes of HTML `markup` outside <script> and <style>, read with lxml's streaming
    HTML parser, a block at a time."""
    from lxml import etree

    parser = etree.HTMLPullParser(events=("end",), no_network=True, huge_tree=True)
    for start in range(0, len(markup), _BLOCK):
        parser.feed(markup[start:start + _BLOCK])
        yield from _ended_texts(parser)
    parser.close()  # the elements left open end here
    yield from _ended_texts(parser)


def _ended_texts(parser) -> Iterator[str]:
    """The texts of the elements the parser has seen end. Each node is dropped from the tree
    once its text and its tail are taken (its tail is complete when a later sibling or its
    parent ends), so the tree holds little more than the path to the element being read."""
    for _, element in parser.read_events():
        if element.tag not in ("script", "style") and element.text:
            yield element.text
        parent = element.getparent()
        while parent is not None and (before := element.getprevious()) is not None:
            if before.tail:
                yield before.tail
            parent.remove(before)
        for child in element:
            if child.tail:
                yield child.tail
        element.clear(keep_tail=True)


DEFAULT_LIMITS = ReadLimits()  # the config's defaults, for callers that pass no limits


class ZipBudget:
    """The members of one zip container, inflated within the caps.

    Made before anything is inflated: every member's declared size is checked against
    ingest.max_member_mb, and their sum against ingest.max_inflated_mb. Declared sizes can lie,
    so `read` also counts the bytes as it inflates them, block by block, and stops one block past
    a cap: a bomb is refused without being held.
    """

    def __init__(self, archive: zipfile.ZipFile, limits: ReadLimits) -> None:
        self.archive = archive
        self.limits = limits
        total = 0
        for info in archive.infolist():
            self._check_member(info.filename, info.file_size)
            total += info.file_size
            self._check_total(total)
        self.inflated = 0  # bytes read so far, against ingest.max_inflated_mb

    def read(self, info: zipfile.ZipInfo | str) -> bytes:
        """The member's bytes. ReadError past a cap; zipfile's and zlib's errors when damaged."""
        name = info.filename if isinstance(info, zipfile.ZipInfo) else info
        blocks: list[bytes] = []
        size = 0
        with self.archive.open(info) as member:
            while block := member.read(_BLOCK):
                size += len(block)
                self._check_member(name, size)
                self._check_total(self.inflated + size)
                blocks.append(block)
        self.inflated += size
        return b"".join(blocks)

    def _check_member(self, name: str, size: int) -> None:
        if size > self.limits.max_member_bytes:
            raise ReadError(f"{name} inflates past ingest.max_member_mb ({self.limits.max_member_mb:,} MB): refused")

    def _check_total(self, size: int) -> None:
        if size > self.limits.max_inflated_bytes:
            raise ReadError(f"its members inflate past ingest.max_inflated_mb "
                            f"({self.limits.max_inflated_mb:,} MB) together: refused")
