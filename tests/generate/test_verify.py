"""Each check of the verifier, with exact expectations."""

import numpy as np
import pytest

from rag.generate.verify import Checks, Thresholds, check_pairs, check_sentence, key_terms

EVIDENCE = ["Established by the Iraqi Ministry of Interior in 2008, the community police in Iraq "
            "was tasked with supporting families."]


def unit_embed(table: dict[str, list[float]]):
    """An embedder that knows a few texts: exact cosines to test (d) with."""
    def embed(texts):
        rows = np.array([table[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return embed


def terms(sentence, language="en"):
    return [(t.kind, t.surface) for t in key_terms(sentence, language)]


# (b) names, numbers, dates ----------------------------------------------------------------------

def test_key_terms_are_names_numbers_and_months_next_to_numbers():
    assert terms("Sadr's aides met 1,200 people on 3 May 2021 in Najaf.") == [
        ("number", "1,200"), ("number", "3"), ("number", "2021"), ("name", "Sadr's"), ("month", "May"),
        ("name", "Najaf")]
    # an opening common word is no name; a modal "may" is no month; three is a number
    assert terms("However, talks may resume with three envoys.") == [("number", "three")]
    assert terms("The UN envoy Jeanine Hennis-Plasschaert spoke.") == [
        ("name", "UN"), ("name", "Jeanine"), ("name", "Hennis"), ("name", "Plasschaert")]


@pytest.mark.parametrize("sentence, evidence, missing", [
    ("The police was founded in 2008.", EVIDENCE, ()),
    ("The police was founded in 2009.", EVIDENCE, ("2009",)),
    ("Baghdad's police was founded in 2008.", EVIDENCE, ("Baghdad's",)),
    ("The Iraqi ministry acted.", EVIDENCE, ()),  # case
    ("Sadr's aides spoke.", ["Aides to Sadr spoke."], ()),  # possessive
    ("Erdoğan'ın partisi kazandı.", ["Erdogan won."], ()),  # diacritics and a Turkish suffix
    ("About 1200 people fled.", ["About 1,200 people fled."], ()),  # thousands separator
    ("It rose 12.5% this year.", ["Es stieg um 12,5 Prozent."], ()),  # decimal comma
    ("About 1.2 million fled.", ["About 1,200,000 fled."], ()),  # scale word
    ("Three people died.", ["3 people died."], ()),  # number word
    ("Three people died.", ["Two people died."], ("Three",)),
    ("It happened on 2021-05-03.", ["It happened on 3 May 2021."], ()),
    ("It happened on 3 June 2021.", ["It happened on 3 May 2021."], ("June",)),
])
def test_names_and_numbers_must_be_in_the_evidence(sentence, evidence, missing):
    assert check_sentence(sentence, evidence, language="en").missing_terms == missing


# (c) coverage ---------------------------------------------------------------------------------

def test_coverage_is_the_share_of_content_words_in_the_evidence():
    checks = check_sentence("The community police in Iraq was established in 2008.", EVIDENCE, language="en")
    assert (checks.coverage, checks.uncovered) == (1.0, ())
    checks = check_sentence("Iraq's community police was founded to protect families.", EVIDENCE, language="en")
    # iraq, communiti, polic, famili held; found, protect not
    assert (checks.coverage, checks.uncovered) == (0.6667, ("found", "protect"))
    assert check_sentence("It was.", EVIDENCE, language="en").coverage == 0.0  # nothing to check


# (d) similarity --------------------------------------------------------------------------------

def test_similarity_is_the_best_of_each_evidence_sentence_and_all_together():
    embed = unit_embed({"w": [1, 0, 0], "e1": [0, 1, 0], "e2": [1, 1, 0], "e1 e2": [1, 0, 1]})
    assert check_sentence("w", ["e1", "e2"], embed, language="en").similarity == pytest.approx(0.7071, abs=1e-4)
    embed = unit_embed({"w": [1, 0, 0], "e1": [0, 1, 0]})
    assert check_sentence("w", ["e1"], embed, language="en").similarity == 0.0
    assert check_sentence("w", ["e1"], None, language="en").similarity == 0.0  # no embedder: fails (d)


# (a) and the verdict ----------------------------------------------------------------------------

def test_the_verdict_names_the_first_check_that_failed():
    t = Thresholds(min_coverage=0.75, min_similarity=0.6)
    good = Checks(True, ("S1.1",), (), False, ("2008",), (), 1.0, (), 0.8)
    assert good.passed(t) and good.failure(t) == ""
    assert Checks(False, (), (), False, (), (), 0.0, (), 0.0).failure(t) == "it cites no sentence that was given"
    assert Checks(False, (), ("[6]",), False, (), (), 0.0, (), 0.0).failure(t) == \
        "it cites no sentence that was given ([6])"
    assert Checks(False, ("S1.1",), ("S1.9",), False, (), (), 1.0, (), 0.9).failure(t) == \
        "it cites S1.9, which the model was not given"
    assert Checks(True, ("S1.1",), (), False, ("2009",), ("2009",), 1.0, (), 0.9).failure(t) == \
        "“2009” is not in the sentences it cites"
    assert Checks(True, ("S1.1",), (), False, (), (), 0.5, ("found", "protect"), 0.9).failure(t) == \
        "only 50% of its words are in the sentences it cites (missing: found, protect)"
    assert Checks(True, ("S1.1",), (), False, (), (), 0.8, (), 0.55).failure(t) == \
        "its meaning is too far from the sentences it cites (similarity 0.55)"
    passage_level = Checks(True, ("S2.1",), (), True, (), (), 1.0, (), 0.9)
    assert passage_level.passed(t)
    assert passage_level.failure(Thresholds(passage_citations=False)) == "it cites a whole passage, not its sentences"


def test_check_sentence_reads_the_citations_it_is_given():
    checks = check_sentence("The police was founded in 2008.", EVIDENCE, cited=["S1.1"], invalid=["S1.9"],
                            language="en")
    assert (checks.citations_valid, checks.cited, checks.invalid) == (False, ("S1.1",), ("S1.9",))
    assert not check_sentence("The police was founded in 2008.", [], language="en").citations_valid


def test_pairs_are_checked_in_one_batch():
    calls = []
    table = {"rain fell": [1, 0], "rain": [1, 0], "snow fell": [0.6, 0.8]}

    def embed(texts):
        calls.append(list(texts))
        return unit_embed(table)(texts)

    results = check_pairs([("rain fell", ["rain"]), ("snow fell", ["rain"])], embed, language="en")
    assert len(calls) == 1 and sorted(calls[0]) == ["rain", "rain fell", "snow fell"]
    assert [r.similarity for r in results] == [1.0, 0.6]
    assert [r.coverage for r in results] == [0.5, 0.0]


# (e) a stated cause ------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, evidence, cause, share", [
    # the passages' own words and a cause they do not give: (b) to (d) pass it, (e) does not
    ("Sadr cancelled his itikaf because the video provoked violence.",
     ["Sadr cancelled his itikaf and closed his offices.", "Whoever was behind the video wanted to provoke violence."],
     "because", 0.0),
    # a cause the evidence gives, but for something else (seen from Qwen2.5-1.5B)
    ("He cancelled it because he was due to head to Kufa.",
     ["He was due to head to Kufa.", "He cancelled it after threats were made."], "because", 0.0),
    ("The bridge closed due to a storm.", ["The bridge closed on 12 March."], "due to", 0.0),
    ("The bridge closed because of a cracked bearing.", ["Engineers traced the closure to a cracked bearing."],
     "because", 1.0),
    ("A cracked bearing caused the closure.", ["The closure was traced to a cracked bearing."], "caused", 1.0),
    ("He resigned because of the scandal.", ["He resigned after the scandal broke."], "because", 1.0),
    ("He resigned in March.", ["He resigned in March."], "", 1.0),
])
def test_a_cause_written_must_be_a_cause_stated(sentence, evidence, cause, share):
    checks = check_sentence(sentence, evidence, language="en")
    assert (checks.cause, checks.cause_coverage) == (cause, share)


def test_an_unstated_cause_is_the_last_reason_given():
    checks = Checks(True, ("S1.1",), (), False, (), (), 1.0, (), 0.9, "because", 0.25)
    assert checks.failure() == "it gives a cause (“because”) that the sentences it cites do not state"
    assert checks.passed(Thresholds(min_cause_coverage=0.0))
    assert Checks(True, ("S1.1",), (), False, (), (), 1.0, (), 0.9, "because", 0.5).passed()
