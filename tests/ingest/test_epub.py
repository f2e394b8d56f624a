"""EPUB reader: books written with zipfile as e-book tools lay them out (EPUB 3 with a navigation
document, EPUB 2 with only an NCX), chapters read through the HTML reader."""

import zipfile

import pytest

from rag.ingest.readers import ReadError, read_documents
from tests.ingest.formats import make_epub


def read(path):
    return read_documents(path, path.read_bytes())


def rewrite(path, drop=(), replace=None):
    """The EPUB at `path` rewritten without the files in `drop` and with those in `replace` changed."""
    with zipfile.ZipFile(path) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist() if info.filename not in drop}
    files.update(replace or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return path


LIGHTHOUSE = [
    ("The keeper arrives", ["The new keeper came on the supply boat.", "He brought twelve crates of lamp oil."]),
    ("Storm season", ["In October the storms closed the harbour for nine days."]),
    ("Spring", ["The terns came back to the rocks in April."]),
]


def test_epub3_chapters_become_documents_named_from_the_navigation_document(tmp_path):
    path = make_epub(tmp_path / "lighthouse.epub", "Letters from the Lighthouse", "Mara Quill", LIGHTHOUSE,
                     publisher="Coastline Press", date="2021-04-01", toc_titles={3: "III. The terns return"})
    documents = read(path).documents
    assert [(d.doc_id, d.title, d.source, d.date, d.text) for d in documents] == [
        ("lighthouse-1", "Letters from the Lighthouse: The keeper arrives", "Mara Quill", "2021-04-01",
         "The new keeper came on the supply boat.\n\nHe brought twelve crates of lamp oil."),
        ("lighthouse-2", "Letters from the Lighthouse: Storm season", "Mara Quill", "2021-04-01",
         "In October the storms closed the harbour for nine days."),
        ("lighthouse-3", "Letters from the Lighthouse: III. The terns return", "Mara Quill", "2021-04-01",
         "The terns came back to the rocks in April."),  # the h1 "Spring" left out as the headline
    ]
    assert all(d.offset is None and d.line is None for d in documents)


def test_epub2_book_with_only_an_ncx_takes_its_names_from_the_ncx(tmp_path):
    path = make_epub(tmp_path / "almanac.epub", "Harbour Almanac", "", LIGHTHOUSE, publisher="Coastline Press",
                     version=2, folder="", nested=True, toc_titles={1: "Arrival", 2: "Gales", 3: "Terns"})
    assert "OEBPS/nav.xhtml" not in zipfile.ZipFile(path).namelist()
    assert [(d.title, d.source) for d in read(path).documents] == [
        ("Harbour Almanac: Arrival", "Coastline Press"), ("Harbour Almanac: Gales", "Coastline Press"),
        ("Harbour Almanac: Terns", "Coastline Press")]


def test_nested_table_of_contents_is_flattened(tmp_path):
    path = make_epub(tmp_path / "b.epub", "Book", "A", LIGHTHOUSE, nested=True,
                     toc_titles={1: "Part one", 2: "Gales", 3: "Terns"})
    assert [d.title for d in read(path).documents] == ["Book: Part one", "Book: Gales", "Book: Terns"]


def test_chapter_missing_from_the_table_of_contents_is_named_by_its_heading_else_numbered(tmp_path):
    path = make_epub(tmp_path / "b.epub", "Book", "A", [*LIGHTHOUSE, ("", ["A chapter without a heading."]),
                                                      ("Book", ["A heading that is the book title."])],
                     untitled=(2, 4, 5))
    documents = read(path).documents
    assert [d.title for d in documents] == [
        "Book: The keeper arrives", "Book: Storm season", "Book: Spring", "Book: chapter 4", "Book: chapter 5"]
    assert documents[1].text == "In October the storms closed the harbour for nine days."


def test_cover_image_page_and_a_chapter_that_is_only_its_heading_are_skipped(tmp_path):
    path = make_epub(tmp_path / "b.epub", "Book", "A", [LIGHTHOUSE[0], ("Interlude", []), LIGHTHOUSE[1]], cover=True)
    documents = read(path).documents
    assert [(d.doc_id, d.title) for d in documents] == [("b-1", "Book: The keeper arrives"), ("b-2", "Book: Storm season")]


def test_one_chapter_book_is_one_document_with_the_book_title_and_publisher_as_source(tmp_path):
    path = make_epub(tmp_path / "single.epub", "The Salt Road", "", [
        ("Chapter one", ["Caravans carried salt across the desert for centuries."])], publisher="Dune Books")
    (document,) = read(path).documents
    assert (document.doc_id, document.title, document.source, document.text) == (
        "single", "The Salt Road", "Dune Books", "Caravans carried salt across the desert for centuries.")


def test_percent_encoded_hrefs_in_a_package_in_a_subfolder(tmp_path):
    path = make_epub(tmp_path / "b.epub", "Book", "A", LIGHTHOUSE[:2], file_name="Text/chapter {n}.xhtml",
                     toc_titles={1: "Arrival"})
    names = zipfile.ZipFile(path).namelist()
    assert "OEBPS/content.opf" in names and "OEBPS/Text/chapter 1.xhtml" in names
    assert b'href="Text/chapter%201.xhtml"' in zipfile.ZipFile(path).read("OEBPS/content.opf")
    assert [d.title for d in read(path).documents] == ["Book: Arrival", "Book: Storm season"]


def test_metadata_whitespace_is_collapsed_a_bare_ampersand_forgiven_and_a_missing_title_is_the_file_name(tmp_path):
    path = make_epub(tmp_path / "salt_road.epub", "Tom & Jerry", "  Mara \n Quill ", LIGHTHOUSE[:2])
    opf = zipfile.ZipFile(path).read("OEBPS/content.opf")
    rewrite(path, replace={"OEBPS/content.opf": opf.replace(b"Tom &amp; Jerry", b"Tom & Jerry")})
    assert [(d.title, d.source) for d in read(path).documents] == [
        ("Tom & Jerry: The keeper arrives", "Mara Quill"), ("Tom & Jerry: Storm season", "Mara Quill")]
    rewrite(path, replace={"OEBPS/content.opf": opf.replace(b"<dc:title>Tom &amp; Jerry</dc:title>", b"")})
    assert read(path).documents[0].title == "salt road: The keeper arrives"


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "bad.epub"
    path.write_bytes(content)
    with pytest.raises(ReadError, match=r"^is not a readable EPUB \(not a zip archive"):
        read(path)


@pytest.mark.parametrize("damage, reason", [
    ({"drop": ["META-INF/container.xml"]}, "META-INF/container.xml is missing from the archive"),
    ({"drop": ["OEBPS/content.opf"]}, "OEBPS/content.opf is missing from the archive"),
    ({"replace": {"OEBPS/content.opf": b"<package><manifest"}}, "OEBPS/content.opf is not well-formed XML"),
    ({"replace": {"META-INF/container.xml": b"<container/>"}}, "META-INF/container.xml names no package file"),
    ({"drop": ["OEBPS/chapter2.xhtml"]}, "OEBPS/chapter2.xhtml is missing from the archive"),
])
def test_a_damaged_package_is_refused_with_its_reason(tmp_path, damage, reason):
    path = rewrite(make_epub(tmp_path / "b.epub", "Book", "A", LIGHTHOUSE), **damage)
    with pytest.raises(ReadError, match=r"^is not a readable EPUB \(" + reason):
        read(path)


def test_a_book_without_chapter_text_is_refused(tmp_path):
    path = make_epub(tmp_path / "b.epub", "Book", "A", [("Only a heading", [])], cover=True)
    with pytest.raises(ReadError, match="^holds no chapter with text$"):
        read(path)


def test_a_member_that_inflates_past_64_mb_is_refused_before_it_is_read(tmp_path):
    path = make_epub(tmp_path / "bomb.epub", "Book", "A", LIGHTHOUSE)
    rewrite(path, replace={"OEBPS/chapter2.xhtml": b"<p>" + b" " * (65 * 1024 * 1024) + b"</p>"})
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ReadError, match=r"^OEBPS/chapter2.xhtml inflates past ingest.max_member_mb \(64 MB\): refused$"):
        read(path)
