"""The side column's list of kept conversations (rag.conversations), newest first: each opens
with a click and is deleted with a confirmed x; the open one has its download links (the REST
routes /api/conversations/{id} and .../markdown, behind the same login as the page)."""

from __future__ import annotations

from typing import Sequence
from urllib.parse import quote, urlencode

from rag.conversations import ConversationSummary
from rag.export import export_filename
from rag.wording import readable_date
from ui.handlers import escape

READ_ONLY_NOTE = ("This server is read-only: conversations are not kept, and a reload starts a new chat. "
                  "Each answer can still be downloaded.")
EMPTY_NOTE = "Your conversations are kept here, in this collection’s index folder."


def export_links(conversation_id: str, title: str, collection: str) -> str:
    """Links downloading a kept conversation as Markdown and as JSON."""
    query = "?" + urlencode({"collection": collection}) if collection else ""
    base = f"api/conversations/{quote(conversation_id, safe='')}"
    name = export_filename(title, "")
    return (f'<div class="conversation-export">Download: '
            f'<a class="export-markdown" href="{escape(base + "/markdown" + query)}" download="{escape(name)}.md" '
            'title="This conversation as Markdown, with numbered citations">Markdown</a> · '
            f'<a class="export-json" href="{escape(base + query)}" download="{escape(name)}.json" '
            'title="This conversation as JSON: each question with its answer">JSON</a></div>')


def render_conversation_list(conversations: Sequence[ConversationSummary] | None, current: str | None = None,
                             collection: str = "", problem: str = "") -> str:
    """The list (None: conversations are not kept on this server), the `current` one marked,
    with its download links; `problem`: why the list could not be read or written."""
    if conversations is None:
        return f'<div class="conversation-list read-only"><p class="note">{READ_ONLY_NOTE}</p></div>'
    rows = []
    for c in conversations:
        is_current = c.id == current
        tools = export_links(c.id, c.title, collection) if is_current else ""
        marked = ' aria-current="true"' if is_current else ""
        rows.append(
            f'<li class="saved{" current" if is_current else ""}" data-conversation="{escape(c.id)}">'
            f'<div class="saved-head"><a href="#" class="open" data-open="{escape(c.id)}" dir="auto" '
            f'title="{escape(c.title)}"{marked}>{escape(c.title)}</a>'
            f'<button type="button" class="delete" data-delete="{escape(c.id)}" title="Delete this conversation" '
            f'aria-label="Delete “{escape(c.title)}”">×</button></div>'
            f'<div class="saved-when">{escape(readable_date(c.updated))} · {c.turns} '
            f'question{"" if c.turns == 1 else "s"}</div>{tools}</li>')
    body = f'<ul>{"".join(rows)}</ul>' if rows else f'<p class="note">{EMPTY_NOTE}</p>'
    warning = f'<p class="note error">{escape(problem)}</p>' if problem else ""
    return f'<div class="conversation-list">{warning}{body}</div>'
