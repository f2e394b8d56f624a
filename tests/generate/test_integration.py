"""The written answer through the Engine, `rag ask --generate --json` and the REST stream, against
a real llama.cpp server over SmolLM2 (one passage asked per question, as in test_generate.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.config import Settings
from rag.engine import Engine
from tests.generate.conftest import ARTICLES

pytestmark = pytest.mark.llm_server
COST = "How much will the repairs cost?"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("written") / "articles"
    folder.mkdir()
    for doc_id, (title, source, date, text) in ARTICLES.items():
        (folder / f"{doc_id}.md").write_text(f'---\ntitle: "{title}"\nsource: {source}\ndate: "{date}"\n---\n{text}\n',
                                             encoding="utf-8")
    return folder


def config_file(tmp_path: Path, base_url: str) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\nretrieval:\n  k: 1\n"
                      f"llm:\n  base_url: {base_url}\n  model: smollm2\n  structured: true\n", encoding="utf-8")
    return config


def test_rag_ask_generate_json_shows_as_written_only_what_its_evidence_holds(llama, folder, tmp_path):
    config = config_file(tmp_path, llama.base_url)
    where = ["--index", str(tmp_path / "index"), "--config", str(config)]
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(folder), *where]).exit_code == 0
    result = runner.invoke(main, ["ask", COST, "--generate", "--json", *where])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    generated = answer["generated"]
    assert list(generated) == ["model", "sentences", "fallback"] and generated["fallback"] == ""
    written = [s for s in generated["sentences"] if s["shown_as"] == "written"]
    assert written and all(s["verified"] for s in written)
    text = (folder / "bridge.md").read_text(encoding="utf-8")
    body = text[text.index("---\n", 4) + 4:]
    fake = Settings().with_updates(embedding={"backend": "fake", "dimension": 64})
    article = Engine(fake, tmp_path / "index").document(answer["passages"][0]["citation"]["doc_id"]).text
    assert body.strip() == article.strip()
    for sentence in written:  # its names and numbers are in the sentences it cites (checked here by hand)
        evidence = " ".join(article[e["start"]:e["end"]] for e in sentence["evidence"]).casefold()
        words = sentence["text"].split()
        names = [w.strip(".,;:") for w in words[1:] if w[:1].isupper()]
        numbers = re.findall(r"\d[\d,.]*\d|\d", sentence["text"])
        assert all(n.casefold() in evidence for n in names + numbers), (sentence, names, numbers)
    # the text output: the written answer, its quoted evidence, its citations
    shown = runner.invoke(main, ["ask", COST, "--generate", *where]).output
    assert "Answer (written by smollm2, each sentence checked):" in shown
    assert "The bridge is expected to reopen in June. [1]" in shown and "(quoted from the article)" in shown


def test_without_a_server_nothing_is_asked_and_the_extractive_answer_stands(folder, tmp_path):
    engine = Engine(Settings().with_updates(embedding={"backend": "fake", "dimension": 64}), tmp_path / "index")
    engine.ingest([folder])
    answer = engine.ask(COST, generate=True)
    assert answer.generated.outcome == "skipped" and answer.generated.fallback
    assert answer.answer  # the extractive answer
    assert "generated" not in engine.ask(COST).to_json()  # only when asked for


def test_the_rest_stream_sends_the_answer_then_each_verified_sentence_then_the_result(llama, folder, tmp_path):
    from fastapi.testclient import TestClient

    from ui.server import build_server_app

    settings = Settings().with_updates(embedding={"backend": "fake", "dimension": 64}, retrieval={"k": 1},
                                       llm={"base_url": llama.base_url, "model": "smollm2", "structured": True})
    engine = Engine(settings, tmp_path / "index")
    engine.ingest([folder])
    app, _ = build_server_app(engine)
    with TestClient(app) as client:
        with client.stream("POST", "/api/ask/stream", json={"question": COST}) as reply:
            assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
            events = re.findall(r"event: (\w+)\ndata: (.*)\n", reply.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "answer" and names[-1] == "done" and set(names[1:-1]) == {"sentence"}
    first = json.loads(events[0][1])
    assert "generated" not in first and first["passages"]
    done = json.loads(events[-1][1])
    sentences = [json.loads(data)["sentence"] for name, data in events if name == "sentence"]
    assert done["generated"]["sentences"] == sentences  # each in order, a dropped one with nothing shown
    assert done["generated"]["fallback"] == ""


def test_rag_eval_generate_tallies_the_written_answers(llama, folder, tmp_path):
    config = config_file(tmp_path, llama.base_url)
    where = ["--index", str(tmp_path / "index"), "--config", str(config)]
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": COST, "answers": ["4.5 million euros"]}) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(folder), *where]).exit_code == 0
    result = runner.invoke(main, ["eval", str(questions), "--generate", "--k", "1", "--json", *where])
    assert result.exit_code == 0, result.output
    generated = json.loads(result.output)["metrics"]["generated"]
    # the cost is in the quoted evidence that replaced the sentence that did not hold
    assert generated["shown_answer_any"] == 1 and generated["outcomes"] == {"written": 1}
    assert generated["written_share"] == 0.5 and generated["seconds_p50"] > 0
    text = runner.invoke(main, ["eval", str(questions), "--generate", "--k", "1", *where]).output
    assert "written answers: shown answer holds the expected answer" in text
