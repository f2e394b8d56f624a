"""Keyword tokens of every script: the issue's table, folding, stems per language, bigrams."""

from __future__ import annotations

import pytest

from rag.language import fold, keyword_tokens, query_terms, words
from rag.language.query import group_coverage
from rag.text import keyword_tokens as english_tokens


@pytest.mark.parametrize("text, language, tokens", [
    ("Erdoğan met Müller in Zürich", "en", ["erdogan", "met", "muller", "zurich"]),
    ("Le président Macron a déclaré", "fr", ["president", "macron", "declar"]),
    ("مقتدى الصدر يلغي الاعتكاف", "ar", ["مقتدي", "صدر", "يلغ", "اعتكاف"]),
    ("Путин заявил", "ru", ["путин", "заяв"]),
])
def test_the_issues_table_now_gives_whole_words(text, language, tokens):
    assert keyword_tokens(text, True, language) == tokens


def test_words_of_any_script_numbers_and_bigrams():
    assert words("Erdoğan'ın Zürich’te 1,000.5 ٢٠٢٤ 中国经济 Sadr's Chronicles™") == [
        "erdoğanın", "zürichte", "1,000.5", "2024", "中国", "国经", "经济", "sadrs", "chronicles"]
    assert words("ภาษาไทย") == ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]  # Thai: no spaces, bigrams


@pytest.mark.parametrize("written, typed", [
    ("Erdoğan", "Erdogan"), ("Zürich", "Zurich"), ("Straße", "Strasse"), ("Núñez", "Nunez"), ("Łukasz", "Lukasz"),
    ("Şanlıurfa", "Sanliurfa"), ("أعلن", "اعلن"), ("إلى", "الى"), ("مدرسة", "مدرسه"), ("مستشفى", "مستشفي"),
    ("العـــراق", "العراق"), ("مُقتدى", "مقتدى"), ("ёлка", "елка"),
])
def test_folding_makes_diacritics_and_spelling_variants_one(written, typed):
    assert [fold(w) for w in words(written)] == [fold(w) for w in words(typed)]


def test_english_tokens_are_unchanged_for_ascii_text():
    assert english_tokens("Sadr's aides cancelled the itikaf, he said.") == ["sadr", "aid", "cancel", "itikaf"]


def test_an_unknown_language_is_not_stemmed_with_english_rules():
    assert keyword_tokens("the walking workers", True, "xx") == ["the", "walking", "workers"]
    assert keyword_tokens("the walking workers", True, "en") == ["walk", "worker"]


def test_a_question_word_is_matched_against_every_indexed_languages_stem():
    terms = query_terms("What did Muller say in Zurich?", "en", ["en", "de"])
    assert terms.groups == (("muller", "mull"), ("zurich",))
    german_passage = set(keyword_tokens("Müller sprach in Zürich.", True, "de"))
    assert group_coverage(terms.groups, german_passage, {"muller": 3.0, "mull": 1.0, "zurich": 1.0}) == 1.0


def test_coverage_weighs_each_word_by_the_form_the_index_holds():
    groups = (("muller", "mull"), ("zurich",))
    idf = {"muller": 5.0, "mull": 1.0, "zurich": 1.0}  # muller: held nowhere (the highest idf)
    assert group_coverage(groups, {"zurich"}, idf) == 0.5
