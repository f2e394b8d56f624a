"""The answer the user's own model writes, as the chat shows it (pure HTML, escaped).

Each sentence appears once it is complete and verified against the sentences it cites
(rag.generate): a sentence shown as written carries its citations; a sentence that did not hold
is replaced by its evidence, quoted verbatim and marked as quoted; a dropped one is not shown.
Nothing shown is taken back: while the model writes, the extractive answer is not shown; if
nothing the model wrote holds (or it declines, or its server fails), the extractive answer is
shown with the one line that says why. A citation's marker opens the article with the evidence
sentences highlighted.
"""

from __future__ import annotations

import html
from typing import Sequence

from rag.answer.cards import Card
from rag.generate.result import KEPT, Generated, GeneratedSentence

WRITTEN_HELP = ("Written by your model from the passages below. Every sentence was checked against the sentences it "
                "cites: names and numbers must be in them, its words covered, its meaning close. A sentence that did "
                "not hold is replaced by the sentences it cited, quoted.")


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_written(generated: Generated, cards: Sequence[Card], turn: int, writing: bool = False) -> str:
    """The written answer (so far, when `writing`): its sentences with markers numbered as the
    cards are, and a line saying who wrote it and how it was checked."""
    by_rank = {card.passage.rank: card for card in cards}
    items = []
    for sentence in generated.sentences:
        items += _items(sentence, by_rank, turn)
    if writing:
        head = (f'<div class="writing" title="{_escape(WRITTEN_HELP)}">{_escape(generated.model or "Your model")} is '
                "writing the answer; each sentence appears once it is checked against the passage it cites…</div>")
    else:
        head = (f'<div class="written-by" title="{_escape(WRITTEN_HELP)}">Written by {_escape(generated.model)}; '
                "every sentence checked against the sentences it cites.</div>")
    listed = f'<ul class="answer-sentences written">{"".join(items)}</ul>' if items else ""
    return head + listed


def _items(sentence: GeneratedSentence, by_rank: dict[int, Card], turn: int) -> list[str]:
    if sentence.shown_as == "written":
        marks = "".join(_marker(by_rank[rank], _span(sentence, rank, by_rank[rank]), turn)
                        for rank in sentence.citations if rank in by_rank)
        return [f'<li dir="auto">{_escape(sentence.text)} {marks}</li>']
    if sentence.shown_as == "evidence":
        out = []
        for span in sentence.evidence:
            card = by_rank.get(span.rank)
            mark = _marker(card, (span.start, span.end), turn) if card else ""
            out.append(f'<li class="quoted" dir="auto" title="{_escape(_quoted_help(sentence))}">'
                       f'<span class="quoted-label">quoted</span> “{_escape(span.text)}” {mark}</li>')
        return out
    return []


def _quoted_help(sentence: GeneratedSentence) -> str:
    if sentence.reason == KEPT:
        return "Quoted from the article: a sentence of the answer copied from the articles, which your model's answer left out."
    return f"Your model wrote “{sentence.text}”, which did not hold ({sentence.reason}); these are the sentences it cited."


def _span(sentence: GeneratedSentence, rank: int, card: Card) -> tuple[int, int]:
    """The characters to highlight for a citation: the evidence sentences of that passage."""
    spans = [(e.start, e.end) for e in sentence.evidence if e.rank == rank]
    if not spans:
        return card.passage.citation.start, card.passage.citation.end
    return min(a for a, _ in spans), max(b for _, b in spans)


def _marker(card: Card, span: tuple[int, int], turn: int) -> str:
    c = card.passage.citation
    return (f'<a href="#" class="marker" data-doc="{_escape(c.doc_id)}" data-start="{int(span[0])}" '
            f'data-end="{int(span[1])}" data-number="{card.number}" data-turn="{int(turn)}" '
            f'title="Show the sentences it rests on">[{card.number}]</a>')


def render_fallback(generated: Generated) -> str:
    """Why the extractive answer is shown instead of the written one."""
    return f'<div class="written-fallback" dir="auto">{_escape(generated.fallback)}</div>'
