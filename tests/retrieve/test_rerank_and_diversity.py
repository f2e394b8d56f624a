import numpy as np

from rag.index.sparse import keyword_tokens
from rag.retrieve.diversity import select_diverse
from rag.answer_type import answer_type_score, expected_answer_type
from rag.ingest.sentences import passage_pieces
from rag.retrieve.rerank import sentence_coverage


def test_tokens_survive_dropped_apostrophes_quotes_and_case():
    assert keyword_tokens("Sadr's guards") == keyword_tokens("SADRS guards") == keyword_tokens("Sadr’s Guards")
    assert keyword_tokens("He cancelled his itikaf") == keyword_tokens("cancel itikaf")


def test_sentence_coverage_prefers_words_found_together():
    terms = [(t,) for t in keyword_tokens("Maxwell Award 2019")]
    together = "Unrelated start. The 2019 Maxwell Award went to Joe Burrow."
    scattered = "The Maxwell family met. An award was given. It was 2019."
    assert sentence_coverage(terms, together, keyword_tokens) == 1.0
    assert round(sentence_coverage(terms, scattered, keyword_tokens), 3) == round(1 / 3, 3)


def test_a_word_counts_when_any_of_its_language_variants_is_in_the_sentence():
    groups = [("muller", "mull"), ("zurich",)]
    assert sentence_coverage(groups, "Müller flog nach Zürich.", lambda s: ["mull", "flog", "zurich"]) == 1.0
    assert sentence_coverage(groups, "Müller blieb.", lambda s: ["mull", "blieb"]) == 0.5


def test_snippet_fragments_count_as_pieces():
    assert passage_pieces("Feb 7, 2021 ... The game was in Tampa, Florida. Tickets ... sold out fast now") == [
        "Feb 7, 2021 ...", "The game was in Tampa, Florida.", "sold out fast now"]


def test_expected_answer_types():
    assert expected_answer_type("When was OpenAI founded?") == "date"
    assert expected_answer_type("What is the release date of God of War?") == "date"
    assert expected_answer_type("How much was Daradji paid to defect?") == "number"
    assert expected_answer_type("Who directed Titanic?") == "name"
    assert expected_answer_type("why did Sadr cancel his itikaf?") is None


def test_answer_type_needs_something_the_question_does_not_already_say():
    question = "Who won the Maxwell Award in 2019?"
    assert answer_type_score("In 2019 the award went to Joe Burrow.", "name", question) == 1.0
    assert answer_type_score("the maxwell award in 2019 was announced late.", "name", question) == 0.0
    assert answer_type_score("Founded in 2019.", "date", "When in 2019 was it founded?") == 0.0
    assert answer_type_score("It cost 2bn dinars.", "number", "How much did it cost?") == 1.0
    assert answer_type_score("Why it matters.", None, "Why?") == 1.0


def test_a_full_date_answers_when_better_than_a_year_and_a_dateline_does_not_count():
    question = "When was OpenAI founded?"
    assert answer_type_score("It was founded on December 11, 2015.", "date", question) == 1.0
    assert answer_type_score("It was founded in December 2015.", "date", question) == 0.8
    assert answer_type_score("It was founded in 2015.", "date", question) == 0.5
    assert answer_type_score("It was founded last year.", "date", question) == 0.5
    assert answer_type_score("May 2, 2023 ... Founded in 2015 by Musk.", "date", question) == 0.5
    assert answer_type_score("3 days ago ... OpenAI was founded by Musk.", "date", question) == 0.0


def test_near_duplicates_are_dropped_and_diversity_preferred():
    vectors = np.array([[1, 0, 0], [1, 0, 0], [0.8, 0.6, 0], [0, 0, 1]], dtype=np.float32)
    tokens = [{"a", "b"}, {"a", "b"}, {"a", "c"}, {"d"}]
    relevance = np.array([1.0, 0.99, 0.9, 0.5])
    assert select_diverse(relevance, vectors, tokens, 3, duplicate_similarity=0.9, mmr_lambda=1.0) == [0, 2, 3]
    # a passage contained in a better one is a duplicate even when its vector differs
    vectors2 = np.eye(3, dtype=np.float32)
    tokens2 = [{"a", "b", "c", "d"}, {"a", "b"}, {"x"}]
    assert select_diverse(np.array([1.0, 0.9, 0.1]), vectors2, tokens2, 3, 0.9, 1.0) == [0, 2]
