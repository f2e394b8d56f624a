"""Main text and metadata of an HTML article, with a real parser (BeautifulSoup).

Used for HTML fragments (feed items, e-book chapters) and for very short pages; whole saved
news pages go through trafilatura first (rag.ingest.webpage), which measured better on them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

_DROP = ["script", "style", "noscript", "template", "svg", "iframe", "form", "button",
         "nav", "header", "footer", "aside", "menu"]
_BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "td"]
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class HtmlArticle:
    text: str
    title: str
    source: str
    url: str
    date: str


def extract_html(markup: str) -> HtmlArticle:
    """The article's paragraphs (navigation, scripts and boilerplate left out) and its metadata."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = _meta(soup, "og:title") or _tag_text(soup.title) or _tag_text(soup.find("h1"))
    url = _meta(soup, "og:url") or _link(soup, "canonical")
    source = _meta(soup, "og:site_name") or _meta(soup, "publisher") or urlparse(url).hostname or ""
    date = (_meta(soup, "article:published_time") or _meta(soup, "date")
            or (soup.find("time") or {}).get("datetime", ""))
    for tag in soup.find_all(_DROP):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    paragraphs = []
    for block in root.find_all(_BLOCKS):
        if block.find_parent(_BLOCKS):
            continue  # its text is part of the enclosing block
        line = _SPACE.sub(" ", block.get_text(" ")).strip()
        if line:
            paragraphs.append(line)
    if not paragraphs:
        paragraphs = [p for p in (_SPACE.sub(" ", s).strip() for s in root.get_text("\n").split("\n")) if p]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # the headline repeated as the first block
    return HtmlArticle("\n\n".join(paragraphs), title, source, url, str(date))


def _meta(soup, name: str) -> str:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    return _SPACE.sub(" ", tag.get("content", "")).strip() if tag else ""


def _link(soup, rel: str) -> str:
    tag = soup.find("link", rel=rel)
    return tag.get("href", "") if tag else ""


def _tag_text(tag) -> str:
    return _SPACE.sub(" ", tag.get_text(" ")).strip() if tag else ""
