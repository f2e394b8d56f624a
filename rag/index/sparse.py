"""Keyword tokens, where the index code has always imported them from (they live in rag.text)."""

from rag.text import keyword_tokens

__all__ = ["keyword_tokens"]
