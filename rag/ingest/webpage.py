"""Saved news pages (.html files): the article body, title, site, date and URL, with trafilatura.

trafilatura was measured against the BeautifulSoup reader (rag.ingest.html) on saved pages in
the style of six kinds of news sites (tests/ingest/measure_html_extraction.py): it found every
body paragraph (26/26 against 18/26), leaked 2 boilerplate fragments against 19, and got 6/6
dates against 5/6. On a very short page (under trafilatura's own minimum of 250 characters) it
falls back to a crude baseline that keeps navigation and breaks lines at inline tags; there the
BeautifulSoup reader is used. HTML fragments (feed items, e-book chapters) always use the
BeautifulSoup reader: they hold no page furniture to remove.
"""

from __future__ import annotations

from rag.ingest.html import HtmlArticle, extract_html

MIN_TEXT_CHARS = 250  # trafilatura's MIN_EXTRACTED_SIZE: below it, its result is the baseline


def extract_page(markup: str) -> HtmlArticle:
    """The article of a whole saved page, with its metadata."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            markup, with_metadata=True, include_comments=False, include_tables=True,
            date_extraction_params={"extensive_search": False, "original_date": True})
    except Exception:  # trafilatura gives up on some malformed trees; BeautifulSoup does not
        doc = None
    if doc is None:
        return extract_html(markup)
    page = HtmlArticle(_paragraphs(doc.text or "", doc.title or ""), _clean(doc.title), _clean(doc.sitename),
                       _clean(doc.url), _clean(doc.date))
    if len(page.text) >= MIN_TEXT_CHARS and all((page.title, page.source, page.url, page.date)):
        return page
    fallback = extract_html(markup)
    return HtmlArticle(page.text if len(page.text) >= MIN_TEXT_CHARS else fallback.text,
                       page.title or fallback.title, page.source or fallback.source,
                       page.url or fallback.url, page.date or fallback.date)


def _paragraphs(text: str, title: str) -> str:
    """trafilatura's one block per line as paragraphs; the headline repeated first is dropped."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0].casefold() == " ".join(title.split()).casefold():
        lines = lines[1:]
    return "\n\n".join(lines)


def _clean(value) -> str:
    return " ".join(str(value or "").split())
