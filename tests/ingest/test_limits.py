"""The `ingest:` caps (rag.ingest.limits), checked by every reader: a file over one is refused
(a line of JSON Lines skipped) with the cap's config name and value in the reason."""

import io
import json
import os
import struct
import zipfile

import pytest

from rag.config import IngestSettings, Settings, load_settings
from rag.ingest.docx import text_parts_only
from rag.ingest.readers import ReadError, ReadLimits, iter_documents, read_documents
from tests.ingest.formats import make_docx, make_epub, make_pdf, rss

SMALL = ReadLimits(max_article_chars=1000)
TOO_LONG = r"is longer than ingest.max_article_chars \(1,000 characters\)"


def read(path, limits):
    return read_documents(path, path.read_bytes(), limits)


def test_the_limits_come_from_the_config_with_the_same_defaults(tmp_path):
    assert ReadLimits() == ReadLimits.from_settings(Settings().ingest) == ReadLimits.from_settings(IngestSettings())
    config = tmp_path / "c.yaml"
    config.write_text("ingest:\n  max_file_mb: 5\n  max_article_chars: 1000\n  max_member_mb: 2\n  max_inflated_mb: 3\n")
    limits = ReadLimits.from_settings(load_settings(config).ingest)
    assert limits == ReadLimits(5, 1000, 2, 3)
    assert (limits.max_file_bytes, limits.max_member_bytes, limits.max_inflated_bytes) == (5 << 20, 2 << 20, 3 << 20)
    assert limits.max_jsonl_line_bytes == 12 * 1000 + 64 * 1024


# JSON Lines -------------------------------------------------------------------------------------

def jsonl_lines() -> bytes:
    return b"\n".join([
        json.dumps({"id": "one", "text": "First article."}).encode(),
        b'{"id": "huge", "text": "' + b"x" * 100_000 + b'"}',  # past the line bound: never held
        json.dumps({"id": "long", "text": "word " * 300}).encode(),  # 1,500 characters
        json.dumps({"id": "escaped", "text": "\u00e9" * 1000}).encode(),  # 6,000 bytes, 1,000 characters
        json.dumps({"id": "last", "text": "Last article."}).encode(),
    ])


EXPECTED_WARNINGS = [
    ("line 2 is longer than 77,536 bytes, more than an article of ingest.max_article_chars (1,000 characters) "
     "can take; skipped"),
    "line 3 is longer than ingest.max_article_chars (1,000 characters); skipped",
]


def test_jsonl_lines_over_the_caps_are_skipped_with_their_number_and_the_rest_read(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_bytes(jsonl_lines())
    warnings = []
    documents = list(iter_documents(path, warnings.append, limits=SMALL))
    assert [d.doc_id for d in documents] == ["one", "escaped", "last"]
    assert warnings == EXPECTED_WARNINGS
    result = read(path, SMALL)  # an upload: the bytes are in memory already
    assert ([d.doc_id for d in result.documents], result.warnings) == (["one", "escaped", "last"], EXPECTED_WARNINGS)


def test_a_jsonl_line_exactly_at_the_bound_is_read(tmp_path):
    limits = ReadLimits(max_article_chars=10)  # lines up to 65,656 bytes
    start, end = b'{"text": "' + b"a" * 10 + b'", "title": "', b'"}'
    record = start + b"t" * (limits.max_jsonl_line_bytes - len(start) - len(end)) + end
    assert len(record) == limits.max_jsonl_line_bytes == 65_656
    path = tmp_path / "edge.jsonl"
    path.write_bytes(record + b"\n" + record + b"x\n" + record)
    warnings = []
    assert len(list(iter_documents(path, warnings.append, limits=limits))) == 2
    assert [w.split(" is ")[0] for w in warnings] == ["line 2"]


# Whole-file readers ------------------------------------------------------------------------------

def test_a_text_file_over_the_article_cap_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("Title\n\n" + "word " * 300)
    with pytest.raises(ReadError, match=f"^its text {TOO_LONG}$"):
        read(path, SMALL)
    assert read(path, ReadLimits(max_article_chars=1500)).documents[0].text == ("word " * 300).strip()


def test_a_web_page_over_the_article_cap_is_refused(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><body><article>" + "<p>A paragraph of the story.</p>" * 60 + "</article></body></html>")
    with pytest.raises(ReadError, match=f"^its text {TOO_LONG}$"):
        read(path, SMALL)


def test_a_feed_item_over_the_article_cap_refuses_the_feed(tmp_path):
    path = tmp_path / "feed.rss"
    path.write_text(rss("Feed", [{"title": "Short", "link": "https://x.example/1", "html": "<p>Short body.</p>"},
                                 {"title": "Long", "link": "https://x.example/2", "html": "<p>" + "word " * 300 + "</p>"}]))
    with pytest.raises(ReadError, match=rf"^item 2 \(Long\) {TOO_LONG}$"):
        read(path, SMALL)


def test_a_pdf_over_the_article_cap_is_refused(tmp_path):
    def line(n: int) -> str:  # lines that differ in letters, not digits, or they look like running headers
        return f"The harbour authority counted the damage at quay {''.join(chr(97 + int(d)) for d in str(n))}."

    path = make_pdf(tmp_path / "long.pdf", [["Headline", ""] + [line(40 * p + n) for n in range(40)] for p in range(3)])
    with pytest.raises(ReadError, match=f"^its text {TOO_LONG}$"):
        read(path, SMALL)
    assert len(read(path, ReadLimits()).documents[0].text) > 3 * 40 * len(line(0))


def test_the_file_size_cap_names_its_key(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"Title\n\n" + b"word " * 300_000)
    with pytest.raises(ReadError, match=r"^is larger than ingest.max_file_mb \(1 MB\)$"):
        read(path, ReadLimits(max_file_mb=1))
    with pytest.raises(ReadError, match=r"^is larger than ingest.max_file_mb \(1 MB\)$"):
        list(iter_documents(path, limits=ReadLimits(max_file_mb=1)))


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(ReadError, match="^is not a regular file$"):
        list(iter_documents(tmp_path / "pipe.txt"))


# Word -------------------------------------------------------------------------------------------

def png(width: int = 4, height: int = 3) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def docx_with_picture(path, image: bytes = b""):
    import docx

    word = docx.Document()
    word.add_heading("Harbour reopens", level=1)
    word.add_paragraph("The harbour reopened on Monday after the storm.")
    word.add_picture(io.BytesIO(png()))
    word.add_paragraph("Fishing boats left at dawn.")
    word.save(str(path))
    if image:
        rewrite(path, {"word/media/image1.png": image})
    return path


def rewrite(path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info.filename, replace.get(info.filename, data))


def test_a_word_file_with_a_picture_is_read_without_inflating_the_picture(tmp_path):
    path = docx_with_picture(tmp_path / "harbour.docx")
    (document,) = read(path, ReadLimits()).documents
    assert (document.title, document.text) == (
        "Harbour reopens", "The harbour reopened on Monday after the storm.\n\nFishing boats left at dawn.")
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(io.BytesIO(text_parts_only(path.read_bytes(), ReadLimits()))) as rebuilt:
        assert original.namelist() == rebuilt.namelist()  # every name kept: relationships resolve
        assert original.getinfo("word/media/image1.png").file_size > 0
        assert rebuilt.read("word/media/image1.png") == b""
        assert rebuilt.read("word/document.xml") == original.read("word/document.xml")
        assert rebuilt.read("[Content_Types].xml") == original.read("[Content_Types].xml")


def test_a_word_picture_past_the_member_cap_is_refused_before_it_is_inflated(tmp_path):
    path = docx_with_picture(tmp_path / "bomb.docx", image=b"\0" * (3 << 20))
    assert path.stat().st_size < 100_000
    with pytest.raises(ReadError, match=r"^word/media/image1.png inflates past ingest.max_member_mb \(2 MB\): refused$"):
        read(path, ReadLimits(max_member_mb=2))
    assert read(path, ReadLimits(max_member_mb=4)).documents[0].title == "Harbour reopens"


def test_word_parts_past_the_total_cap_together_are_refused(tmp_path):
    path = docx_with_picture(tmp_path / "big.docx", image=b"\0" * (3 << 20))
    with pytest.raises(ReadError, match=r"^its members inflate past ingest.max_inflated_mb \(2 MB\) together: refused$"):
        read(path, ReadLimits(max_member_mb=4, max_inflated_mb=2))


def test_a_word_part_that_inflates_past_its_declared_size_is_refused_as_damaged(tmp_path):
    path = make_docx(tmp_path / "liar.docx", "Heading", ["Body " * 250_000])  # document.xml: over 1 MB
    with zipfile.ZipFile(path) as archive:
        real = archive.getinfo("word/document.xml").file_size
    declare_size(path, "word/document.xml", 1000)
    with pytest.raises(ReadError, match=r"^is not a readable Word .docx file \(word/document.xml is damaged: Bad CRC-32"):
        read(path, ReadLimits(max_member_mb=1))
    assert real > 1 << 20


def declare_size(path, name: str, size: int) -> None:
    """Rewrite the uncompressed size the zip's central directory declares for `name`."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + struct.unpack_from("<H", data, entry + 28)[0]] != name.encode():
        entry = data.index(b"PK\x01\x02", entry + 46)
    struct.pack_into("<I", data, entry + 24, size)  # the uncompressed size field of the entry
    path.write_bytes(bytes(data))


def test_a_word_file_over_the_article_cap_is_refused(tmp_path):
    path = make_docx(tmp_path / "long.docx", "Heading", ["word " * 150, "more " * 150])
    with pytest.raises(ReadError, match=f"^its text {TOO_LONG}$"):
        read(path, SMALL)


# EPUB -------------------------------------------------------------------------------------------

CHAPTERS = [("The keeper arrives", ["She climbed the stairs."]), ("Storm season", ["word " * 300])]


def test_an_epub_chapter_over_the_article_cap_is_refused(tmp_path):
    path = make_epub(tmp_path / "book.epub", "Book", "A", CHAPTERS)
    with pytest.raises(ReadError, match=rf"^chapter 2 \(OEBPS/chapter2.xhtml\) {TOO_LONG}$"):
        read(path, SMALL)


def test_epub_members_use_the_same_caps(tmp_path):
    path = make_epub(tmp_path / "book.epub", "Book", "A", [("One", ["x " * (600 << 10)]), ("Two", ["y " * (600 << 10)])])
    with pytest.raises(ReadError, match=r"^OEBPS/chapter1.xhtml inflates past ingest.max_member_mb \(1 MB\): refused$"):
        read(path, ReadLimits(max_member_mb=1))
    with pytest.raises(ReadError, match=r"^its members inflate past ingest.max_inflated_mb \(2 MB\) together: refused$"):
        read(path, ReadLimits(max_member_mb=2, max_inflated_mb=2))
    assert len(read(path, ReadLimits(max_member_mb=2, max_inflated_mb=3)).documents) == 2
