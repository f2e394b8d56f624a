"""The part of an event sentence that is not the event: its clauses and whether they give a reason."""

import pytest

from rag.answer.clauses import adjunct_strength, clauses, own_reason, split_event
from rag.answer.explain import Unit, explain


def asked_by(question: str):
    """The share of the question's words in a text (lower case, no stemming: enough here)."""
    words = {w.strip("?,.").lower() for w in question.split()} - {"why", "did", "the", "his", "a", "to", "of"}
    return lambda text: len(words & {w.strip("?,.\"'").lower() for w in text.split()}) / len(words)


def test_a_sentence_splits_at_punctuation_and_reason_subordinators():
    assert clauses("Frustrated by his inability to form a government, Sadr ordered his MPs to resign.") == [
        "Frustrated by his inability to form a government", "Sadr ordered his MPs to resign."]
    assert clauses("He retired due to illness and advanced age.") == ["He retired", "due to illness and advanced age."]
    # One-word pieces join the next one.
    assert clauses("However, we cannot take them.") == ["However we cannot take them."]


@pytest.mark.parametrize("sentence, question, strength", [
    # A participle fronted before the subject, a subordinate clause, a purpose clause: a reason.
    ("Frustrated by his inability to form a government, Sadr ordered his MPs to resign.",
     "Why did Sadr order his MPs to resign?", 0.9),
    ("Fearing reprisals from the tribes, the police sent the girls home.",
     "Why did the police send the girls home?", 0.9),
    ("We cannot take the girls away, as we don't have any legal provisions for it.",
     "Why can't they take the girls away?", 1.0),
    ("The Team will share its expertise, to hold ISIL members accountable.",
     "Why will the Team share its expertise?", 0.8),
    ("The branch ordered the expulsion of Daradji, on charges of treason.",
     "Why did the branch order the expulsion of Daradji?", 1.0),
    # Other verbs of the same sentence, a date, who said it, a relative clause: no reason.
    ("He cancelled his itikaf, ordered most of his offices closed, and suspended his work for a year.",
     "Why did he cancel his itikaf?", 0.0),
    ("On 6 May, Sadr instructed his supporters to mark the anniversary.",
     "Why did Sadr instruct his supporters to mark the anniversary?", 0.0),
    ("The mayor closed the bridge, officials said.", "Why did the mayor close the bridge?", 0.0),
    ("The channel, which supports the militias, reported the award.", "Why did the channel report the award?", 0.0),
])
def test_the_rest_of_the_event_sentence_gives_a_reason_by_its_shape(sentence, question, strength):
    assert own_reason(sentence, asked_by(question)) == strength


def test_the_core_is_the_clause_the_question_names_and_a_reason_in_the_question_is_not_the_rest():
    parts, core, rest = split_event("After the video spread, Sadr cancelled his itikaf.",
                                    asked_by("Why did Sadr cancel his itikaf after the video spread?"))
    assert rest == []  # the question names both clauses: nothing beyond it
    parts, core, rest = split_event("After the video spread, Sadr cancelled his itikaf.",
                                    asked_by("Why did Sadr cancel his itikaf?"))
    assert core == 1 and rest == [0]


def test_a_participle_after_a_comma_later_on_is_another_verb_unless_it_says_by_what():
    assert adjunct_strength("ordered most of his offices closed", fronted=False) == 0.0
    assert adjunct_strength("driven by anger at the result", fronted=False) == 0.7
    assert adjunct_strength("fearing tribal retribution", fronted=False) == 0.7


def units(*texts: str) -> list[Unit]:
    return [Unit(text, "doc", order) for order, text in enumerate(texts)]


def test_an_event_sentence_with_its_own_reason_beats_a_neighbour_with_a_causal_word():
    question = "Why did Sadr order his MPs to resign?"
    found = explain("why", units(
        "They wanted to tell us that this was his reward, the commander said.",
        "Frustrated by his inability to form a government, Sadr ordered his MPs to resign.",
        "That allowed his rivals to form the government.",
    ), relevance=[0.5, 1.0, 0.4], max_sentences=3, asked=asked_by(question))
    assert found.explained and found.sentences[0] == 1


def test_an_event_sentence_that_adds_nothing_lets_the_neighbour_explain_it():
    question = "Why did Sadr cancel his itikaf?"
    found = explain("why", units(
        "That was an explicit threat to Sadr's life, the aide told MEE.",
        "The aide said whoever was behind the video wanted to provoke Sadrists.",
        "He cancelled his itikaf, ordered most of his offices closed, and suspended his work for a year.",
    ), relevance=[0.6, 0.7, 1.0], max_sentences=3, asked=asked_by(question))
    assert found.explained and found.sentences[0] in (0, 1) and found.event == 2


def test_shapes_that_look_like_reasons_but_are_not():
    assert adjunct_strength("for the first time in years", fronted=False) == 0.0
    assert adjunct_strength("Speaking to reporters on Monday", fronted=True, opens_sentence=True) == 0.0
    # A fronted participle describing the subject counts less than one naming what acted on it.
    assert adjunct_strength("Based in the Iranian city of Qom", fronted=True, opens_sentence=True) == 0.5
    assert adjunct_strength("Angered by the video", fronted=True, opens_sentence=True) == 0.9


def test_an_event_sentence_that_points_back_is_explained_by_the_sentence_it_points_at():
    question = "Why is water a threat to the country's stability?"
    found = explain("why", units(
        "The minister spoke on Monday.",
        "Most of the rivers are polluted and millions lack clean water.",
        "This is a multiplier of threats to the country's stability.",
        "Plans to update water systems will be vital in meeting demands driven by growth.",
    ), relevance=[0.1, 0.7, 1.0, 0.75], max_sentences=3, asked=asked_by(question))
    assert found.explained and found.sentences[0] == 1 and found.event == 2
    # Without the pointing subject the sentence before is only a weak set-up.
    found = explain("why", units(
        "The minister spoke on Monday.",
        "Most of the rivers are polluted and millions lack clean water.",
        "Water is a multiplier of threats to the country's stability.",
        "Plans to update water systems will be vital in meeting demands driven by growth.",
    ), relevance=[0.1, 0.7, 1.0, 0.75], max_sentences=3, asked=asked_by(question))
    assert found.sentences[0] != 1


def test_was_due_to_is_a_schedule_not_a_cause():
    assert clauses("Sadr had just a few days before he was due to head to Kufa.") == [
        "Sadr had just a few days before he was due to head to Kufa."]
    assert clauses("The race was cancelled due to the pandemic.") == ["The race was cancelled", "due to the pandemic."]


def test_a_clause_after_therefore_is_what_the_event_led_to_not_its_reason():
    question = "What led the Sadrists to follow Haeri as their spiritual guide?"
    found = explain("why", units(
        "Previously, Sadrists would be embarrassed following Khamenei, and therefore working with his factions.",
        "The minister spoke on Monday.",
        "The week was quiet.",
        "The rain fell.",
        "The roads were closed.",
        "The shops were shut.",
        "When the elder Sadr was assassinated in 1999, the Sadrists began to follow Haeri spiritually.",
    ), relevance=[1.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9], max_sentences=3, asked=asked_by(question))
    # Both sentences match the question about as well; the one that gives its own reason is the answer.
    assert found.explained and found.sentences[0] == 6


def test_a_sentence_after_the_event_saying_what_it_serves_is_its_reason():
    question = "Why does the community police resolve issues without going to police stations?"
    found = explain("why", units(
        "The role of the community police is to resolve issues without going to police stations.",
        "This helps to alleviate the burden of the daily reports.",
        "The officers also monitor cases, but there are reservations due to confidentiality.",
    ), relevance=[1.0, 0.5, 0.6], max_sentences=3, asked=asked_by(question))
    assert found.explained and found.sentences[0] == 1 and found.event == 0


def test_a_reported_claim_about_the_event_right_after_it_is_its_reason():
    question = "Why did Saraya al-Salam expel 18 fighters from the Basra Brigade?"
    found = explain("why", units(
        "Saraya al-Salam ordered the expulsion of 18 fighters from the Basra Brigade, without mentioning why.",
        "A senior commander in Basra told MEE that the fighters were believed to be defecting to Asaib.",
        "Two weeks later, the same branch ordered the expulsion of a Basra commander on charges of treason.",
    ), relevance=[1.0, 0.6, 0.5], max_sentences=3, asked=asked_by(question))
    assert found.explained and found.sentences[0] == 1 and found.event == 0


def test_the_means_of_an_event_is_part_of_why_it_mattered():
    assert clauses("Haeri embarrassed Sadr by associating him with Khamenei.") == [
        "Haeri embarrassed Sadr", "by associating him with Khamenei."]
    assert adjunct_strength("by associating him with Khamenei.", fronted=False) == 0.6
    assert adjunct_strength("by the end of the year", fronted=False) == 0.0
