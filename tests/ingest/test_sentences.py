from rag.ingest.sentences import paragraph_spans, sentence_spans


def sentences(text):
    return [text[a:b] for a, b in sentence_spans(text)]


def test_splits_on_sentence_ends_and_keeps_exact_spans():
    text = 'He left. "Do not go," she said! Why? Because.'
    assert sentences(text) == ["He left.", '"Do not go," she said!', "Why?", "Because."]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = "F.A. works as a teacher. Ms. Hennis-Plasschaert met Dr. Smith in the U.S. on Monday. It rained."
    assert sentences(text) == ["F.A. works as a teacher.",
                               "Ms. Hennis-Plasschaert met Dr. Smith in the U.S. on Monday.", "It rained."]


def test_closing_quotes_stay_with_their_sentence():
    text = '"That was an explicit threat to Sadr\'s life and a threat of chaos," the aide told MEE. He left.'
    assert sentences(text) == ['"That was an explicit threat to Sadr\'s life and a threat of chaos," the aide told MEE.',
                               "He left."]


def test_lowercase_after_a_dot_is_not_a_new_sentence():
    assert sentences("It cost 2.5 bn dinars. e.g. this stays.") == ["It cost 2.5 bn dinars. e.g. this stays."]


def test_paragraphs_are_separated_by_blank_lines():
    text = "One.\nStill one.\n\n  Two.\n\n\n\nThree."
    assert [text[a:b] for a, b in paragraph_spans(text)] == ["One.\nStill one.", "Two.", "Three."]
