"""Rerank signals that look inside passages, beyond the whole-passage scores.

- sentence coverage: the share of the question's words found together in one sentence (or one
  "..."-separated fragment): words scattered over a long passage are weaker evidence;
- answer type: factoid questions announce what they want ("when" → a date, "who" → a name,
  "how much" → a number); a passage with nothing of that kind cannot answer.
"""

from __future__ import annotations

import re

from rag.ingest.sentences import paragraph_spans, sentence_spans
from rag.text import word_tokens

_FRAGMENT_BREAK = re.compile(r"\s(?:\.\.\.|…|·)\s")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{4}}|(?:1[89]|20)\d\d)\b|\b(?:last|next|this) (?:year|month|week)\b", re.I)
_NUMBER = re.compile(r"[$€£]?\d[\d,.]*(?:\s*(?:%|per cent|percent|billion|million|bn|thousand))?", re.I)
_NAME = re.compile(r"\b[A-Z][\w'’.-]+(?:\s+(?:(?:de|van|von|al|bin|el)[ -])?[A-Z][\w'’.-]+)+")

ANSWER_TYPES = ("date", "number", "name")


def passage_pieces(text: str) -> list[str]:
    """Sentences of a passage, with snippet fragments ("a ... b") split apart."""
    pieces: list[str] = []
    for p_start, p_end in paragraph_spans(text):
        for start, end in sentence_spans(text, p_start, p_end):
            sentence = text[start:end]
            parts = [p for p in _FRAGMENT_BREAK.split(sentence) if len(p.split()) >= 3]
            pieces.extend(parts or [sentence])
    return pieces or [text]


def sentence_coverage(query_terms: set[str], passage: str, tokenize) -> float:
    """Largest share of the query's terms that one piece of the passage holds (0 to 1)."""
    if not query_terms:
        return 0.0
    return max(len(query_terms & set(tokenize(piece))) / len(query_terms) for piece in passage_pieces(passage))


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


def has_answer_type(passage: str, answer_type: str | None, question: str) -> bool:
    """True when the passage holds something of the wanted type that the question does not."""
    if answer_type is None:
        return True
    asked = set(word_tokens(question))
    if answer_type == "date":
        return any(set(word_tokens(m.group())) - asked for m in _DATE.finditer(passage))
    pattern = _NUMBER if answer_type == "number" else _NAME
    return any(set(word_tokens(m.group())) - asked for m in pattern.finditer(passage)
               if answer_type == "name" or any(ch.isdigit() for ch in m.group()))
