"""Follow-up questions: "why did he cancel it?" is searched with the subject of the turn before."""

from __future__ import annotations

import re

from rag.text import content_tokens, word_tokens

_ANAPHORA = frozenset("he she him her his hers they them their theirs it its this that these those "
                      "there then such".split())
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+")


def needs_context(question: str) -> bool:
    """True for a question that leans on an earlier turn: it uses a pronoun and names nobody,
    or it has almost no words of its own ("and in 2035?")."""
    words = word_tokens(question)
    if not words:
        return False
    names_someone = bool(_NAME.search(question.strip()))
    has_anaphora = any(w in _ANAPHORA for w in words)
    return (has_anaphora and not names_someone) or len(content_tokens(question)) <= 1


def resolve_followup(question: str, history: list[str]) -> str:
    """The query to search for `question`, given the earlier questions of the chat (oldest first).

    Each earlier question is resolved the same way, so a chain of follow-ups keeps its subject.
    """
    context = ""
    for earlier in history:
        context = _with_context(earlier, context)
    return _with_context(question, context)


def _with_context(question: str, context: str) -> str:
    if not context or not needs_context(question):
        return question
    subject = " ".join(dict.fromkeys(content_tokens(context)))
    return f"{subject} {question}".strip()
