"""PDF reader: real PDFs made with reportlab, read back with pypdf."""

import pytest

from rag.ingest.readers import ReadError, read_documents
from rag.types import FilePosition
from tests.ingest.formats import make_pdf, make_picture_pdf

PAGE_ONE = [
    "Harbour cranes return to Port Talbrey",
    "",
    "The port authority said the new cranes were built by an inter-",
    "national consortium and arrived on Tuesday after a long voyage",
    "from the shipyard. It is a well-known fact that the old cranes",
    "had rusted beyond repair.",
    "",
    "Dockers welcomed the news.",
]
PAGE_TWO = [
    "The harbour master said the cranes will lift the first containers",
    "in March, once the rails along the eastern quay are replaced.",
]


def read(path):
    return read_documents(path, path.read_bytes())


def test_two_pages_header_footer_dropped_hyphen_joined_and_pages_known(tmp_path):
    pdf = make_pdf(tmp_path / "cranes.pdf", [PAGE_ONE, PAGE_TWO], author="Harbour Gazette",
                   header="THE HARBOUR GAZETTE - SPECIAL REPORT", footer="Page {n} of {total}")
    result = read(pdf)
    (document,) = result.documents
    assert result.warnings == []
    assert (document.doc_id, document.title, document.source) == (
        "cranes", "Harbour cranes return to Port Talbrey", "Harbour Gazette")
    assert document.text == (
        "The port authority said the new cranes were built by an international consortium and "
        "arrived on Tuesday after a long voyage from the shipyard. It is a well-known fact that "
        "the old cranes had rusted beyond repair.\n\n"
        "Dockers welcomed the news.\n\n"
        "The harbour master said the cranes will lift the first containers in March, once the "
        "rails along the eastern quay are replaced.")
    assert (document.offset, document.line) == (None, None)
    assert document.page_starts == (0, document.text.index("The harbour master"))
    start = document.text.index("rails along")
    assert FilePosition.of(document, start, start + 10) == FilePosition(None, None, None, None, 2)
    assert FilePosition.of(document, 0, 10).describe() == "p. 1"


def test_metadata_title_wins_and_a_real_hyphen_at_a_line_end_is_kept(tmp_path):
    pdf = make_pdf(tmp_path / "t.pdf", [["Opening line of the page, then a name: Anglo-",
                                          "American talks resumed on Friday in the capital city."]],
                   title="Trade talks resume", headline=False)
    (document,) = read(pdf).documents
    assert document.title == "Trade talks resume"
    assert document.text == ("Opening line of the page, then a name: Anglo-American talks resumed "
                             "on Friday in the capital city.")


def test_word_processor_file_names_are_not_titles(tmp_path):
    pdf = make_pdf(tmp_path / "x.pdf", [["Storm closes the ferry line", "",
                                          "No ferries ran today between the island and the mainland,",
                                          "and the harbour office expects none before Sunday."]],
                   title="Microsoft Word - draft3.docx")
    (document,) = read(pdf).documents
    assert document.title == "Storm closes the ferry line"  # the headline: the page's largest type
    assert document.text.startswith("No ferries ran today")


def test_encrypted_pdf_needing_a_password_is_refused_with_the_reason(tmp_path):
    pdf = make_pdf(tmp_path / "locked.pdf", [["Secret budget figures."]], encrypt="s3cret")
    with pytest.raises(ReadError, match="^is encrypted and needs a password to open"):
        read(pdf)


def test_encrypted_pdf_with_only_an_owner_password_is_read(tmp_path):
    pdf = make_pdf(tmp_path / "restricted.pdf", [["Printing is restricted, reading is not."]],
                   owner_password="owner-only")
    assert read(pdf).documents[0].text == "Printing is restricted, reading is not."


def test_pdf_without_a_text_layer_says_so(tmp_path):
    with pytest.raises(ReadError) as error:
        read(make_picture_pdf(tmp_path / "scan.pdf"))
    assert str(error.value) == "no text layer (scanned?); OCR is not supported"


@pytest.mark.parametrize("content", [b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", b"not a pdf at all", b""])
def test_corrupt_pdf_is_refused_with_the_reason(tmp_path, content):
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(content)
    with pytest.raises(ReadError, match="^is not a readable PDF"):
        read(pdf)


def test_truncated_pdf_is_refused(tmp_path):
    whole = make_pdf(tmp_path / "whole.pdf", [PAGE_ONE, PAGE_TWO]).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ReadError, match="^is not a readable PDF"):
        read(cut)


@pytest.mark.parametrize("user_password, readable", [("", True), ("letmein", False)])
def test_aes_encrypted_pdf(tmp_path, user_password, readable):
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", [["Quarterly port tonnage rose by a tenth."]], headline=False)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    locked = tmp_path / "aes.pdf"
    with locked.open("wb") as out:
        writer.write(out)
    if readable:
        assert read(locked).documents[0].text == "Quarterly port tonnage rose by a tenth."
    else:
        with pytest.raises(ReadError, match="^is encrypted and needs a password to open"):
            read(locked)


def test_a_body_line_repeated_on_every_page_is_kept_unless_at_a_page_edge(tmp_path):
    pages = [[f"The {word} page opens with its own first line of body text here.",
              f"Its second line talks about the {word} district and its market.",
              f"A third line tells how the {word} council voted on the budget.",
              f"The fourth line quotes the {word} mayor at some length, as usual.",
              "A sentence every page repeats.",
              f"The sixth line returns to the {word} budget and what it costs.",
              f"A seventh line names the {word} treasurer who wrote the report.",
              f"The last line of the {word} page ends the story for today."]
             for word in ("northern", "southern", "eastern")]
    pdf = make_pdf(tmp_path / "r.pdf", pages, headline=False, header="HARBOUR REPORT", footer="- {n} -")
    (document,) = read(pdf).documents
    assert document.text.count("A sentence every page repeats.") == 3  # mid-page: body text, kept
    assert "HARBOUR REPORT" not in document.text and "- 2 -" not in document.text
    assert document.text.count("The last line of the") == 3


def test_a_page_without_text_is_named_in_a_warning_and_pages_still_count(tmp_path):
    pdf = make_pdf(tmp_path / "mixed.pdf", [[], ["Text on the second page."], [], ["Text on the fourth page."]],
                   headline=False)
    result = read(pdf)
    (document,) = result.documents
    assert result.warnings == ["no text layer on page(s) 1, 3 (scanned?); OCR is not supported, "
                               "those pages are left out"]
    assert document.text == "Text on the second page.\n\nText on the fourth page."
    assert document.page_starts == (0, 0, 24, 26)
    assert FilePosition.of(document, 26, 30).page == 4 and FilePosition.of(document, 0, 4).page == 2


def test_two_columns_are_read_column_by_column(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    left = ["The left column starts the story", "about the new ferry timetable,", "which begins in May."]
    right = ["The right column continues with", "the fares, which stay the same", "for island residents."]
    path = tmp_path / "columns.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for x, column in ((72, left), (320, right)):  # as layout programs do: one column, then the next
        for i, line in enumerate(column):
            pdf.drawString(x, 700 - 15 * i, line)
    pdf.showPage()
    pdf.save()
    # (a short line ending a sentence ends a paragraph: "which begins in May.")
    assert read(path).documents[0].text == " ".join(left) + "\n\n" + " ".join(right)
