"""The extractive answer: sentences copied verbatim from the passages, each citing its passage.

Most questions get the sentences that best match them. Why, how and what-happened-after
questions get the explanation first and the event after it (rag.answer.explain); when the
articles report the event but nothing near it explains it, the answer says so in `note`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from rag.answer.context import ArticleLookup, Placed, article_orders, cite_outside, passage_sentences
from rag.answer.cues import asks_significance
from rag.answer.explain import Unit, explain, question_kind
from rag.answer.ranker import Ranker
from rag.answer_type import answer_type_score, expected_answer_type
from rag.ingest.sentences import passage_pieces
from rag.types import AnswerSentence, Passage

EmbedSentences = Callable[[list[str]], np.ndarray]  # texts -> unit vectors, one row per text
Tokenize = Callable[[str], list[str]]

# How many article sentences either side of each passage an explanation may come from.
_CONTEXT_REACH = 5
_MISSING = {"why": "why", "how": "how", "after": "what happened after it"}


@dataclass(frozen=True)
class Extraction:
    """The answer sentences; `note` says what the articles do not tell (empty when nothing is
    missing); `added_passages` are passages made to cite sentences found in the article around a
    retrieved passage (ranked after the retrieved ones)."""

    sentences: tuple[AnswerSentence, ...] = ()
    note: str = ""
    added_passages: tuple[Passage, ...] = ()


def extract_answer(query: str, question_vector: np.ndarray, question_terms: set[str], passages: list[Passage],
                   embed_sentences: EmbedSentences, tokens: Tokenize, max_sentences: int,
                   article: ArticleLookup | None = None, ranker: Ranker | None = None) -> Extraction:
    """Up to `max_sentences` sentences that answer the question, best first.

    `embed_sentences` is the one way sentences are embedded (so they may come from storage);
    `article(doc_id)` returns an article's full text, to look at the sentences around a
    passage (optional: without it only the passages' own sentences are used). `ranker` orders
    the sentences of an explanation (rag.answer.ranker); without it the rules' scores do.
    """
    kind = question_kind(query)
    if kind is not None:
        explained = _explain(kind, query, question_vector, question_terms, passages, embed_sentences, tokens,
                             max_sentences, article, ranker)
        if explained is not None:
            return explained
    return Extraction(_best_matching(query, question_vector, question_terms, passages, embed_sentences, tokens,
                                     max_sentences))


def _best_matching(query: str, question_vector: np.ndarray, question_terms: set[str], passages: list[Passage],
                   embed_sentences: EmbedSentences, tokens: Tokenize, max_sentences: int
                   ) -> tuple[AnswerSentence, ...]:
    """The sentences that best match the question.

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
    vectors = embed_sentences([s for s, _ in candidates])
    similarity = vectors @ question_vector
    overlap = np.array([_overlap(question_terms, s, tokens) for s, _ in candidates])
    rank_prior = np.array([_rank_prior(rank) for _, rank in candidates])
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


def _overlap(question_terms: set[str], sentence: str, tokens: Tokenize) -> float:
    return len(question_terms & set(tokens(sentence))) / len(question_terms) if question_terms else 0.0


def _rank_prior(rank: int) -> float:
    return 1.0 / (1.0 + 0.1 * (rank - 1))


def _explain(kind: str, query: str, question_vector: np.ndarray, question_terms: set[str], passages: list[Passage],
             embed_sentences: EmbedSentences, tokens: Tokenize, max_sentences: int,
             article: ArticleLookup | None, ranker: Ranker | None) -> Extraction | None:
    """The explanation first, then the event; the event alone with a note when nothing explains
    it. None when the passages have no sentence to work with."""
    placed = [p for p in passage_sentences(passages) if len(p.text.split()) >= 4]
    if not placed:
        return None
    vectors = embed_sentences([p.text for p in placed])
    similarity = vectors @ question_vector
    relevance = [(0.6 * float(similarity[i]) + 0.4 * _overlap(question_terms, p.text, tokens))
                 * _rank_prior(p.passage_rank or 1) for i, p in enumerate(placed)]
    everything, orders, documents = article_orders(placed, article, _CONTEXT_REACH)
    units = [Unit(p.text, p.doc_id, order, can_be_event=i < len(placed))
             for i, (p, order) in enumerate(zip(everything, orders))]
    relevance += [0.0] * (len(everything) - len(placed))
    chosen = explain(kind, units, relevance, max_sentences, lambda text: _overlap(question_terms, text, tokens),
                     ranker, frozenset(question_terms), tokens, asks_significance(query))
    if chosen is None:
        return None
    added: dict[tuple[str, int], Passage] = {}
    sentences = []
    for i in chosen.sentences:
        sentence = everything[i]
        if sentence.passage_rank is not None:
            sentences.append(AnswerSentence(sentence.text, sentence.passage_rank))
            continue
        cited = _cite_added(sentence, documents, passages, added, len(passages) + 1)
        if cited is not None:
            sentences.append(AnswerSentence(sentence.text, cited.rank))
    # Room left after the explanation and its event (or after the event alone, when no sentence
    # states a reason in words the cues know) goes to the sentences that best match the question,
    # as for any other question (same cut-off: 60% of the best): an explanation worded without
    # any cue ("engineers traced the blackout to a cracked bearing") is often one of them.
    used = {s.sentence for s in sentences}
    relevant = [i for i in range(len(placed)) if relevance[i] >= 0.6 * max(relevance)]
    for i in sorted(relevant, key=lambda i: -relevance[i]):
        if len(sentences) >= max_sentences:
            break
        if placed[i].text not in used:
            used.add(placed[i].text)
            sentences.append(AnswerSentence(placed[i].text, placed[i].passage_rank))
    note = ""
    event = everything[chosen.event]
    if not chosen.explained and all(placed[i].text == event.text for i in relevant):
        # Nothing but the event matches the question, and nothing states the reason in words the
        # cues know. That is not evidence that the articles do not tell (on the why sets the cause
        # was in the passages almost every time such a note was written: README, "Quality"), so
        # the note says what the system could not find, and sends the reader to the passages.
        note = (f"No sentence here states {_MISSING[kind]} in words this system recognises; "
                f"the passages may still say it: “{_shorten(event.text)}” [{event.passage_rank}].")
    return Extraction(tuple(sentences), note, tuple(added.values()))


def _cite_added(sentence: Placed, documents: dict, passages: list[Passage],
                added: dict[tuple[str, int], Passage], first_rank: int) -> Passage | None:
    """The added passage that cites a sentence from outside the retrieved passages (one per
    paragraph, ranked after the retrieved passages and the passages added before it)."""
    document = documents.get(sentence.doc_id)
    template = next((p for p in passages if p.citation.doc_id == sentence.doc_id), None)
    if document is None or template is None:
        return None
    for passage in added.values():
        if passage.citation.doc_id == sentence.doc_id and \
                passage.citation.start <= sentence.start and sentence.end <= passage.citation.end:
            return passage
    passage = cite_outside(sentence, document, template, first_rank + len(added))
    added[(sentence.doc_id, passage.citation.start)] = passage
    return passage


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
