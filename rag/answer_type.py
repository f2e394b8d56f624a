"""What a factoid question asks for, and whether a passage holds it: "when" wants a date, "who"
a name, "how much" a number. A passage with nothing of that kind cannot answer, and for "when" a
full date answers better than a bare year. A dateline opening a passage ("May 29, 2021 ...",
"3 days ago ...") says when it was published, not when the thing happened, so it does not count.
Used by the reranker (rag.retrieve.rerank) and the extractive answer (rag.answer.extract).
"""

from __future__ import annotations

import re

from rag.text import word_tokens

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
