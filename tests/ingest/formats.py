"""Builders of small real files in each format, made with the libraries people make them with
(reportlab, python-docx) or written out as EPUB packages and XML feeds are."""

from __future__ import annotations

import posixpath
import zipfile
from html import escape
from pathlib import Path
from urllib.parse import quote


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
              publisher: str = "", *, date: str = "", version: int = 3, folder: str = "OEBPS",
              file_name: str = "chapter{n}.xhtml", toc_titles: dict[int, str] | None = None,
              untitled: tuple[int, ...] = (), nested: bool = False, cover: bool = False) -> Path:
    """An EPUB written with zipfile as e-book tools lay it out: mimetype first and stored,
    META-INF/container.xml, the package file in `folder`, one XHTML file per chapter (named from
    `file_name`, percent-encoded in the hrefs) with its heading as h1 and the book title as
    <title>. Version 3 has a navigation document (in the spine, as ebooklib puts it) and an NCX;
    version 2 only the NCX. The table of contents names chapter n `toc_titles[n]`, else its
    heading, and leaves out the chapters numbered in `untitled`; `nested` puts chapters 2… under
    chapter 1 there; `cover` adds an image-only first page."""
    names = [file_name.format(n=n) for n in range(1, len(chapters) + 1)]
    toc = [(quote(name), (toc_titles or {}).get(n, heading))
           for n, (name, (heading, _)) in enumerate(zip(names, chapters), 1) if n not in untitled]
    files = {"mimetype": b"application/epub+zip", "META-INF/container.xml": _xml(
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        f'<rootfile full-path="{posixpath.join(folder, "content.opf")}" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>")}
    content = {name: _chapter_xhtml(title, f"<h1>{escape(heading)}</h1>" + "".join(f"<p>{escape(p)}</p>" for p in text))
               for name, (heading, text) in zip(names, chapters)}
    items = [(f"c{n}", quote(name), "application/xhtml+xml", "") for n, name in enumerate(names, 1)]
    spine = [f"c{n}" for n in range(1, len(chapters) + 1)]
    if cover:
        content["cover.xhtml"] = _chapter_xhtml(title, '<div><img src="cover.png" alt="Cover"/></div>')
        content["cover.png"] = b"\x89PNG\r\n\x1a\n"
        items += [("cover", "cover.xhtml", "application/xhtml+xml", ""), ("cover-image", "cover.png", "image/png", "cover-image")]
        spine.insert(0, "cover")
    if version == 3:
        content["nav.xhtml"] = _chapter_xhtml(title, '<nav epub:type="toc" id="toc"><h1>Contents</h1>'
                                              + _nav_list(toc, nested) + "</nav>")
        items.append(("nav", "nav.xhtml", "application/xhtml+xml", "nav"))
        spine.insert(0, "nav")
    points = [f'<navPoint id="p{n}"><navLabel><text>{escape(heading)}</text></navLabel><content src="{escape(href)}"/>'
              for n, (href, heading) in enumerate(toc, 1)]
    navmap = (points[0] + "".join(p + "</navPoint>" for p in points[1:]) + "</navPoint>" if nested and points
              else "".join(p + "</navPoint>" for p in points))
    content["toc.ncx"] = _xml('<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><head/>'
                              f"<docTitle><text>{escape(title)}</text></docTitle><navMap>{navmap}</navMap></ncx>")
    items.append(("ncx", "toc.ncx", "application/x-dtbncx+xml", ""))
    metadata = "".join(f"<dc:{tag}>{escape(value)}</dc:{tag}>" for tag, value in
                       [("title", title), ("language", "en"), ("creator", author), ("publisher", publisher), ("date", date)]
                       if value)
    manifest = "".join(f'<item id="{i}" href="{escape(href)}" media-type="{kind}"' + (f' properties="{p}"' if p else "") + "/>"
                       for i, href, kind, p in items)
    files[posixpath.join(folder, "content.opf")] = _xml(
        f'<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0" unique-identifier="uid">'
        f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">urn:test:{escape(path.stem)}'
        f"</dc:identifier>{metadata}</metadata><manifest>{manifest}</manifest>"
        '<spine toc="ncx">' + "".join(f'<itemref idref="{i}"/>' for i in spine) + "</spine></package>")
    files.update({posixpath.join(folder, name): data for name, data in content.items()})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():  # mimetype first, stored: how readers recognise an EPUB
            archive.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return path


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def _chapter_xhtml(title: str, body: str) -> bytes:
    return _xml('<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
                f"<head><title>{escape(title)}</title></head><body>{body}</body></html>")


def _nav_list(toc: list[tuple[str, str]], nested: bool) -> str:
    links = [f'<a href="{escape(href)}">{escape(heading)}</a>' for href, heading in toc]
    if nested and links:
        return f"<ol><li>{links[0]}<ol>" + "".join(f"<li>{a}</li>" for a in links[1:]) + "</ol></li></ol>"
    return "<ol>" + "".join(f"<li>{a}</li>" for a in links) + "</ol>"


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
