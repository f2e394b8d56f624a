"""The extractive answer: sentences copied verbatim from the passages, each citing its passage."""

from __future__ import annotations

import numpy as np

from embeddings.base import Embedder
from rag.ingest.sentences import sentence_spans
from rag.types import AnswerSentence, Passage


def extract_answer(question_vector: np.ndarray, question_terms: set[str], passages: list[Passage],
                   embedder: Embedder, tokens, max_sentences: int) -> tuple[AnswerSentence, ...]:
    """Up to `max_sentences` sentences that best answer the question, best first.

    A sentence scores by its similarity to the question, the share of the question's words it
    contains, and the rank of its passage; weak sentences (under 60% of the best) are left out.
    """
    candidates: list[tuple[str, int]] = []
    for passage in passages:
        for start, end in sentence_spans(passage.text):
            sentence = passage.text[start:end]
            if len(sentence.split()) >= 4:
                candidates.append((sentence, passage.rank))
    if not candidates:
        return ()
    vectors = embedder.embed([s for s, _ in candidates])
    similarity = vectors @ question_vector
    overlap = np.array([
        len(question_terms & set(tokens(s))) / len(question_terms) if question_terms else 0.0
        for s, _ in candidates
    ])
    rank_prior = np.array([1.0 / (1.0 + 0.1 * (rank - 1)) for _, rank in candidates])
    score = (0.6 * similarity + 0.4 * overlap) * rank_prior
    chosen: list[AnswerSentence] = []
    seen: set[str] = set()
    for i in np.argsort(-score, kind="stable"):
        if len(chosen) == max_sentences or score[i] < 0.6 * score.max():
            break
        sentence, rank = candidates[i]
        if sentence not in seen:
            seen.add(sentence)
            chosen.append(AnswerSentence(sentence, rank))
    return tuple(chosen)
