"""How values read on the page: dates as people write them, positions in a file that mean
something, and key words as they are written in the passage rather than as the index stems them.

Pure functions over plain values; ui/handlers.py escapes what they return.
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex
from typing import Iterable, Sequence

from rag.dates import parse_date
from rag.language.tokens import SNOWBALL, fold, snowball_stemmer, words
from rag.types import Citation

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
# A word as written (letters and marks of any script), with inner apostrophes ("Sadr’s") and
# decimal parts ("1,200.5") kept, so that it tokenizes exactly as the index saw it.
_WRITTEN_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:['’‘ʼ][\p{L}\p{M}\p{N}]+)*(?:[.,]\p{N}+)*")
_POSSESSIVE = re.compile(r"['’‘ʼ]s$", re.IGNORECASE)


def readable_date(value: str) -> str:
    """"3 May 2024" for a date with a day (ISO, a feed's, in words), "May 2024" for a year and
    month, a year as it is, anything else as given (rag.dates reads them)."""
    text = (value or "").strip()
    parsed = parse_date(text)
    if parsed is None:
        return text
    day, precision = parsed
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


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
    """The terms the keyword index may hold for `word`: stemmed (in any language a Snowball
    stemmer knows: the matched term may be another language's variant) or not."""
    forms = {fold(w) for w in words(word)}
    for language in SNOWBALL:
        stemmer = snowball_stemmer(language)
        forms.update(fold(stemmer.stemWord(w)) for w in words(word))
    return frozenset(forms)


def _without_possessive(word: str, term: str) -> str:
    """"Sadr’s" shown as "Sadr" when that alone gives the same term."""
    bare = _POSSESSIVE.sub("", word)
    return bare if bare != word and term in _index_forms(bare) else word
