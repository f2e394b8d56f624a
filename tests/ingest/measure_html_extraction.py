"""Measure HTML article extraction on saved news pages: today's reader (BeautifulSoup, rag.ingest.html)
against trafilatura. Prints numbers; asserts nothing.

    .venv/bin/python -m tests.ingest.measure_html_extraction

Pages: tests/data/formats/news/*.html, written in the style of six kinds of news sites (public
broadcaster, national daily, wire agency, press agency, WordPress local paper, international
broadcaster) with their navigation, ads, newsletter boxes, comments, related links, bylines and
dates in meta tags / JSON-LD / <time>. expected.json lists per page the body sentences
(distinctive fragments, one per article paragraph), boilerplate fragments that must not leak,
and the right title, date (YYYY-MM-DD) and author.

Per extractor: body recall = share of expected body fragments found in the text; boilerplate
leaked = fragments of boilerplate found; title / date / author = pages where it is right.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

NEWS = Path(__file__).resolve().parents[1] / "data" / "formats" / "news"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().casefold()


def extract_bs4(markup: str) -> dict:
    from rag.ingest.html import extract_html

    article = extract_html(markup)
    return {"text": article.text, "title": article.title, "date": article.date, "author": ""}


def extract_trafilatura(markup: str, **options) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(markup, with_metadata=True, include_comments=False,
                                      include_tables=True, **options)
    if doc is None:
        return {"text": "", "title": "", "date": "", "author": ""}
    return {"text": doc.text or "", "title": doc.title or "", "date": doc.date or "", "author": doc.author or ""}


def extract_reader(markup: str) -> dict:
    from rag.ingest.webpage import extract_page

    article = extract_page(markup)
    return {"text": article.text, "title": article.title, "date": article.date, "author": ""}


EXTRACTORS = {
    "bs4 (the reader before)": extract_bs4,
    "trafilatura": extract_trafilatura,
    "trafilatura favor_precision": lambda m: extract_trafilatura(m, favor_precision=True),
    "trafilatura, metadata dates only": lambda m: extract_trafilatura(
        m, date_extraction_params={"extensive_search": False, "original_date": True}),
    "the reader now (webpage.py)": extract_reader,
}


def score(result: dict, expected: dict) -> dict:
    text = _norm(result["text"])
    return {
        "body_found": sum(_norm(s) in text for s in expected["body"]),
        "body_total": len(expected["body"]),
        "leaked": [b for b in expected["boilerplate"] if _norm(b) in text],
        "title": _norm(result["title"]) == _norm(expected["title"]),
        "date": str(result["date"])[:10] == expected["date"],
        "author": _norm(result["author"]) == _norm(expected["author"]),
    }


def main() -> None:
    expected = json.loads((NEWS / "expected.json").read_text(encoding="utf-8"))
    pages = {name: (NEWS / name).read_text(encoding="utf-8") for name in expected}
    print(f"{len(pages)} pages, {sum(len(e['body']) for e in expected.values())} body fragments, "
          f"{sum(len(e['boilerplate']) for e in expected.values())} boilerplate fragments\n")
    print(f"{'extractor':30} {'body recall':>12} {'leaked':>7} {'title':>6} {'date':>5} {'author':>7} {'ms/page (cpu)':>14}")
    details = {}
    for label, extract in EXTRACTORS.items():
        extract(next(iter(pages.values())))  # warm-up: imports
        totals = {"found": 0, "total": 0, "leaked": 0, "title": 0, "date": 0, "author": 0}
        cpu = time.process_time()
        for name, markup in pages.items():
            s = score(extract(markup), expected[name])
            totals["found"] += s["body_found"]
            totals["total"] += s["body_total"]
            totals["leaked"] += len(s["leaked"])
            for key in ("title", "date", "author"):
                totals[key] += s[key]
            details.setdefault(label, []).append((name, s))
        ms = (time.process_time() - cpu) * 1000 / len(pages)
        print(f"{label:30} {totals['found']:>5}/{totals['total']:<3} {totals['found'] / totals['total']:4.0%}"
              f" {totals['leaked']:>7} {totals['title']:>4}/{len(pages)} {totals['date']:>3}/{len(pages)}"
              f" {totals['author']:>5}/{len(pages)} {ms:>14.1f}")
    print()
    for label, rows in details.items():
        for name, s in rows:
            misses = [k for k in ("title", "date", "author") if not s[k]]
            if s["body_found"] < s["body_total"] or s["leaked"] or misses:
                print(f"{label} · {name}: body {s['body_found']}/{s['body_total']}, leaked {s['leaked']}, wrong {misses}")


if __name__ == "__main__":
    main()
