"""Keyword tokens: what keyword search (every backend) indexes and queries."""

from __future__ import annotations

from functools import lru_cache

from rag.text import content_tokens


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def keyword_tokens(text: str, stemming: bool = True) -> list[str]:
    """Content words, apostrophes dropped ("Sadr's" = "Sadrs"), stemmed when asked."""
    tokens = content_tokens(text)
    return _stemmer().stemWords(tokens) if stemming and tokens else tokens
