"""The Articles tab's list: the indexed articles, or those matching the Find box, at most a
page of them at once (an archive of 250,000 articles is not one HTML table)."""

from __future__ import annotations

from pathlib import Path
from typing import Collection, Sequence

from rag.types import DocumentInfo
from rag.wording import title_tooltip
from ui.handlers import NO_ARTICLES_LISTED, escape, inline_code

ARTICLES_SHOWN = 200  # rows at once; the Find box reaches the others


def render_article_list(shown: Sequence[DocumentInfo], matching: int, articles: int, passages: int,
                        match: str = "", pinned: Collection[str] = ()) -> str:
    """A table of `shown`, the first of the `matching` articles that match `match` (title, source,
    file or id, any case; "" for all), each with a pin toggle (the `pinned` ids are pressed: the
    chat asks only them) and a remove button, under a summary of the whole index (`articles`,
    `passages`). The engine finds the page (Engine.find_documents)."""
    if not articles:
        return f'<div class="article-list empty">{inline_code(NO_ARTICLES_LISTED)}</div>'
    rows = "".join(
        f'<tr data-doc="{escape(i.doc_id)}"><td class="title" dir="auto" '
        f'title="{escape(title_tooltip(i.title or i.doc_id))}">{escape(i.title or i.doc_id)}</td>'
        f"<td dir=\"auto\">{escape(i.source or '-')}</td><td class=\"num\">{int(i.chunks)}</td>"
        f'<td class="file" title="{escape(i.path)}">{escape(Path(i.path).name)}</td>'
        f'<td class="actions">{_pin_button(i, i.doc_id in pinned)}<button class="remove" '
        f'data-remove="{escape(i.doc_id)}" data-title="{escape(i.title or i.doc_id)}">Remove</button></td></tr>'
        for i in shown)
    summary = f"{_count(articles, 'article')}, {_count(passages, 'passage')}"
    if match.strip():
        summary += f" · {_count(matching, 'article')} match “{escape(match.strip())}”"
    if matching > len(shown):
        summary += f" · showing the first {len(shown)}: type in Find to reach the others"
    table = ('<table><thead><tr><th>Title</th><th>Source</th><th>Passages</th><th>File</th><th></th></tr></thead>'
             f"<tbody>{rows}</tbody></table>") if shown else '<p class="no-match">No article matches.</p>'
    return f'<div class="article-list"><div class="summary">{summary}</div>{table}</div>'


def _pin_button(info: DocumentInfo, pinned: bool) -> str:
    help_ = ("Pinned: the chat asks only the pinned articles. Click to unpin." if pinned
             else "Pin: ask only about pinned articles")
    return (f'<button class="pin" data-pin="{escape(info.doc_id)}" data-title="{escape(info.title or info.doc_id)}" '
            f'aria-pressed="{"true" if pinned else "false"}" title="{help_}">{"Pinned" if pinned else "Pin"}</button>')


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
