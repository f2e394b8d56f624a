"""A conversation or one answer written out: Markdown with numbered citations for people, JSON
for programs, and a quote with its citation for the clipboard. Library code: the chat's download
buttons and the REST API use it, and the CLI can.

Citation numbers are the chat's (rag.answer.cards): [1] is the passage of the answer's first
sentence, and so on, so a Markdown export reads against the cards on screen. Article text is
untrusted: in Markdown it is escaped, so a title or a sentence can never become a link, an
image or markup in whatever shows the file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from rag.answer.cards import Card, cards, numbers
from rag.conversations import Conversation, Turn
from rag.types import Answer, Citation, Passage, Where
from rag.wording import readable_date

FORMAT = "rag-news/conversation/1"
ABSTAINED = "None of the articles answers this closely enough."
NO_MATCH_FOR_FILTER = "No article matches the filter, so there is nothing to answer from."
FOLLOW_UP = "Read as a follow-up to the earlier question"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_URL = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


# plain text ------------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """`text` with every run of white space (line breaks too) as one space."""
    return " ".join(text.split())


def reference(citation: Citation) -> str:
    """The citation as a reader writes it: "Title. Source, 3 May 2024. file.txt, lines 4–6
    (characters 80–200). https://…" (the parts the article has)."""
    title = one_line(citation.title) or Path(citation.path).name
    published = ", ".join(p for p in (one_line(citation.source), readable_date(citation.date)) if p)
    parts = [title, published, citation.location(), citation.url.strip()]
    return " ".join(_sentence(p) for p in parts if p)


def _sentence(part: str) -> str:
    return part if part.endswith((".", "?", "!", "…")) or _URL.fullmatch(part) else part + "."


def describe_where(where: Where | None) -> str:
    """The filter in words: "UN News, Reuters · May 2024 · 2 pinned articles · undated articles
    too"; "" for none."""
    if where is None or where.empty:
        return ""
    parts = []
    if where.sources:
        parts.append(", ".join(where.sources))
    if where.since or where.until:
        parts.append(describe_dates(where.since, where.until))
        if where.undated:
            parts.append("undated articles too")
    if where.doc_ids:
        count = len(where.doc_ids)
        parts.append(f"{count} pinned article" + ("" if count == 1 else "s"))
    return " · ".join(parts)


def describe_dates(since: str, until: str) -> str:
    """A date range as people say it: "May 2024", "2024", "3 May 2024 to 9 June 2024",
    "from May 2024", "up to 2023"."""
    since, until = since.strip(), until.strip()
    if since and since == until:
        return readable_date(since)
    if since and until:
        return f"{readable_date(since)} to {readable_date(until)}"
    return f"from {readable_date(since)}" if since else f"up to {readable_date(until)}"


def quote_with_citation(card: Card, answer: Answer) -> str:
    """What "Copy quote with citation" copies for a card of `answer` (see `format_quote`)."""
    return format_quote(card.passage, [s.sentence for s in answer.answer if s.passage_rank == card.passage.rank])


def format_quote(passage: Passage, sentences: Sequence[str] = ()) -> str:
    """The `sentences` an answer quotes from `passage` (else the whole passage) in quotation
    marks, then the passage's reference on a line of its own."""
    quoted = " ".join(one_line(s) for s in sentences if s.strip())
    return f"“{quoted or passage.text.strip()}”\n— {reference(passage.citation)}"


# Markdown --------------------------------------------------------------------------------------


def markdown_text(text: str) -> str:
    """Untrusted text for Markdown: on one line, with every character that could start markup
    (links, images, HTML, emphasis, code, headings, tables) escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def markdown_reference(citation: Citation) -> str:
    """`reference` for Markdown: the text escaped, an http(s) URL as a link to itself."""
    url = citation.url.strip()
    text = markdown_text(reference(replace(citation, url="")))
    if url and _URL.fullmatch(url):
        return f"{text} <{url}>"
    return f"{text} {markdown_text(url)}" if url else text


def answer_markdown(answer: Answer) -> list[str]:
    """The body of an answer: its sentences with their card numbers, the note, then the cards'
    references under "Sources" (those the chat folds away under "More passages"), as blocks."""
    blocks = []
    if answer.search_query and answer.search_query != answer.question:
        blocks.append(f"*{FOLLOW_UP} (searched for: {markdown_text(answer.search_query)}).*")
    shown = cards(answer)
    number = numbers(answer)
    if answer.abstained:
        plain = NO_MATCH_FOR_FILTER if not answer.passages and answer.reason == "no article matches the filter" \
            else ABSTAINED
        reason = f" (Why: {markdown_text(answer.reason)}.)" if answer.reason and plain == ABSTAINED else ""
        blocks.append(f"**{plain}**{reason}")
    elif answer.answer:
        blocks.append("\n".join(f"- {markdown_text(s.sentence)} [{number[s.passage_rank]}]"
                                for s in answer.answer if s.passage_rank in number))
    if answer.note:
        blocks.append(f"*Note: {markdown_text(answer.note)}*")
    folded = [c for c in shown if c.folded]
    opened = [c for c in shown if not c.folded]
    for label, group in (("Sources", opened), ("Closest passages, for you to judge" if answer.abstained
                                               else "More passages", folded)):
        if group:
            blocks.append(f"{label}:\n\n" + "\n".join(_card_line(c) for c in group))
    return blocks


def _card_line(card: Card) -> str:
    added = " (added for context: the paragraph around a quoted sentence)" if card.context else ""
    return f"- [{card.number}] {markdown_reference(card.passage.citation)}{added}"


def turn_markdown(turn: Turn, heading: str = "##") -> str:
    """A question under a heading (`heading`: "#", "##", ... with any numbering), the filter it
    was asked under, and its answer or message."""
    blocks = [f"{heading} {markdown_text(turn.question)}"]
    if filter_ := describe_where(turn.where):
        blocks.append(f"Filter: {markdown_text(filter_)}")
    if turn.answer is not None:
        blocks += answer_markdown(turn.answer)
    elif turn.message:
        blocks.append(f"*{markdown_text(turn.message)}*")
    return "\n\n".join(blocks) + "\n"


def conversation_markdown(conversation: Conversation, collection: str = "") -> str:
    """The whole conversation: its title, when, then each question numbered with its answer."""
    count = len(conversation.turns)
    when = readable_date(conversation.created)
    if readable_date(conversation.updated) != when:
        when += f" to {readable_date(conversation.updated)}"
    about = f"{count} question{'' if count == 1 else 's'}, {when}"
    if collection:
        about += f", collection {markdown_text(collection)}"
    parts = [f"# {markdown_text(conversation.title)}\n\n{about}.\n"]
    parts += [turn_markdown(turn, f"## {n}.") for n, turn in enumerate(conversation.turns, start=1)]
    return "\n".join(parts)


# JSON ------------------------------------------------------------------------------------------


def turn_json(turn: Turn) -> dict[str, Any]:
    """A turn as JSON: the question, the filter (Where.to_json, or null), the answer
    (Answer.to_json, or null) and the message shown instead of one."""
    return {"question": turn.question,
            "where": turn.where.to_json() if turn.where is not None and not turn.where.empty else None,
            "answer": turn.answer.to_json() if turn.answer is not None else None,
            "message": turn.message}


def conversation_json(conversation: Conversation, collection: str = "") -> dict[str, Any]:
    return {"format": FORMAT, "id": conversation.id, "title": conversation.title, "collection": collection,
            "created": conversation.created, "updated": conversation.updated,
            "turns": [turn_json(t) for t in conversation.turns if not t.pending]}


def export_filename(title: str, suffix: str) -> str:
    """A file name for an export: the title's first words (letters, digits, '-'), then `suffix`."""
    words = re.findall(r"\w+", title.casefold())[:8]
    stem = "-".join(words)[:60].strip("-") or "conversation"
    return f"{stem}{suffix}"
