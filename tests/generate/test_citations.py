"""Reading the citations of written sentences: every form a small model emits, exactly."""

import pytest

from rag.generate.citations import (
    CitedSentence,
    complete_sentences,
    is_decline,
    parse_citations,
    parse_evidence_list,
    split_reply,
)

IDS = {f"S{rank}.{n}" for rank in range(1, 6) for n in range(1, 5)}  # 5 passages of 4 sentences
RANKS = {1, 2, 3, 4, 5}


@pytest.mark.parametrize("written, expected", [
    ("Sadr cancelled his itikaf [S1.2].", CitedSentence("Sadr cancelled his itikaf.", ("S1.2",))),
    ("He left [S1.2, S3.1].", CitedSentence("He left.", ("S1.2", "S3.1"))),
    ("He left [S1.2][S3.1].", CitedSentence("He left.", ("S1.2", "S3.1"))),
    ("He left [S1.2; S3.1 and S4.1]", CitedSentence("He left", ("S1.2", "S3.1", "S4.1"))),
    ("He left [s1.2].", CitedSentence("He left.", ("S1.2",))),
    ("He left (S1.2).", CitedSentence("He left.", ("S1.2",))),
    ("He left [1.2].", CitedSentence("He left.", ("S1.2",))),
    ("He left [S1.2-S1.4].", CitedSentence("He left.", ("S1.2", "S1.3", "S1.4"))),
    ("He left [S1.2–4].", CitedSentence("He left.", ("S1.2", "S1.3", "S1.4"))),
    ("As S1.2 and S3.1 say, he left.", CitedSentence("As say, he left.", ("S1.2", "S3.1"))),
    ("S2.3 He left.", CitedSentence("He left.", ("S2.3",))),
    # passage-level: all sentences of the passage (the verifier narrows them)
    ("He left [2].", CitedSentence("He left.", (), (2,))),
    ("He left [S2].", CitedSentence("He left.", (), (2,))),
    ("He left [1], [2].", CitedSentence("He left.", (), (1, 2))),
    ("The answer is [1].", CitedSentence("The answer is.", (), (1,))),
    ("He left [S1.2, 3].", CitedSentence("He left.", ("S1.2",), (3,))),
    # what was not given
    ("He left [6].", CitedSentence("He left.", (), (), ("[6]",))),
    ("He left [S1.9].", CitedSentence("He left.", (), (), ("S1.9",))),
    ("He left [S1.2, S7.1].", CitedSentence("He left.", ("S1.2",), (), ("S7.1",))),
    ("He left [S1.3-S2.1].", CitedSentence("He left.", (), (), ("S1.3-S2.1",))),
    ("In 2008 [2008] it began.", CitedSentence("In 2008 it began.", (), (), ("[2008]",))),
    # not citations
    ("He left.", CitedSentence("He left.")),
    ("In 2008 (2008) it began [sic].", CitedSentence("In 2008 (2008) it began [sic].")),
])
def test_every_citation_form(written, expected):
    assert parse_citations(written, IDS, RANKS) == expected


def test_a_repeated_id_counts_once_and_the_order_is_kept():
    cited = parse_citations("A [S3.1] and B [S1.2, S3.1].", IDS, RANKS)
    assert cited.ids == ("S3.1", "S1.2")
    assert cited.cites_anything
    assert not parse_citations("No marks.", IDS, RANKS).cites_anything


def test_structured_evidence_lists():
    assert parse_evidence_list("He left.", ["S1.2", "[S3.1]", "2"], IDS, RANKS) == \
        CitedSentence("He left.", ("S1.2", "S3.1"), (2,))
    assert parse_evidence_list("He left [S1.1].", [], IDS, RANKS) == CitedSentence("He left.", ("S1.1",))
    assert parse_evidence_list("He left.", ["S9.9", "the second one"], IDS, RANKS) == \
        CitedSentence("He left.", (), (), ("S9.9", "the second one"))


def test_a_reply_splits_into_sentences_with_their_citations():
    reply = ("1. Sadr cancelled his itikaf. [S1.2] His aides blamed rivals [S2.1].\n"
             "2. U.S. officials said nothing [S3.1].\n\n- A fourth one [S4.1]")
    assert split_reply(reply) == ["Sadr cancelled his itikaf. [S1.2]", "His aides blamed rivals [S2.1].",
                                  "U.S. officials said nothing [S3.1].", "A fourth one [S4.1]"]
    assert split_reply("It closed [S1.1]. [S1.2]. Then [2]") == ["It closed [S1.1]. [S1.2].", "Then [2]"]


def test_only_complete_sentences_are_taken_while_the_reply_streams():
    assert complete_sentences("It closed in March") == []
    assert complete_sentences("It closed in March.") == []  # its citation may follow the full stop
    assert complete_sentences("It closed in March. [S1") == []  # it does: still being written
    assert complete_sentences("It closed in March. [S1.1] It") == ["It closed in March. [S1.1]"]
    assert complete_sentences("It closed [S1.1]. Repairs cost") == ["It closed [S1.1]."]


@pytest.mark.parametrize("text, declined", [
    ("NOT ANSWERED", True), ("Not answered.", True), ("NOT ANSWERED.", True),
    ("The question is not answered here.", False), ("It closed.", False)])
def test_the_decline(text, declined):
    assert is_decline(text) is declined
