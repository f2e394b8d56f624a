"""Answer quality in every language with the real model, on the multilingual dev split
(data/eval/multilingual: articles in eight languages, questions written without the system).

The issue's bar: same-language questions and names typed without diacritics answered within the
top 3 for >= 90% and at rank 1 for >= 80%; questions about nothing in the articles abstain. The
heldout split is measured once for the README, never here.
"""

import json
from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.text import answer_found
from tests.conftest import EVAL

pytestmark = pytest.mark.model
SET = EVAL / "multilingual"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    engine = Engine(Settings(), tmp_path_factory.mktemp("multilingual") / "index")
    engine.ingest([SET / "dev" / "articles"])
    return engine


def test_same_language_and_diacritic_free_questions_find_their_answer(engine):
    questions = [q for q in load(SET / "dev" / "questions.jsonl") if q["kind"] in ("same-language", "no-diacritics")]
    ranks = []
    for q in questions:
        answer = engine.ask(q["question"])
        ranks.append(next((p.rank for p in answer.passages if answer_found(q["answers"], p.text)), None))
    at1 = sum(1 for r in ranks if r == 1) / len(ranks)
    at3 = sum(1 for r in ranks if r is not None and r <= 3) / len(ranks)
    assert at1 >= 0.80 and at3 >= 0.90, (at1, at3)  # measured: 80/95 and 89/95


def test_questions_about_nothing_in_the_articles_abstain_in_every_language(engine):
    unrelated = [q for q in load(SET / "unrelated" / "questions.jsonl") if q["split"] == "dev"]
    abstained = {q["lang"]: 0 for q in unrelated}
    for q in unrelated:
        abstained[q["lang"]] += engine.ask(q["question"]).abstained
    assert sum(abstained.values()) >= 37, abstained  # measured: 38 of 40
    assert min(abstained.values()) >= 4, abstained  # no language left out


def test_answerable_questions_in_a_language_the_model_does_not_know_are_answered(engine):
    questions = [q for q in load(SET / "dev" / "questions.jsonl") if q["kind"] == "same-language" and q["lang"] != "en"]
    abstained = sum(engine.ask(q["question"]).abstained for q in questions)
    assert abstained <= 3, abstained  # measured: 2 of 60 (the gate counts key words there)
