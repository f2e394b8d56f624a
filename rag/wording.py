"""How values read on the page: dates as people write them, positions in a file that mean
something, and key words as they are written in the passage rather than as the index stems them.

Pure functions over plain values; ui/handlers.py escapes what they return.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Iterable, Sequence

from rag.text import keyword_tokens
from rag.types import Citation

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")
# A word as written, with inner apostrophes ("Sadr’s") and decimal parts ("1,200.5") kept, so
# that it tokenizes exactly as the index saw it.
_WRITTEN_WORD = re.compile(r"\w+(?:['’‘ʼ]\w+)*(?:[.,]\d+)*")
_POSSESSIVE = re.compile(r"['’‘ʼ]s$", re.IGNORECASE)


def readable_date(value: str) -> str:
    """"3 May 2024" for ISO dates and timestamps ("2024-05-03T09:00:00Z") and feed dates
    ("Fri, 03 May 2024 09:00:00 GMT"); "May 2024" for a year and month; anything else as given.
    The day is the one written in the date (no time-zone conversion); the time is left out."""
    text = (value or "").strip()
    if not text:
        return ""
    if re.fullmatch(r"\d{4}", text):
        return text
    if (month := _YEAR_MONTH.fullmatch(text)) and 1 <= int(month.group(2)) <= 12:
        return f"{MONTHS[int(month.group(2)) - 1]} {month.group(1)}"
    parsed: date | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return text
    return f"{parsed.day} {MONTHS[parsed.month - 1]} {parsed.year}"


def describe_location(citation: Citation) -> str:
    """Where the passage is, in words a reader can use (see Citation.location)."""
    return citation.location()


def title_tooltip(title: str) -> str:
    """The tooltip of a title the page may cut: the whole title, and, when the title ends in "…"
    as it came from the file (archive pages cut long titles), a word that nothing more exists."""
    title = title.strip()
    if title.endswith(("…", "...")):
        return f"{title} (the title is cut short in the file itself)"
    return title


def written_key_words(terms: Sequence[str], *texts: str) -> tuple[str, ...]:
    """Each matched key word as first written in `texts` (the passage, then its title): the
    index's stem "erupt" becomes "erupted", "sadr" becomes "Sadr". A term found nowhere stays
    as it is. Works whether or not the index stems (a word matches in either form)."""
    wanted = list(dict.fromkeys(terms))
    found: dict[str, str] = {}
    for word in _written_words(texts):
        for term in _index_forms(word):
            if term in wanted and term not in found:
                found[term] = _without_possessive(word, term)
        if len(found) == len(wanted):
            break
    return tuple(found.get(term, term) for term in terms)


def _written_words(texts: Iterable[str]) -> Iterable[str]:
    for text in texts:
        for match in _WRITTEN_WORD.finditer(text or ""):
            yield match.group()


@lru_cache(maxsize=4096)
def _index_forms(word: str) -> frozenset[str]:
    """The terms the keyword index may hold for `word`: stemmed or not."""
    return frozenset(keyword_tokens(word, stemming=True)) | frozenset(keyword_tokens(word, stemming=False))


def _without_possessive(word: str, term: str) -> str:
    """"Sadr’s" shown as "Sadr" when that alone gives the same term."""
    bare = _POSSESSIVE.sub("", word)
    return bare if bare != word and term in _index_forms(bare) else word
