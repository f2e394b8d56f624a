"""Answer quality with the real model on the shared dev sets and our own question sets.

Thresholds sit at or just below what is measured (README, "Quality"), so a regression fails.
"""

import json
from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.text import answer_found
from tests.conftest import EVAL

pytestmark = pytest.mark.model
DATA = Path(__file__).parent / "data"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def first_answer_rank(answer, expected) -> int | None:
    return next((p.rank for p in answer.passages if answer_found(expected, p.text)), None)


@pytest.fixture(scope="session")
def rgb_engine(tmp_path_factory) -> Engine:
    engine = Engine(Settings(), tmp_path_factory.mktemp("rgb") / "index")
    engine.ingest([EVAL / "rgb" / "corpus.jsonl"])
    return engine


def test_the_example_question_cites_middle_east_eye(real_engine):
    answer = real_engine.ask("why did Sadr cancel his itikaf?")
    top3 = [p for p in answer.passages[:3] if "He cancelled his itikaf" in p.text]
    assert top3 and top3[0].citation.source == "Middle East Eye"
    assert not answer.abstained


def test_seed_dev_set(real_engine):
    ranks, abstained = {}, {}
    for q in load(EVAL / "seed-dev.jsonl"):
        answer = real_engine.ask(q["question"])
        abstained[q["id"]] = answer.abstained
        if not q.get("out_of_scope"):
            ranks[q["id"]] = first_answer_rank(answer, q["answers"])
    assert sum(1 for r in ranks.values() if r == 1) >= 10, ranks
    first_sentences = [real_engine.ask(q["question"]).answer[0].sentence for q in load(EVAL / "seed-dev.jsonl")[:11]]
    # dev-01 is a why-question: its first sentence must give the reason (the threat, or the
    # provocation the aide describes), not the event its answer key also accepts.
    assert answer_found(["explicit threat to Sadr's life", "provoke Sadrists"], first_sentences[0]), first_sentences[0]
    answered_by_first = [answer_found(q["answers"], s) for q, s in zip(load(EVAL / "seed-dev.jsonl")[1:], first_sentences[1:])]
    assert sum(answered_by_first) >= 8, first_sentences  # measured 8 of these 10 (dev-07, dev-10 not)
    assert all(r is not None and r <= 3 for r in ranks.values()), ranks
    assert abstained == {q: q == "dev-12" for q in abstained}


def test_abstention_error_rates_on_all_our_question_sets(real_engine, rgb_engine):
    """Measured: 1 of 139 answerable questions abstains (ho-seed-11, whose words the articles
    do not use); 1 of 32 questions on other subjects is answered ("recipe for hummus" over RGB,
    which has a passage on recipe requests). Questions near the articles' subject that they do
    not answer ("When was Sadr born?") mostly get answered: see README, "Abstention"."""
    sets = [(real_engine, EVAL / "seed-dev.jsonl"), (real_engine, DATA / "heldout-seed.jsonl"),
            (real_engine, DATA / "out-of-scope-seed.jsonl"), (real_engine, DATA / "followups-seed.jsonl"),
            (rgb_engine, EVAL / "rgb" / "questions-dev.jsonl"), (rgb_engine, DATA / "heldout-rgb.jsonl"),
            (rgb_engine, DATA / "out-of-scope-rgb.jsonl")]
    false_abstentions, answered_off_topic, answerable, off_topic = [], [], 0, 0
    for engine, path in sets:
        for q in load(path):
            abstained = engine.ask(q["question"], history=q.get("history", [])).abstained
            if not q.get("out_of_scope"):
                answerable += 1
                false_abstentions += [q["id"]] if abstained else []
            elif not q.get("near_subject"):
                off_topic += 1
                answered_off_topic += [] if abstained else [q["id"]]
    assert (answerable, off_topic) == (139, 32)
    assert len(false_abstentions) <= 1, false_abstentions
    assert len(answered_off_topic) <= 1, answered_off_topic


def test_rgb_dev_set_hybrid_beats_each_retriever(rgb_engine):
    questions = load(EVAL / "rgb" / "questions-dev.jsonl")
    found, reciprocal = {}, {}
    for mode in ("keyword", "dense", "hybrid"):
        ranks = [first_answer_rank(rgb_engine.ask(q["question"], mode=mode), q["answers"]) for q in questions]
        found[mode] = sum(1 for r in ranks if r is not None and r <= 5)
        reciprocal[mode] = sum(1 / r for r in ranks if r)
    assert found["hybrid"] >= 46, found
    assert reciprocal["hybrid"] > max(reciprocal["keyword"], reciprocal["dense"]), reciprocal
    false_abstentions = [q["id"] for q in questions if rgb_engine.ask(q["question"]).abstained]
    assert false_abstentions == []


@pytest.mark.parametrize("name, at1, at5", [("heldout-seed.jsonl", 25, 29), ("heldout-rgb.jsonl", 23, 38)])
def test_held_out_sets(real_engine, rgb_engine, name, at1, at5):
    """Question sets written apart from the tuning (tests/data/heldout-*.jsonl)."""
    engine = real_engine if "seed" in name else rgb_engine
    ranks = [first_answer_rank(engine.ask(q["question"]), q["answers"])
             for q in load(DATA / name) if not q.get("out_of_scope")]
    assert sum(r == 1 for r in ranks) >= at1 and sum(r is not None and r <= 5 for r in ranks) >= at5, ranks


def test_an_exact_name_only_keywords_find_still_ranks_first(real_engine):
    answer = real_engine.ask("What is UNAMI?")
    assert "UN Assistance Mission for Iraq (UNAMI)" in answer.passages[0].text and not answer.abstained


def test_followups_are_searched_with_their_subject(real_engine):
    questions = load(DATA / "followups-seed.jsonl")
    at1 = sum(first_answer_rank(real_engine.ask(q["question"], history=q["history"]), q["answers"]) == 1
              for q in questions)
    assert at1 >= 6
    answer = real_engine.ask("Why did he cancel it?", history=["why did Sadr cancel his itikaf?"])
    assert "He cancelled his itikaf" in answer.passages[0].text


def test_answer_sentences_are_verbatim_and_cite_their_passage(real_engine):
    for q in load(EVAL / "seed-dev.jsonl")[:11]:
        answer = real_engine.ask(q["question"])
        assert answer.answer
        for sentence in answer.answer:
            assert sentence.sentence in answer.passages[sentence.passage_rank - 1].text


def test_same_question_same_answer(real_engine):
    first = real_engine.ask("Who is the UN Special Representative for Iraq?").to_json()
    assert real_engine.ask("Who is the UN Special Representative for Iraq?").to_json() == first
