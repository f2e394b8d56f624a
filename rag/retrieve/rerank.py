"""Rerank signals that look inside passages, beyond the whole-passage scores.

- sentence coverage: the share of the question's words found together in one sentence (or one
  "..."-separated fragment): words scattered over a long passage are weaker evidence;
- answer type: factoid questions announce what they want (rag.answer_type).
"""

from __future__ import annotations

from typing import Sequence

from rag.ingest.sentences import passage_pieces


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
