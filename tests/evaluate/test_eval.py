"""`rag eval`: question loading, the answer-string metrics, ranx metrics, and the CLI table."""

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.evaluate.questions import Question, load_questions
from rag.evaluate.runner import QuestionResult, compute_metrics, relevance_metrics
from tests.conftest import EVAL, SAMPLE


def row(qid: str, rank: int | None, abstained: bool = False, out_of_scope: bool = False, sentence: int | None = None,
        doc_ids: tuple[str, ...] = ()) -> QuestionResult:
    return QuestionResult(qid, f"question {qid}", out_of_scope, abstained, rank, sentence, doc_ids, 10.0)


def test_load_questions_reads_the_shared_format_and_names_bad_lines(tmp_path: Path):
    questions = load_questions(EVAL / "seed-dev.jsonl")
    assert len(questions) == 12 and questions[-1].out_of_scope and questions[0].answers
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "ok?"}\n{"id": "b"}\n')
    with pytest.raises(ValueError, match="line 2"):
        load_questions(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="no questions"):
        load_questions(empty)


def test_answer_string_metrics_count_ranks_and_abstentions():
    rows = [row("a", 1, sentence=1), row("b", 2, sentence=3), row("c", 4), row("d", None, abstained=True),
            row("e", None, out_of_scope=True, abstained=True), row("f", None, out_of_scope=True)]
    questions = [Question(r.id, r.question, out_of_scope=r.out_of_scope) for r in rows]
    m = compute_metrics(rows, questions)
    assert (m["answered@1"], m["answered@3"], m["answered@5"]) == (1, 2, 3)
    assert m["answered@5_rate"] == 0.75
    assert (m["answer_sentence@1"], m["answer_sentence_any"], m["answer_sentences"]) == (1, 2, 2)
    assert m["event_only@1"] is None and m["answers_noted"] == 0  # no question names an event
    assert m["mrr"] == round((1 + 1 / 2 + 1 / 4) / 4, 4)
    assert (m["false_abstentions"], m["missed_abstentions"]) == (1, 1)
    assert m["abstention_accuracy"] == round(4 / 6, 4)  # a, b, c answered; e abstained; d and f wrong
    assert m["recall@5"] is None and m["ndcg@10"] is None


def test_why_sets_count_first_sentences_that_state_only_the_event(tmp_path: Path):
    rows = [QuestionResult("a", "why a?", False, False, 1, 1, (), 10.0, event_only=False),
            QuestionResult("b", "why b?", False, False, 1, 2, (), 10.0, event_only=True),
            QuestionResult("c", "why c?", False, False, 2, None, (), 10.0, event_only=True, noted=True),
            QuestionResult("d", "why d?", False, True, None, None, (), 10.0, event_only=False)]
    m = compute_metrics(rows, [Question(r.id, r.question) for r in rows])
    assert (m["answer_sentence@1"], m["answer_sentence_any"], m["event_only@1"], m["answers_noted"]) == (1, 2, 2, 1)
    why = tmp_path / "why.jsonl"
    why.write_text('{"question": "why?", "answers": ["because"], "kind": "why", "event": "it happened"}\n')
    assert load_questions(why)[0].kind == "why" and load_questions(why)[0].event == "it happened"


def test_relevance_metrics_match_the_textbook_formulas():
    rows = [row("q1", 1, doc_ids=("a", "x", "b")), row("q2", None, doc_ids=("y", "z"))]
    questions = [Question("q1", "?", relevant=("a", "b")), Question("q2", "?", relevant=("c",))]
    m = relevance_metrics(rows, questions)
    ndcg_q1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert m["recall@5"] == 0.5  # q1 finds both, q2 none
    assert m["hit@5"] == 0.5
    assert m["mrr_relevant"] == 0.5
    assert m["ndcg@10"] == round(ndcg_q1 / 2, 4)


def test_eval_command_compares_modes_as_a_table_and_as_json(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    common = ["--index", str(tmp_path / "index"), "--config", str(config)]
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(SAMPLE), *common]).exit_code == 0
    questions = str(EVAL / "seed-dev.jsonl")

    table = runner.invoke(main, ["eval", questions, "--compare", *common])
    assert table.exit_code == 0, table.output
    lines = table.output.strip().splitlines()
    assert lines[0].split()[:2] == ["mode", "answered@1"] and "answer sentence@1" in lines[0]
    assert "answer sentence any" in lines[0] and "event only@1" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["keyword", "dense", "hybrid"]

    result = runner.invoke(main, ["eval", questions, "--mode", "keyword", "--json", *common])
    data = json.loads(result.output)
    assert (data["mode"], data["answerable"], data["out_of_scope"]) == ("keyword", 11, 1)
    assert len(data["questions"]) == 12
    assert set(data["metrics"]) >= {"answered@1", "answered@3", "answered@5", "mrr", "recall@5",
                                    "ndcg@10", "abstention_accuracy", "ms_per_question", "answer_sentence@1",
                                    "answer_sentence_any", "event_only@1"}
