"""Decide when the articles do not answer a question, instead of citing noise.

The evidence is the agreement of two signals: the best passage's cosine similarity to the
question (meaning) plus the share of the question's key words, weighted by rarity, that one
passage holds (words). Either alone separates poorly; their sum separates answerable questions
from questions about something else entirely (see README, "Abstention"). It cannot tell a
question the articles touch but do not answer ("When was Sadr born?" over articles about Sadr):
that needs a reading model, which this offline extractive design does not have.
"""

from __future__ import annotations

from rag.config import AnswerSettings
from rag.types import Evidence


def keyword_coverage(query_terms: list[str], passage_terms: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the query's terms that occur in the passage (0 with no terms)."""
    weights = {t: idf.get(t, 0.0) for t in set(query_terms)}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in passage_terms) / total if total > 0 else 0.0


def should_abstain(evidence: Evidence, settings: AnswerSettings, similarity_counts: bool = True,
                   words_only_coverage: float | None = None) -> tuple[bool, str]:
    """(abstain?, why): abstain when similarity + keyword coverage is below `min_evidence`.

    The similarity is evidence only where the embedding model knows the languages of the
    question and of the passage. Passages where it does not are judged by their key words
    alone: `words_only_coverage` is the best coverage among them, enough at
    `min_keyword_coverage`. With `similarity_counts` false every passage is such a one."""
    if similarity_counts and evidence.strength >= settings.min_evidence:
        return False, ""
    if words_only_coverage is not None and words_only_coverage >= settings.min_keyword_coverage:
        return False, ""
    if not similarity_counts:
        return True, (f"no passage holds enough of the question's key words: key-word coverage "
                      f"{evidence.keyword_coverage:.2f}, below {settings.min_keyword_coverage:.2f} (the "
                      "embedding model does not know these languages, so similarity does not count)")
    return True, (
        f"no passage matches well enough: best similarity {evidence.dense_similarity:.2f} "
        f"+ key-word coverage {evidence.keyword_coverage:.2f} = {evidence.strength:.2f}, "
        f"below {settings.min_evidence:.2f}"
    )
