"""Saved news pages (tests/data/formats/news, six kinds of sites) through the .html reader:
every body paragraph kept, page furniture left out, title, site, URL and date from the metadata."""

import json
from pathlib import Path

import pytest

from rag.ingest.readers import read_documents
from tests.ingest.measure_html_extraction import NEWS, score

EXPECTED = json.loads((NEWS / "expected.json").read_text(encoding="utf-8"))
# What still leaks (measured; see measure_html_extraction.py): an ad label between paragraphs,
# and a copyright notice set as a paragraph of the story body.
KNOWN_LEAKS = {"broadcaster.html": ["Advertisement"], "press.html": ["may not be published, broadcast, rewritten"]}
SITES = {"broadcaster.html": "Broadcast News", "daily.html": "The Daily Chronicle", "wire.html": "Wire Agency",
         "press.html": "Associated Bulletin", "localnews.html": "The Millbrook Ledger", "international.html": "Global Eye"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_news_page_body_and_metadata(name):
    path = NEWS / name
    (document,) = read_documents(path, path.read_bytes()).documents
    result = score({"text": document.text, "title": document.title, "date": document.date, "author": ""},
                   EXPECTED[name])
    assert (result["body_found"], result["leaked"]) == (len(EXPECTED[name]["body"]), KNOWN_LEAKS.get(name, []))
    assert (document.title, document.source, document.date) == (EXPECTED[name]["title"], SITES[name], EXPECTED[name]["date"])
    assert document.url.startswith("https://") and document.offset is None
    assert not document.text.startswith(document.title)  # the headline is the title, not the first paragraph
    assert "\n\n" in document.text  # paragraphs stay paragraphs for the chunker


def test_a_page_without_any_date_gets_none_rather_than_a_guess(tmp_path):
    page = tmp_path / "bread.html"
    page.write_text("<html><head><title>Bread prices</title></head><body><article><h1>Bread prices</h1>"
                    + "<p>The price of a loaf rose again this month in the city bakeries, the guild said.</p>" * 4
                    + "</article><footer>© 2024 Bakers Weekly</footer></body></html>")
    (document,) = read_documents(page, page.read_bytes()).documents
    assert (document.title, document.date) == ("Bread prices", "")
