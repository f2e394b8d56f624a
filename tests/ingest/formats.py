"""Builders of small real files in each format, made with the libraries people make them with
(reportlab, python-docx, ebooklib) or written out as the XML feeds are."""

from __future__ import annotations

from html import escape
from pathlib import Path


def make_pdf(path: Path, pages: list[list[str]], title: str = "", author: str = "",
             header: str = "", footer: str = "", encrypt: str | None = None,
             owner_password: str | None = None, headline: bool = True) -> Path:
    """One PDF page per list of lines (a blank string leaves a blank line); with `headline`,
    page 1's first line is set large and bold; `header` and `footer` (with {n} and {total})
    are drawn small on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    encryption = None
    if encrypt is not None or owner_password is not None:
        from reportlab.lib import pdfencrypt

        encryption = pdfencrypt.StandardEncryption(encrypt or "", ownerPassword=owner_password or "owner")
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encryption, invariant=1)
    pdf.setTitle(title)
    pdf.setAuthor(author)
    width, height = A4
    for n, lines in enumerate(pages, start=1):
        pdf.setFont("Helvetica", 9)
        if header:
            pdf.drawString(72, height - 40, header.format(n=n, total=len(pages)))
        if footer:
            pdf.drawString(width / 2 - 30, 30, footer.format(n=n, total=len(pages)))
        y = height - 90
        for i, line in enumerate(lines):
            big = headline and n == 1 and i == 0
            pdf.setFont("Helvetica-Bold" if big else "Helvetica", 18 if big else 11)
            if line:
                pdf.drawString(72, y, line)
            y -= 24 if big else 15
        pdf.showPage()
    pdf.save()
    return path


def make_picture_pdf(path: Path) -> Path:
    """A PDF whose page holds only drawn shapes (as a scan holds only an image): no text layer."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), invariant=1)
    for x in range(5):
        pdf.rect(72 + 60 * x, 400, 40, 200, fill=1)
    pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path, heading: str, paragraphs: list[str], table: list[list[str]] | None = None,
              author: str = "", core_title: str = "", subheading: str = "") -> Path:
    import docx

    word = docx.Document()
    word.core_properties.author = author
    word.core_properties.title = core_title
    word.add_heading(heading, level=1)
    word.add_paragraph(paragraphs[0])
    if subheading:
        word.add_heading(subheading, level=2)
    if table:
        grid = word.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    for paragraph in paragraphs[1:]:
        word.add_paragraph(paragraph)
    word.save(str(path))
    return path


def make_epub(path: Path, title: str, author: str, chapters: list[tuple[str, list[str]]],
              publisher: str = "") -> Path:
    """An EPUB 3 with a navigation document and one XHTML file per chapter."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier(f"urn:test:{path.stem}")
    book.set_title(title)
    book.set_language("en")
    if author:
        book.add_author(author)
    if publisher:
        book.add_metadata("DC", "publisher", publisher)
    items = []
    for n, (heading, paragraphs) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=heading, file_name=f"chapter{n}.xhtml", lang="en")
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        item.content = f"<html><head><title>{escape(title)}</title></head><body><h1>{escape(heading)}</h1>{body}</body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = tuple(items)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def rss(feed_title: str, items: list[dict]) -> str:
    """RSS 2.0; each item: title, link, date (RFC 822), html (content:encoded) or summary."""
    entries = []
    for item in items:
        parts = [f"<title>{escape(item['title'])}</title>", f"<link>{escape(item['link'])}</link>"]
        if item.get("date"):
            parts.append(f"<pubDate>{item['date']}</pubDate>")
        if item.get("summary"):
            parts.append(f"<description>{escape(item['summary'])}</description>")
        if item.get("html"):
            parts.append(f"<content:encoded><![CDATA[{item['html']}]]></content:encoded>")
        entries.append(f"<item>{''.join(parts)}</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
            f"<channel><title>{escape(feed_title)}</title><link>https://feeds.example/</link>\n"
            + "\n".join(entries) + "\n</channel></rss>\n")


def atom(feed_title: str, items: list[dict]) -> str:
    """Atom 1.0; each item: title, link, date (ISO), html (content) or summary."""
    entries = []
    for n, item in enumerate(items, start=1):
        body = (f'<content type="html">{escape(item["html"])}</content>' if item.get("html")
                else f'<summary type="html">{escape(item.get("summary", ""))}</summary>')
        entries.append(f"<entry><title>{escape(item['title'])}</title><link href=\"{escape(item['link'])}\"/>"
                       f"<id>urn:test:{n}</id><updated>{item.get('date', '2026-01-01T00:00:00Z')}</updated>"
                       f"{body}</entry>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(feed_title)}</title><id>urn:test:feed</id><updated>2026-01-01T00:00:00Z</updated>\n"
            + "\n".join(entries) + "\n</feed>\n")
