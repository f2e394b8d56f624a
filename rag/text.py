"""Text normalisation shared by keyword search, answer matching and evaluation."""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "ʼ": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"'})
_SPACE = re.compile(r"\s+")


def straighten_quotes(text: str) -> str:
    """Curly quotes to straight ones and … to ..., keeping the length of every other character."""
    return text.translate(_QUOTES).replace("…", "...")


def normalize_for_match(text: str) -> str:
    """The shared eval rule: straight quotes, no apostrophes, one space, lowercase."""
    text = straighten_quotes(text).replace("'", "")
    return _SPACE.sub(" ", text).strip().lower()


def answer_found(answers: list[str] | tuple[str, ...], passage_text: str) -> bool:
    """True when any expected answer string occurs in the passage under the eval rule."""
    haystack = normalize_for_match(passage_text)
    return any(normalize_for_match(a) and normalize_for_match(a) in haystack for a in answers)


# Words that carry no topic: question words, auxiliaries, pronouns, articles, prepositions.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves s t don doesn didn wasn weren isn aren won wouldn
also tell told say said says according many much get got
""".split())


def word_tokens(text: str) -> list[str]:
    """Lowercase words of any script with apostrophes dropped, so "Sadr's" and "Sadrs" are one
    token (rag.language.tokens.words: unfolded, unstemmed)."""
    from rag.language.tokens import words

    return words(text)


def content_tokens(text: str) -> list[str]:
    """`word_tokens` without (English) stopwords."""
    return [t for t in word_tokens(text) if t not in STOPWORDS]


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow text[start:end] so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def keyword_tokens(text: str, stemming: bool = True, language: str = "en") -> list[str]:
    """What keyword search indexes and queries (every backend): content words of `language`,
    apostrophes dropped ("Sadr's" = "Sadrs"), Snowball-stemmed when asked, diacritics folded
    (rag.language.tokens)."""
    from rag.language.tokens import keyword_tokens as tokens

    return tokens(text, stemming, language)
