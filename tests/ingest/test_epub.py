"""EPUB reader: books made with ebooklib, chapters read through the HTML reader."""

import pytest

from rag.ingest.readers import ReadError, read_documents
from tests.ingest.formats import make_epub


def read(path):
    return read_documents(path, path.read_bytes())


def test_two_chapters_become_two_documents_naming_book_and_chapter(tmp_path):
    path = make_epub(tmp_path / "lighthouse.epub", "Letters from the Lighthouse", "Mara Quill", [
        ("The keeper arrives", ["The new keeper came on the supply boat.", "He brought twelve crates of lamp oil."]),
        ("Storm season", ["In October the storms closed the harbour for nine days."]),
    ], publisher="Coastline Press")
    documents = read(path).documents
    assert [(d.doc_id, d.title, d.source, d.text) for d in documents] == [
        ("lighthouse-1", "Letters from the Lighthouse: The keeper arrives", "Mara Quill",
         "The new keeper came on the supply boat.\n\nHe brought twelve crates of lamp oil."),
        ("lighthouse-2", "Letters from the Lighthouse: Storm season", "Mara Quill",
         "In October the storms closed the harbour for nine days."),
    ]
    assert all(d.offset is None and d.line is None for d in documents)


def test_one_chapter_book_is_one_document_with_the_book_title_and_publisher_as_source(tmp_path):
    path = make_epub(tmp_path / "single.epub", "The Salt Road", "", [
        ("Chapter one", ["Caravans carried salt across the desert for centuries."])], publisher="Dune Books")
    (document,) = read(path).documents
    assert (document.doc_id, document.title, document.source, document.text) == (
        "single", "The Salt Road", "Dune Books", "Caravans carried salt across the desert for centuries.")


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04broken"])
def test_corrupt_epub_is_refused(tmp_path, content):
    path = tmp_path / "bad.epub"
    path.write_bytes(content)
    with pytest.raises(ReadError, match="^is not a readable EPUB"):
        read(path)
