"""Rerank signals that look inside passages, beyond the whole-passage scores.

- sentence coverage: the share of the question's words found together in one sentence (or one
  "..."-separated fragment): words scattered over a long passage are weaker evidence;
- answer type: factoid questions announce what they want (rag.answer_type).
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.ingest.sentences import paragraph_spans, sentence_spans

_FRAGMENT_BREAK = re.compile(r"\s(?:\.\.\.|…|·)\s")

def piece_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a passage, with snippet fragments ("a ... b") split
    apart; the whole passage when it has none."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in paragraph_spans(text):
        for start, end in sentence_spans(text, p_start, p_end):
            parts, at = [], start
            for brk in _FRAGMENT_BREAK.finditer(text, start, end):
                parts.append((at, brk.start()))
                at = brk.end()
            parts.append((at, end))
            kept = [(a, b) for a, b in parts if len(text[a:b].split()) >= 3]
            spans.extend(kept if len(parts) > 1 and kept else [(start, end)])
    return spans or [(0, len(text))]


def passage_pieces(text: str) -> list[str]:
    """Sentences of a passage, with snippet fragments ("a ... b") split apart."""
    return [text[a:b] for a, b in piece_spans(text)]


def sentence_coverage(groups: Sequence[tuple[str, ...]], passage: str, tokenize) -> float:
    """Largest share of the query's words (groups of variants, rag.language.query) that one
    piece of the passage holds (0 to 1)."""
    return piece_coverage(groups, [tokenize(piece) for piece in passage_pieces(passage)])


def piece_coverage(groups: Sequence[tuple[str, ...]], piece_tokens) -> float:
    """`sentence_coverage` from the pieces' tokens (as stored at ingest): a word counts when any
    of its variants is in the piece."""
    if not groups:
        return 0.0
    best = 0
    for tokens in piece_tokens:
        held = set(tokens)
        best = max(best, sum(1 for group in groups if not held.isdisjoint(group)))
    return best / len(groups)
