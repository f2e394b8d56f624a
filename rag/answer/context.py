"""Sentences with their place in the article, for answers that look beyond one passage.

A passage's sentences are placed in its article by the citation's offsets. When the article
text is available (a callable, so this module never touches the index), the sentences around
the passages are added too, so an explanation just before an event can be found even when
retrieval returned only the passage holding the event. A sentence used from outside the
retrieved passages is cited to a passage made for it: its paragraph, with exact offsets.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Callable

from rag.ingest.sentences import paragraph_spans, piece_spans
from rag.types import Document, FilePosition, Passage

ArticleLookup = Callable[[str], "Document | None"]



@dataclass(frozen=True)
class Placed:
    """A sentence at article offsets [start, end); `passage_rank` is None outside the passages."""

    text: str
    doc_id: str
    start: int
    end: int
    passage_rank: int | None


def passage_sentences(passages: list[Passage]) -> list[Placed]:
    """Every sentence of the passages, once (overlapping passages share sentences: the best
    ranked passage keeps it), in passage order."""
    seen: set[tuple[str, int]] = set()
    placed: list[Placed] = []
    for passage in passages:
        base = passage.citation.start
        for start, end in piece_spans(passage.text):
            key = (passage.citation.doc_id, base + start)
            if key in seen:
                continue
            seen.add(key)
            placed.append(Placed(passage.text[start:end], passage.citation.doc_id, base + start, base + end,
                                 passage.rank))
    return placed


def article_orders(placed: list[Placed], article: ArticleLookup | None, reach: int
                   ) -> tuple[list[Placed], list[int], dict[str, Document]]:
    """The passages' sentences plus up to `reach` article sentences either side of each
    passage, with each sentence's order in its article (consecutive sentences differ by 1).

    Without the article text the order is only known within the passages: a gap between two
    passages counts as farther than `reach`.
    """
    documents: dict[str, Document] = {}
    if article is not None:
        for doc_id in dict.fromkeys(p.doc_id for p in placed):
            document = article(doc_id)
            if document is not None:
                documents[doc_id] = document
    extra: list[Placed] = []
    orders: dict[int, int] = {}
    for doc_id in dict.fromkeys(p.doc_id for p in placed):
        own = [i for i, p in enumerate(placed) if p.doc_id == doc_id]
        document = documents.get(doc_id)
        if document is None:
            order, previous_end = 0, None
            for i in sorted(own, key=lambda i: placed[i].start):
                gap = previous_end is not None and document_gap(placed[i].start, previous_end)
                order += (reach + 2) if gap else 1
                orders[i] = order
                previous_end = placed[i].end
            continue
        spans = piece_spans(document.text)
        starts = [s for s, _ in spans]
        used: set[int] = set()
        for i in own:
            index = max(0, bisect_right(starts, placed[i].start) - 1)
            orders[i] = index
            used.add(index)
        wanted = {n for index in used for n in range(index - reach, index + reach + 1) if 0 <= n < len(spans)}
        for n in sorted(wanted - used):
            start, end = spans[n]
            if len(document.text[start:end].split()) < 4:
                continue  # as for the passages' sentences: too short to explain anything
            extra.append(Placed(document.text[start:end], doc_id, start, end, None))
            orders[len(placed) + len(extra) - 1] = n
    everything = placed + extra
    return everything, [orders[i] for i in range(len(everything))], documents


def document_gap(start: int, previous_end: int) -> bool:
    """True when text lies between a sentence ending at `previous_end` and one starting at
    `start` (more than whitespace between them: a passage was not retrieved)."""
    return start - previous_end > 3


def cite_outside(sentence: Placed, document: Document, template: Passage, rank: int) -> Passage:
    """A passage citing `sentence` (from outside the retrieved passages): its paragraph in the
    article, with exact offsets, carrying the article's metadata from `template` (a retrieved
    passage of the same article)."""
    start, end = next(((a, b) for a, b in paragraph_spans(document.text) if a <= sentence.start and sentence.end <= b),
                      (sentence.start, sentence.end))
    citation = replace(template.citation, start=start, end=end, file=FilePosition.of(document, start, end))
    return Passage(rank, document.text[start:end], 0.0, citation)
