from rag.answer.abstain import keyword_coverage, should_abstain
from rag.types import Evidence
from rag.config import AnswerSettings


def test_keyword_coverage_weights_rare_words_more():
    idf = {"itikaf": 3.0, "sadr": 1.0}
    assert keyword_coverage(["sadr", "itikaf"], {"itikaf"}, idf) == 0.75
    assert keyword_coverage(["sadr", "itikaf"], {"sadr"}, idf) == 0.25
    assert keyword_coverage([], {"sadr"}, idf) == 0.0


def test_abstains_below_the_evidence_threshold_with_a_reason():
    settings = AnswerSettings(min_evidence=1.0)
    assert should_abstain(Evidence(0.6, 0.5), settings) == (False, "")
    abstained, reason = should_abstain(Evidence(0.3, 0.4), settings)
    assert abstained and "0.30" in reason and "0.40" in reason and "below 1.00" in reason


def test_every_answer_sentence_is_verbatim_from_the_passage_it_cites(fake_engine, sample_copy):
    fake_engine.ingest([sample_copy])
    for question in ["Sadr cancelled itikaf threat", "community police Ministry of Interior 2008",
                     "UNITAD digitization records courts"]:
        answer = fake_engine.ask(question)
        assert answer.answer, question
        passages = {p.rank: p.text for p in answer.passages}
        for sentence in answer.answer:
            assert sentence.sentence in passages[sentence.passage_rank]
