from pathlib import Path

from rag.ingest.archive import split_archive
from rag.ingest.readers import read_documents
from tests.conftest import SAMPLE

EXPECTED = [
    ("A broken shield for women? Community policing in Iraq fails the …", "Raseef22"),
    ("Tenth report of the Special Adviser and Head of the United Nations …", "ReliefWeb"),
    ("Telegram Outlets Linked To Iran-Backed Militias In Iraq: Wagner …",
     "Middle East Media Research Institute"),
    ("Despite gains, Iraq has not yet ‘turned the corner’, Security Council hears", "UN News"),
    ("How Sadr’s foes are trying to suck him back into Iraqi public life", "Middle East Eye"),
]


def test_sample_archive_gives_five_articles_with_titles_and_sources():
    docs = read_documents(SAMPLE, SAMPLE.read_bytes()).documents
    assert [(d.title, d.source) for d in docs] == EXPECTED
    assert [d.doc_id for d in docs] == [f"iraq-archive-{n}" for n in range(1, 6)]


def test_article_text_is_a_verbatim_slice_without_heading_or_footer():
    raw = SAMPLE.read_text(encoding="utf-8")
    docs = read_documents(SAMPLE, SAMPLE.read_bytes()).documents
    for doc in docs:
        assert raw[doc.offset:doc.offset + len(doc.text)] == doc.text
        for marker in ("See more here:", "More here:", "Read more here:", "Read more:", "Archive for the"):
            assert marker not in doc.text
        assert doc.title not in doc.text
    assert docs[0].text.startswith("F.A. works as a teacher in the Karrada district")
    assert docs[4].text.endswith("This mainly depends on his ability to hold on.")


def test_format_is_detected_from_content_not_file_name(tmp_path: Path):
    renamed = tmp_path / "notes.md"
    renamed.write_bytes(SAMPLE.read_bytes())
    docs = read_documents(renamed, renamed.read_bytes()).documents
    assert [d.source for d in docs] == [s for _, s in EXPECTED]


def test_plain_text_with_a_dash_in_its_title_is_not_an_archive():
    text = "Iraq – the road ahead\n\nA long paragraph about politics.\n\nRead more: later."
    assert split_archive(text) == []


def test_footer_must_repeat_the_header():
    text = ("First story – Agency A\n\nBody one.\n\nRead more:\nFirst story - Agency A\n\n"
            "Second story – Agency B\n\nBody two.\n\nMore here:\nSecond story ... - Agency B\n")
    articles = split_archive(text)
    assert [(a.title, a.source) for a in articles] == [("First story", "Agency A"), ("Second story", "Agency B")]
    assert [text[a.start:a.end] for a in articles] == ["Body one.", "Body two."]
