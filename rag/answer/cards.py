"""Which passages a reader sees first, and how they are numbered: for every layer that shows an
Answer (the chat, the Markdown export, `rag ask`).

Numbers follow the answer shown (the written one when the user's model wrote it, else the
extractive one): the passage of the answer's first sentence is [1], the next passage it cites
[2], and so on; the passages the answer does not cite come after, in rank order. The
answer's own passages are always shown; the others are shown when they are close to the best
one (a relevance `score` of at least RELEVANCE_FLOOR, 1.0 being the best candidate), and folded
under "more passages" otherwise: they matched a word or two, and are there to judge, not to read.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.types import Answer, Passage

# Chosen on the sample and RGB dev sets (README, "Quality"): the passage holding the answer is
# above the fold as often as in the top 5, with fewer unrelated cards.
RELEVANCE_FLOOR = 0.7


@dataclass(frozen=True)
class Card:
    """A passage as shown: its number in the answer, whether the answer cites it, whether it
    was added for context (the paragraph around an answer sentence, not retrieved), and
    whether it is folded away."""

    number: int
    passage: Passage
    cited: bool
    context: bool
    folded: bool


def cited_ranks(answer: Answer) -> list[int]:
    """The ranks of the passages the shown answer cites, in order of first use: the written
    answer's (its sentences' citations, or their evidence's passages) when one is shown, else
    the extractive answer's."""
    generated = answer.generated
    if generated is not None and not generated.fallback:
        ranks = []
        for sentence in generated.sentences:
            if sentence.shown_as == "written":
                ranks += list(sentence.citations)
            elif sentence.shown_as == "evidence":
                ranks += [e.rank for e in sentence.evidence]
        return list(dict.fromkeys(ranks))
    return list(dict.fromkeys(s.passage_rank for s in answer.answer))


def cards(answer: Answer, floor: float = RELEVANCE_FLOOR) -> list[Card]:
    """The answer's passages in reading order (see the module docstring)."""
    cited = cited_ranks(answer)
    first_context = len(answer.passages) - answer.context_passages + 1  # ranks from here were added
    by_rank = {p.rank: p for p in answer.passages}
    order = [r for r in cited if r in by_rank] + [p.rank for p in answer.passages if p.rank not in cited]
    out = []
    for number, rank in enumerate(order, start=1):
        passage = by_rank[rank]
        is_cited = rank in cited
        folded = not is_cited and (answer.abstained or (number > 1 and passage.score < floor))
        out.append(Card(number, passage, is_cited, rank >= first_context, folded))
    return out


def numbers(answer: Answer) -> dict[int, int]:
    """The number each passage rank is shown under."""
    return {card.passage.rank: card.number for card in cards(answer)}
