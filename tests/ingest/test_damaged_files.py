"""Damaged files of every type give a ReadError with a reason, never another exception."""

import random

import pytest

from rag.ingest.readers import ReadError, read_documents
from tests.ingest.formats import atom, make_docx, make_epub, make_pdf, rss


@pytest.fixture(scope="module")
def good_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    (folder / "feed.rss").write_text(rss("Feed", [{"title": "T", "link": "https://x.example/", "html": "<p>Body text.</p>"}]))
    (folder / "feed.atom").write_text(atom("Feed", [{"title": "T", "link": "https://x.example/", "html": "<p>Body.</p>"}]))
    (folder / "page.html").write_text("<html><body><article>" + "<p>Paragraph of a page.</p>" * 30 + "</article></body></html>")
    (folder / "a.txt").write_text("Title\n\nBody of the article.\n")
    return [
        make_pdf(folder / "a.pdf", [["Headline", "", "Body line one.", "Body line two."], ["Page two."]], title="T"),
        make_docx(folder / "a.docx", "Heading", ["Paragraph."], table=[["a", "b"]]),
        make_epub(folder / "a.epub", "Book", "Author", [("One", ["Text one."]), ("Two", ["Text two."])]),
        folder / "feed.rss", folder / "feed.atom", folder / "page.html", folder / "a.txt",
    ]


def test_truncated_and_bit_flipped_files_fail_with_a_read_error(good_files):
    rng = random.Random(12)
    for path in good_files:
        data = path.read_bytes()
        variants = [data[:cut] for cut in (0, 1, 10, len(data) // 4, len(data) // 2, len(data) - 5)]
        for _ in range(15):
            flipped = bytearray(data)
            for _ in range(5):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            variants.append(bytes(flipped))
        for variant in variants:
            try:
                result = read_documents(path, variant)
            except ReadError as error:
                assert str(error)  # a reason to show
            else:
                assert result.documents and all(d.text.strip() for d in result.documents)
