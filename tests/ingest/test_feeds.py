"""RSS and Atom feeds, recognised by content, parsed with feedparser."""

import pytest

from rag.ingest.readers import ReadError, find_files, read_documents
from tests.ingest.formats import atom, rss

RSS_ITEMS = [
    {"title": "Ice shelf loses a slab the size of a city", "link": "https://glacier.example/slab",
     "date": "Tue, 03 Mar 2026 08:15:00 +0100", "summary": "Short summary.",
     "html": "<p>Satellites showed a <b>slab</b> breaking away.</p><script>track()</script>"
             "<p>Scientists measured 840 square kilometres.</p>"},
    {"title": "A link with no text", "link": "https://glacier.example/empty"},
    {"title": "Summary only", "link": "https://glacier.example/s", "summary": "<p>Only a summary here.</p>"},
]


def read(path):
    return read_documents(path, path.read_bytes())


def test_rss_items_are_documents_with_link_date_and_feed_title(tmp_path):
    path = tmp_path / "glacier.rss"
    path.write_text(rss("Glacier Watch Daily", RSS_ITEMS))
    result = read(path)
    assert [(d.doc_id, d.title, d.source, d.url, d.date, d.text) for d in result.documents] == [
        ("glacier-1", "Ice shelf loses a slab the size of a city", "Glacier Watch Daily",
         "https://glacier.example/slab", "2026-03-03T07:15:00Z",
         "Satellites showed a slab breaking away.\n\nScientists measured 840 square kilometres."),
        ("glacier-3", "Summary only", "Glacier Watch Daily", "https://glacier.example/s", "",
         "Only a summary here."),
    ]
    assert result.warnings == ["item 2 (A link with no text): no text; skipped"]
    assert all(d.offset is None and d.line is None for d in result.documents)


def test_atom_entries_are_documents(tmp_path):
    path = tmp_path / "bees.atom"
    path.write_text(atom("Beekeepers' Bulletin", [
        {"title": "Hives survive the cold winter", "link": "https://bees.example/hives",
         "date": "2026-02-01T10:00:00Z", "html": "<p>Most hives in the north survived.</p>"}]))
    (document,) = read(path).documents
    assert (document.title, document.source, document.url, document.date, document.text) == (
        "Hives survive the cold winter", "Beekeepers' Bulletin", "https://bees.example/hives",
        "2026-02-01T10:00:00Z", "Most hives in the north survived.")


@pytest.mark.parametrize("name", ["feed.xml", "feed.txt", "feed.html", "feed", "feed.php"])
def test_a_feed_is_recognised_by_content_whatever_its_name(tmp_path, name):
    path = tmp_path / name
    path.write_text("<!-- saved from the site -->\n" + rss("Glacier Watch Daily", RSS_ITEMS[:1]))
    files, failures, skipped = find_files([tmp_path])
    assert (files, failures, skipped) == ([path], [], [])
    assert read(path).documents[0].source == "Glacier Watch Daily"


def test_an_xml_file_that_is_not_a_feed_is_refused(tmp_path):
    path = tmp_path / "data.xml"
    path.write_text('<?xml version="1.0"?><catalog><book>x</book></catalog>')
    with pytest.raises(ReadError, match="is not an RSS or Atom feed"):
        read(path)


def test_a_feed_without_items_is_refused(tmp_path):
    path = tmp_path / "empty.rss"
    path.write_text(rss("Nothing yet", []))
    with pytest.raises(ReadError, match="is not an RSS or Atom feed with items"):
        read(path)


def test_rss_1_0_rdf_feed(tmp_path):
    path = tmp_path / "rdf.xml"
    path.write_text('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                    'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                    '<channel rdf:about="https://old.example/"><title>Old Town Crier</title></channel>'
                    '<item rdf:about="https://old.example/1"><title>Clock tower restored</title>'
                    '<link>https://old.example/1</link><dc:date>2025-11-02T09:00:00+01:00</dc:date>'
                    '<description>The clock tower chimes again after forty silent years.</description></item>'
                    '</rdf:RDF>')
    (document,) = read(path).documents
    assert (document.title, document.source, document.url, document.date, document.text) == (
        "Clock tower restored", "Old Town Crier", "https://old.example/1", "2025-11-02T08:00:00Z",
        "The clock tower chimes again after forty silent years.")
