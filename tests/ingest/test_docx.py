"""Word reader: .docx files made with python-docx."""

import zipfile

import pytest

from rag.ingest.readers import ReadError, read_documents
from tests.ingest.formats import make_docx


def read(path):
    return read_documents(path, path.read_bytes())


def test_heading_paragraphs_and_table_rows_in_order(tmp_path):
    path = make_docx(tmp_path / "frost.docx", "Orchard growers count the frost damage",
                     ["Growers in the valley said the late frost destroyed half of the apricot blossom.",
                      "Insurers will visit the farms next week."],
                     table=[["Farm", "Loss"], ["Hillside", "55%"], ["Riverside", "40%"]],
                     author="Valley Courier", subheading="Losses by farm")
    (document,) = read(path).documents
    assert (document.doc_id, document.title, document.source, document.date) == (
        "frost", "Orchard growers count the frost damage", "Valley Courier", "")
    assert document.text == (
        "Growers in the valley said the late frost destroyed half of the apricot blossom.\n\n"
        "Losses by farm\n\n"
        "Farm | Loss\nHillside | 55%\nRiverside | 40%\n\n"
        "Insurers will visit the farms next week.")
    assert (document.offset, document.line, document.page_starts) == (None, None, ())


def test_core_properties_title_wins_over_the_heading(tmp_path):
    path = make_docx(tmp_path / "a.docx", "A heading", ["Body text."], core_title="The real title")
    (document,) = read(path).documents
    assert (document.title, document.text) == ("The real title", "A heading\n\nBody text.")


def test_a_tool_placeholder_author_is_no_source(tmp_path):
    import docx

    word = docx.Document()  # python-docx's template says the author is "python-docx"
    word.add_paragraph("Plain body text.")
    word.save(str(tmp_path / "p.docx"))
    (document,) = read(tmp_path / "p.docx").documents
    assert (document.source, document.title) == ("", "p")


def test_merged_cells_are_read_once(tmp_path):
    import docx

    word = docx.Document()
    word.add_paragraph("Results by district.")
    table = word.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Northern district"
    for c, value in enumerate(["12", "7", "3"]):
        table.cell(1, c).text = value
    word.save(str(tmp_path / "m.docx"))
    assert read(tmp_path / "m.docx").documents[0].text == "Results by district.\n\nNorthern district\n12 | 7 | 3"


@pytest.mark.parametrize("make", ["text", "zip"])
def test_corrupt_docx_is_refused_with_the_reason(tmp_path, make):
    path = tmp_path / "bad.docx"
    if make == "text":
        path.write_text("just text, not a Word file")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "a zip without a document")
    with pytest.raises(ReadError, match="^is not a readable Word .docx file"):
        read(path)


def test_empty_docx_holds_no_text(tmp_path):
    import docx

    docx.Document().save(str(tmp_path / "empty.docx"))
    with pytest.raises(ReadError, match="no article text"):
        read(tmp_path / "empty.docx")
