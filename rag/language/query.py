"""A question's key words for an index of articles in several languages.

An article's tokens come from its own language's analyzer. A question word is matched against
all of them: it becomes one group of variants, its stem in each language the index holds (a
German article indexes "Müller" as "mull", an English one as "muller", and the English question
"Muller" finds both). Stop words are the question's own language's. For an index in one language
each group has one variant: exactly the tokens of that language's analyzer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from rag.language.tokens import analyzer, fold, snowball_stemmer, stopwords, words


@dataclass(frozen=True)
class QueryTerms:
    """The key words of a question: one group of variants per word, in question order."""

    groups: tuple[tuple[str, ...], ...]
    language: str  # the question's language
    languages: tuple[str, ...]  # the index's languages the variants are made for

    @property
    def flat(self) -> list[str]:
        """Every variant once, in order: what keyword search looks for."""
        return list(dict.fromkeys(t for group in self.groups for t in group))

    stemming: bool = True

    def passage_tokens(self, text: str) -> set[str]:
        """A passage's tokens as each of the index's languages would index them (its own
        language's among them), so that a variant is found in it wherever search found it."""
        return set().union(*(analyzer(lang, self.stemming).tokens(text) for lang in self.languages))

    def tokenize(self, text: str) -> list[str]:
        """A sentence's tokens for matching against the question (`passage_tokens`, in order)."""
        seen = dict.fromkeys(t for lang in self.languages for t in analyzer(lang, self.stemming).tokens(text))
        return list(seen)


def query_terms(question: str, question_language: str, languages: Sequence[str], stemming: bool = True) -> QueryTerms:
    """The question's key words (see the module docstring); `languages`: the index's, most
    articles first (empty: the question's own)."""
    languages = tuple(dict.fromkeys(languages)) or (question_language,)
    stop = stopwords(question_language)
    groups: list[tuple[str, ...]] = []
    for word in words(question):
        if fold(word) in stop:
            continue
        variants = tuple(dict.fromkeys(v for lang in languages for v in _stem(word, lang, stemming)))
        if variants and variants not in groups:
            groups.append(variants)
    return QueryTerms(tuple(groups), question_language, languages, stemming)


def _stem(word: str, language: str, stemming: bool) -> Iterable[str]:
    """The word's token in `language` (its stem, folded), without that language's stop list."""
    stemmer = snowball_stemmer(language) if stemming else None
    return [fold(stemmer.stemWord(word) if stemmer is not None else word)]


def group_coverage(groups: Sequence[tuple[str, ...]], passage_tokens: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's word groups the passage holds: a group counts when
    any variant occurs in it, and weighs its lowest IDF (a variant no chunk holds has the
    highest, so a word weighs what the form the index holds weighs; a word held in no form
    weighs the most). With one variant a group, the keyword coverage of the abstention gate."""
    weights = [(min(idf.get(t, 0.0) for t in group), any(t in passage_tokens for t in group)) for group in groups]
    total = sum(w for w, _ in weights)
    return sum(w for w, covered in weights if covered) / total if total > 0 else 0.0
