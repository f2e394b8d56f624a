"""The Articles tab's list: the indexed articles, or those matching the Find box, at most a
page of them at once (an archive of 250,000 articles is not one HTML table)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from rag.types import DocumentInfo
from rag.wording import title_tooltip
from ui.handlers import NO_ARTICLES_LISTED, escape, inline_code

ARTICLES_SHOWN = 200  # rows at once; the Find box reaches the others


def render_article_list(infos: Sequence[DocumentInfo], match: str = "", limit: int = ARTICLES_SHOWN) -> str:
    """A table of the articles matching `match` (title, source, file or id, any case; "" for all),
    at most `limit` rows, each with a remove button, under a summary of the whole index."""
    if not infos:
        return f'<div class="article-list empty">{inline_code(NO_ARTICLES_LISTED)}</div>'
    found = [i for i in infos if i.matches(match)]
    rows = "".join(
        f'<tr data-doc="{escape(i.doc_id)}"><td class="title" title="{escape(title_tooltip(i.title or i.doc_id))}">'
        f"{escape(i.title or i.doc_id)}</td>"
        f"<td>{escape(i.source or '-')}</td><td class=\"num\">{int(i.chunks)}</td>"
        f'<td class="file" title="{escape(i.path)}">{escape(Path(i.path).name)}</td>'
        f'<td class="actions"><button class="remove" data-remove="{escape(i.doc_id)}" '
        f'data-title="{escape(i.title or i.doc_id)}">Remove</button></td></tr>'
        for i in found[:limit])
    passages = sum(i.chunks for i in infos)
    summary = f"{_count(len(infos), 'article')}, {_count(passages, 'passage')}"
    if match.strip():
        summary += f" · {_count(len(found), 'article')} match “{escape(match.strip())}”"
    if len(found) > limit:
        summary += f" · showing the first {limit}: type in Find to reach the others"
    table = ('<table><thead><tr><th>Title</th><th>Source</th><th>Passages</th><th>File</th><th></th></tr></thead>'
             f"<tbody>{rows}</tbody></table>") if found else '<p class="no-match">No article matches.</p>'
    return f'<div class="article-list"><div class="summary">{summary}</div>{table}</div>'


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
