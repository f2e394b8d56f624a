"""The extractive answer: sentences copied verbatim from the passages, each citing its passage."""

from __future__ import annotations

import numpy as np

from embeddings.base import Embedder
from rag.retrieve.rerank import answer_type_score, expected_answer_type, passage_pieces
from rag.types import AnswerSentence, Passage


def extract_answer(query: str, question_vector: np.ndarray, question_terms: set[str], passages: list[Passage],
                   embedder: Embedder, tokens, max_sentences: int) -> tuple[AnswerSentence, ...]:
    """Up to `max_sentences` sentences that best answer the question, best first.

    A sentence (or a "..."-separated fragment of a snippet) scores by its similarity to the
    question, the share of the question's words it contains, whether it holds the kind of thing
    the question asks for, and the rank of its passage; weak ones (under 60% of the best) are
    left out.
    """
    candidates: list[tuple[str, int]] = []
    for passage in passages:
        for sentence in passage_pieces(passage.text):
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
    wanted = expected_answer_type(query)
    typed = np.array([answer_type_score(s, wanted, query) for s, _ in candidates])
    # A sentence without the kind of thing the question asks for (a date for "when") is half as good.
    score = (0.6 * similarity + 0.4 * overlap) * rank_prior * (0.5 + 0.5 * typed)
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
