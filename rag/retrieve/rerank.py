"""Rerank signals that look inside passages, beyond the whole-passage scores.

- sentence coverage: the share of the question's words found together in one sentence (or one
  "..."-separated fragment): words scattered over a long passage are weaker evidence;
- answer type: factoid questions announce what they want ("when" → a date, "who" → a name,
  "how much" → a number); a passage with nothing of that kind cannot answer, and for "when" a
  full date answers better than a bare year. A dateline opening a passage ("May 29, 2021 ...",
  "3 days ago ...") says when it was published, not when the thing happened, so it does not count.
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.ingest.sentences import paragraph_spans, sentence_spans
from rag.text import word_tokens

_FRAGMENT_BREAK = re.compile(r"\s(?:\.\.\.|…|·)\s")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_FULL_DATE = rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
_PARTIAL_DATE = rf"{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\s+{_MONTH}"
_DATE = re.compile(
    rf"\b(?:{_FULL_DATE}|{_MONTH}\s+\d{{4}}|(?:1[89]|20)\d\d)\b|\b(?:last|next|this) (?:year|month|week)\b", re.I)
# Dates by how precisely they answer "when", most precise first.
_DATE_PRECISION = ((re.compile(rf"\b(?:{_FULL_DATE})\b", re.I), 1.0),
                   (re.compile(rf"\b(?:{_PARTIAL_DATE})\b", re.I), 0.8),
                   (_DATE, 0.5))
_DATELINE = re.compile(rf"\s*(?:{_FULL_DATE}|\d+\s+(?:minutes?|hours?|days?|weeks?)\s+ago)\s*(?:\.\.\.|…|—|–|-)", re.I)
_NUMBER = re.compile(r"[$€£]?\d[\d,.]*(?:\s*(?:%|per cent|percent|billion|million|bn|thousand))?", re.I)
_NAME = re.compile(r"\b[A-Z][\w'’.-]+(?:\s+(?:(?:de|van|von|al|bin|el)[ -])?[A-Z][\w'’.-]+)+")

ANSWER_TYPES = ("date", "number", "name")


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


def expected_answer_type(question: str) -> str | None:
    """"date", "number", "name", or None when the question does not say (why, how, what happened)."""
    q = question.strip().lower()
    if re.match(r"(when|what year|what date|what time)\b", q) or (
            q.startswith("what") and re.search(r"\b(date|year)\b", q)):
        return "date"
    if re.match(r"how (much|many|long|old|far)\b", q) or re.search(r"\b(revenue|price|cost|population)\b", q):
        return "number"
    if re.match(r"(who|whom|whose|where)\b", q) or re.match(r"which (city|country|team|company|person|player|film|movie)\b", q):
        return "name"
    return None


def answer_type_score(passage: str, answer_type: str | None, question: str) -> float:
    """How well the passage holds something of the wanted type that the question does not:
    1.0 (or less for an imprecise date) when it does, 0.0 when it does not; 1.0 for untyped
    questions."""
    if answer_type is None:
        return 1.0
    asked = set(word_tokens(question))

    def new(match: re.Match) -> bool:
        return bool(set(word_tokens(match.group())) - asked)

    if answer_type == "date":
        dateline = _DATELINE.match(passage)
        body = passage[dateline.end():] if dateline else passage
        return max((score for pattern, score in _DATE_PRECISION if any(map(new, pattern.finditer(body)))),
                   default=0.0)
    if answer_type == "number":
        return float(any(new(m) for m in _NUMBER.finditer(passage) if any(ch.isdigit() for ch in m.group())))
    return float(any(new(m) for m in _NAME.finditer(passage)))
