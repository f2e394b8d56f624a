"""The chat UI's logic as pure functions: escaped HTML for answers, passage cards, the article
panel and the list of articles; chat-history and upload bookkeeping. No Gradio here.

Every piece of article text is untrusted and goes through `html.escape`: the browser sees it
as text, never as markup, links or images.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from rag.answer.cards import Card, cards
from rag.conversations import Turn
from rag.export import (ABSTAINED, FOLLOW_UP, NO_MATCH_FOR_FILTER, describe_where, export_filename,
                        format_quote, turn_json, turn_markdown)
from rag.ingest.readers import SUPPORTED_SUFFIXES
from rag.types import Answer, Citation, Document, FilePosition, IngestReport, Passage, Where
from rag.wording import describe_location, readable_date, title_tooltip, written_key_words
from ui.upload_files import StoredUpload
from ui.written import render_fallback, render_written

NO_INDEX_MESSAGE = ("No articles are indexed yet. Upload articles in the Articles tab, or run "
                    "`rag ingest PATH` in a terminal, then ask again.")
# The same, said in the Articles tab itself, where the upload button is.
NO_ARTICLES_LISTED = ("No articles are indexed yet. Add some with the Upload articles button above, "
                      "or run `rag ingest PATH` in a terminal.")
SIMILARITY_HELP = ("Cosine similarity {score:.2f} between the question and the passage (from -1 to 1; "
                   "around 0.5 and above is close). Not a probability.")
# How close in meaning a passage is, in words, by its cosine similarity (all-MiniLM-L6-v2's scale:
# unrelated English text scores about 0.1, a passage that answers 0.5 and more).
CLOSENESS = ((0.6, "very close in meaning"), (0.45, "close in meaning"), (0.3, "loosely related"))
DISTANT = "distant in meaning"
CONTEXT_HELP = ("The paragraph around a sentence the answer quotes, added so the sentence can be read "
                "in its context: the search did not find it.")


def escape(text: Any) -> str:
    """Text made inert for HTML: <, >, &, and both quote characters escaped."""
    return html.escape(str(text), quote=True)


# chat bookkeeping ------------------------------------------------------------------------------


ChatTurn = Turn  # a question of the chat and what came of it (rag.conversations.Turn)
Chat = tuple[ChatTurn, ...]


def add_question(chat: Sequence[ChatTurn], question: str, where: Where | None = None) -> Chat:
    """The chat with `question` appended as a pending turn (unchanged if the question is blank)."""
    question = question.strip()
    return tuple(chat) + (ChatTurn(question, where=where),) if question else tuple(chat)


def earlier_questions(chat: Sequence[ChatTurn]) -> list[str]:
    """The questions asked before the last turn, oldest first: the `history` for Engine.ask."""
    return [turn.question for turn in chat[:-1]]


def settle_last(chat: Sequence[ChatTurn], answer: Answer | None = None, message: str = "",
                where: Where | None = None) -> Chat:
    """The chat with its last turn given its answer, or a message shown in its place, and the
    filter it was asked under."""
    if not chat:
        return ()
    return tuple(chat[:-1]) + (replace(chat[-1], answer=answer, message=message, where=where),)


# the conversation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendering:
    """What the page knows beyond the answer: the languages the model compares by meaning (None:
    every language; in others a passage's similarity is noise and is not shown)."""

    languages: frozenset[str] | None = None

    def compares(self, passage: Passage) -> bool:
        language = passage.citation.language
        return self.languages is None or not language or language in self.languages


def render_conversation(chat: Sequence[ChatTurn], rendering: Rendering = Rendering()) -> str:
    """The whole chat as HTML, oldest question first."""
    body = "".join(render_turn(turn, i, rendering) for i, turn in enumerate(chat)) or (
        '<div class="chat-placeholder">Your questions and their cited answers appear here.</div>')
    return f'<div class="conversation">{body}</div>'


def render_index_status(article_count: int, others: int = 0) -> str:
    """The line above the chat: how many articles can answer, or how to add some (`others`: how
    many other collections could be chosen instead)."""
    if article_count <= 0:
        other = " Or choose another collection." if others else ""
        return f'<div class="index-status empty-index">{inline_code(NO_INDEX_MESSAGE)}{other}</div>'
    noun = "article" if article_count == 1 else "articles"
    return (f'<div class="index-status">Ask a question about your {article_count} {noun}. Answers '
            "are copied from the articles with numbered citations: click one to read it in its "
            "article.</div>")


def render_turn(turn: ChatTurn, index: int, rendering: Rendering = Rendering()) -> str:
    """A question bubble and, under it, the filter it was asked under and its answer (or message,
    or a searching notice). The one place an answer is made into HTML, live or reopened."""
    question = f'<div class="question" dir="auto">{escape(turn.question)}</div>'
    parts = []
    if described := describe_where(turn.where):
        parts.append(f'<div class="asked-under" dir="auto">Filter: {escape(described)}</div>')
    if turn.answer is not None:
        parts.append(render_answer(turn.answer, index, rendering, turn.writing))
        parts.append(render_answer_tools(turn))
    elif turn.message:
        parts.append(f'<div class="notice">{inline_code(turn.message)}</div>')
    else:
        parts.append('<div class="searching">Searching the articles…</div>')
    return f'<div class="turn" data-turn="{index}">{question}<div class="reply">{"".join(parts)}</div></div>'


def render_answer(answer: Answer, turn: int = 0, rendering: Rendering = Rendering(), writing: bool = False) -> str:
    """The extractive answer with [n] markers (the cards' numbers, rag.answer.cards), the note on
    what the articles do not tell, and a card per passage: those that matter open, the others
    folded under "More passages". An abstention says so in plain words, the numbers behind it
    folded away with the closest passages."""
    parts = []
    if answer.search_query and answer.search_query != answer.question:
        parts.append(f'<div class="followup" title="Searched for: {escape(answer.search_query)}">'
                     f"{FOLLOW_UP}.</div>")
    shown = cards(answer)
    sentences = {}
    for s in answer.answer:
        sentences.setdefault(s.passage_rank, []).append(s.sentence)
    html_of = {c.number: render_card(c, turn, answer.abstained, sentences.get(c.passage.rank, ()), rendering)
               for c in shown}
    if answer.abstained:
        parts.append(render_abstention(answer))
        if shown:
            parts.append(f'<details class="closest"><summary>Closest passages ({len(shown)}), for you to judge'
                         f'</summary><div class="cards">{"".join(html_of.values())}</div></details>')
        return "".join(parts)
    generated = answer.generated
    if generated is not None and (writing or not generated.fallback):
        parts.append(render_written(generated, shown, turn, writing))  # the user's model's answer (ui/written.py)
    else:
        parts.append(_extractive_sentences(answer, shown, turn))
        if generated is not None:
            parts.append(render_fallback(generated))
    if answer.note and not (generated is not None and not generated.fallback):
        parts.append(f'<div class="answer-note" dir="auto">{escape(answer.note)}</div>')
    opened = "".join(html_of[c.number] for c in shown if not c.folded)
    folded = [html_of[c.number] for c in shown if c.folded]
    if opened:
        parts.append(f'<div class="sources-label">Sources</div><div class="cards">{opened}</div>')
    if folded:
        parts.append(f'<details class="more-passages"><summary>More passages ({len(folded)})</summary>'
                     f'<div class="cards">{"".join(folded)}</div></details>')
    return "".join(parts)


def _extractive_sentences(answer: Answer, shown: list[Card], turn: int) -> str:
    """The extractive answer's sentences, each with its card's [n]."""
    by_rank = {c.passage.rank: c for c in shown}
    items = []
    for sentence in answer.answer:
        card = by_rank.get(sentence.passage_rank)
        marker = (f'<a href="#" class="marker" {cite_attributes(card.passage.citation, card.number, turn)}'
                  f' title="Show in the article">[{card.number}]</a>') if card else ""
        items.append(f'<li dir="auto">{escape(sentence.sentence)} {marker}</li>')
    return f'<ul class="answer-sentences">{"".join(items)}</ul>' if items else ""


def render_abstention(answer: Answer) -> str:
    """Why there is no answer, in plain words; the reason and the evidence numbers under "Why?"."""
    if not answer.passages and answer.reason == "no article matches the filter":
        return f'<div class="abstained"><strong>{NO_MATCH_FOR_FILTER}</strong></div>'
    if not answer.passages and answer.reason == "the index is empty":
        return f'<div class="abstained"><strong>{inline_code(NO_INDEX_MESSAGE)}</strong></div>'
    numbers = []
    if answer.reason:
        numbers.append(f'<div class="reason">{escape(answer.reason.rstrip("."))}.</div>')
    if answer.evidence is not None:
        e = answer.evidence
        numbers.append(f'<div class="reason">Best similarity {e.dense_similarity:.2f}, key-word coverage '
                       f"{e.keyword_coverage:.2f}: strength {e.strength:.2f}.</div>")
    why = (f'<details class="why"><summary>Why?</summary>{"".join(numbers)}</details>') if numbers else ""
    return f'<div class="abstained"><strong>{ABSTAINED}</strong>{why}</div>'


def render_answer_tools(turn: ChatTurn) -> str:
    """Buttons that download this answer as Markdown or JSON (rag.export), made in the browser
    from the data they carry."""
    name = export_filename(turn.question, "")
    markdown = turn_markdown(turn, "#")
    data = json.dumps(turn_json(turn), ensure_ascii=False, indent=2)
    button = ('<button type="button" class="export" data-filename="{name}" data-type="{type}" '
              'data-content="{content}" title="{title}">{label}</button>')
    return ('<div class="answer-tools">'
            + button.format(name=escape(name + ".md"), type="text/markdown", content=escape(markdown),
                            title="Download this answer as Markdown, with numbered citations", label="Markdown")
            + button.format(name=escape(name + ".json"), type="application/json", content=escape(data),
                            title="Download this answer as JSON (the rag ask --json object)", label="JSON")
            + "</div>")


def cite_attributes(citation: Citation, number: int, turn: int) -> str:
    """The data-* attributes a click on a marker or card sends to open the article."""
    return (f'data-doc="{escape(citation.doc_id)}" data-start="{int(citation.start)}" '
            f'data-end="{int(citation.end)}" data-number="{int(number)}" data-turn="{int(turn)}"')


def render_card(card: Card, turn: int, abstained: bool = False, answer_sentences: Sequence[str] = (),
                rendering: Rendering = Rendering()) -> str:
    """A passage card: number, title, source, where it is in its file, the passage text (the
    `answer_sentences` taken from this passage in bold), how it was found, and a button copying
    the quote with its citation."""
    passage, c = card.passage, card.passage.citation
    meta = " · ".join(f"<bdi>{escape(part)}</bdi>" for part in (c.source or Path(c.path).name, readable_date(c.date))
                      if part)
    title = c.title or Path(c.path).name
    context = (f'<div class="card-context" title="{escape(CONTEXT_HELP)}">Added for context: the paragraph around '
               "a sentence the answer quotes.</div>") if card.context else ""
    quote = format_quote(passage, answer_sentences)
    classes = "card" + (" context" if card.context else "")
    return (f'<div class="{classes}" role="button" tabindex="0" title="Show in the article" '
            f'{cite_attributes(c, card.number, turn)} data-rank="{int(passage.rank)}">'
            f'<div class="card-head"><span class="card-number">[{card.number}]</span> '
            f'<span class="card-title" dir="auto" title="{escape(title_tooltip(title))}">{escape(title)}</span></div>'
            f'<div class="card-source">{meta}</div>'
            f'<div class="card-where">{escape(describe_location(c))}</div>{context}'
            f'<div class="card-text" dir="auto">{emphasise(passage.text, answer_sentences)}</div>'
            f'<div class="card-foot"><div class="evidence">{evidence_html(card, abstained, rendering)}</div>'
            f'<button type="button" class="copy-quote" data-quote="{escape(quote)}" '
            'title="Copy the quoted sentences (or the passage) with its citation">Copy quote with citation</button>'
            "</div></div>")


def emphasise(text: str, sentences: Sequence[str]) -> str:
    """Escaped `text` with the first occurrence of each of `sentences` in <b class="answer-hit">
    (found verbatim, or with its spaces and line breaks laid out differently)."""
    spans = sorted(span for s in sentences if (span := _find_sentence(text, s)) is not None)
    out, at = [], 0
    for start, end in spans:
        if start < at:  # overlaps the previous one: already bold
            continue
        out.append(f'{escape(text[at:start])}<b class="answer-hit">{escape(text[start:end])}</b>')
        at = end
    return "".join(out) + escape(text[at:])


def _find_sentence(text: str, sentence: str) -> tuple[int, int] | None:
    """Where `sentence` first occurs in `text`, allowing any run of white space between words."""
    sentence = sentence.strip()
    if not sentence:
        return None
    if (i := text.find(sentence)) >= 0:
        return i, i + len(sentence)
    pattern = r"\s+".join(re.escape(word) for word in sentence.split())
    match = re.search(pattern, text)
    return match.span() if match else None


def closeness(similarity: float) -> str:
    """A passage's cosine similarity to the question in words."""
    return next((words for floor, words in CLOSENESS if similarity >= floor), DISTANT)


def evidence_html(card: Card, abstained: bool = False, rendering: Rendering = Rendering()) -> str:
    """How the passage was found, in words: the best match, added for context, how close in
    meaning (the cosine similarity in the tooltip), the matched key words as the passage writes
    them."""
    passage = card.passage
    parts = []
    if card.context:
        parts.append(f'<span class="badge context" title="{escape(CONTEXT_HELP)}">added for context</span>')
    elif passage.rank == 1:
        parts.append(f'<span class="badge best">{"closest match" if abstained else "best match"}</span>')
    if passage.dense_score is not None and not card.context and rendering.compares(passage):
        parts.append(f'<span class="closeness" title="{escape(SIMILARITY_HELP.format(score=passage.dense_score))}">'
                     f"{closeness(passage.dense_score)}</span>")
    if passage.matched_terms:
        words = dict.fromkeys(written_key_words(passage.matched_terms, passage.text, passage.citation.title))
        parts.append(f'<span class="terms">key words: <bdi>{escape(", ".join(words))}</bdi></span>')
    return " · ".join(parts)


def inline_code(text: str) -> str:
    """Escaped text with `backticked` parts shown as code."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


# the article panel -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CitationRequest:
    """What a click on a citation asks for: an article, the span to highlight, and the number
    the citation has in its answer (0: none)."""

    doc_id: str
    start: int
    end: int
    number: int = 0


def parse_citation_request(data: Any) -> CitationRequest | None:
    """The click's event data checked (it comes from the browser): None unless well-formed."""
    if not isinstance(data, dict) or not isinstance(data.get("doc_id"), str) or not data["doc_id"]:
        return None
    try:
        start, end, number = int(data.get("start")), int(data.get("end")), int(data.get("number") or 0)
    except (TypeError, ValueError):
        return None
    return CitationRequest(data["doc_id"], start, end, number) if 0 <= start <= end else None


def render_article_placeholder() -> str:
    return ('<div class="article-panel placeholder">Click a citation — a <b>[number]</b> or a '
            "passage card — to read the whole article here, with the passage highlighted.</div>")


def render_article(document: Document | None, request: CitationRequest) -> str:
    """The full article with the cited characters `[start, end)` wrapped in a <mark>; its title
    and text are laid out in their own direction (an Arabic article right to left)."""
    if document is None:
        return ('<div class="article-panel placeholder">This article is no longer in the index '
                f"({escape(request.doc_id)}).</div>")
    text = document.text
    start, end = request.start, request.end
    meta = [f"<bdi>{escape(part)}</bdi>" for part in (document.source, readable_date(document.date)) if part]
    if document.url:
        meta.append(_link(document.url))
    if end <= len(text):
        label = f"passage [{request.number}], " if request.number else ""
        position = FilePosition.of(document, start, end)
        place = (f"{position.describe()} of {Path(document.path).name}" if position
                 else f"characters {start}–{end} of the article")
        where = f'<div class="article-where">Highlighted: {label}{escape(place)}</div>'
        body = (f"{escape(text[:start])}<mark class=\"cited\">{escape(text[start:end])}</mark>"
                f"{escape(text[end:])}")
    else:  # the index changed under the citation: show the article, say why nothing is marked
        where = '<div class="article-where">The cited passage is no longer at this place in the article.</div>'
        body = escape(text)
    cited = escape(f"{request.doc_id}|{start}|{end}")
    return (f'<div class="article-panel" data-cited="{cited}">'
            f'<div class="article-head"><div class="article-title" dir="auto" '
            f'title="{escape(title_tooltip(document.title))}">{escape(document.title)}</div>'
            f'<div class="article-meta">{" · ".join(meta)} · <bdi>{escape(Path(document.path).name)}</bdi></div>'
            f'{where}</div><div class="article-text" dir="auto">{body}</div></div>')


def _link(url: str) -> str:
    """A link for http(s) URLs only (anything else, e.g. javascript:, stays text)."""
    if re.match(r"https?://", url, re.IGNORECASE):
        return (f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer nofollow">'
                f"{escape(url)}</a>")
    return escape(url)


# the list of articles --------------------------------------------------------------------------


# uploads ---------------------------------------------------------------------------------------


def render_upload_help(uploads_dir: Path | None) -> str:
    """What the Upload button takes and where the files go (None: the folder of whichever
    collection is chosen)."""
    where = (f"<code>{escape(uploads_dir)}</code>" if uploads_dir is not None
             else "the <code>uploads</code> folder of the chosen collection’s index")
    return (f'<div class="upload-help">{", ".join(SUPPORTED_SUFFIXES)} files, or archive pages '
            f"(several articles in one .txt). They are copied to {where} and searchable as soon as they are "
            "indexed.</div>")


def render_ingest_report(report: IngestReport | None, stored: Sequence[StoredUpload],
                         rejected: Sequence[str] = ()) -> str:
    """What an upload did, file by file, under the names the user knows."""
    names = {str(s.path.resolve()): s.original_name for s in stored}
    shown = lambda path: escape(names.get(str(Path(path).resolve()), Path(path).name))  # noqa: E731
    lines = []
    if report is not None:
        for label, paths in (("added", report.files_added), ("updated", report.files_updated),
                             ("already indexed, unchanged", report.files_skipped)):
            if paths:
                lines.append(f'<li class="ok">{label}: {", ".join(shown(p) for p in paths)}</li>')
        if report.documents_added:
            lines.append(f'<li class="ok">{report.documents_added} article(s), {report.chunks_added} '
                         "passage(s) now searchable</li>")
        lines += [f'<li class="error">failed: {shown(f.path)}: {escape(f.error)}</li>' for f in report.failures]
        lines += [f'<li class="warning">warning: {escape(w)}</li>' for w in report.warnings]
    supported = ", ".join(SUPPORTED_SUFFIXES)
    lines += [f'<li class="error">not uploaded: {escape(n)}: unsupported file type (use {supported})</li>'
              for n in rejected]
    return f'<ul class="ingest-report">{"".join(lines)}</ul>' if lines else ""


def render_notice(text: str, kind: str = "info") -> str:
    """A one-line status message (kind: info, ok, error)."""
    return f'<div class="status {escape(kind)}">{inline_code(text)}</div>'
