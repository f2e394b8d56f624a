"""Decide when the articles do not answer a question, instead of citing noise."""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import AnswerSettings


@dataclass(frozen=True)
class Evidence:
    """How well the best passages match the question, by meaning and by words."""

    dense_similarity: float  # best cosine similarity of question and passage
    keyword_coverage: float  # best share of the question's (IDF-weighted) words found in a passage


def keyword_coverage(query_terms: list[str], passage_terms: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the query's terms that occur in the passage (0 with no terms)."""
    weights = {t: idf.get(t, 0.0) for t in set(query_terms)}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in passage_terms) / total if total > 0 else 0.0


def should_abstain(evidence: Evidence, settings: AnswerSettings) -> tuple[bool, str]:
    """(abstain?, why) — answer when either signal is strong enough on its own."""
    if evidence.dense_similarity >= settings.min_dense_similarity:
        return False, ""
    if evidence.keyword_coverage >= settings.min_keyword_coverage:
        return False, ""
    return True, (
        f"no passage is close enough: best similarity {evidence.dense_similarity:.2f} "
        f"(needs {settings.min_dense_similarity:.2f}) and at most "
        f"{evidence.keyword_coverage:.0%} of the question's key words found "
        f"(needs {settings.min_keyword_coverage:.0%})"
    )
