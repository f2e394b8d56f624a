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


def should_abstain(evidence: Evidence, settings: AnswerSettings) -> tuple[bool, str]:
    """(abstain?, why): abstain when similarity + keyword coverage is below `min_evidence`."""
    if evidence.strength >= settings.min_evidence:
        return False, ""
    return True, (
        f"no passage matches well enough: best similarity {evidence.dense_similarity:.2f} "
        f"+ key-word coverage {evidence.keyword_coverage:.2f} = {evidence.strength:.2f}, "
        f"below {settings.min_evidence:.2f}"
    )
