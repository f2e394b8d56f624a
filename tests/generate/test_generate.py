"""Written answers from a real model (SmolLM2 on llama.cpp), each sentence verified, streamed,
declined, cancelled; and no connection at all when nothing asks for one."""

import socket
import threading
import time

import pytest

from rag.generate import Finished, SentenceReady, Thresholds, generate, generate_answer
from tests.generate.conftest import ReplayServer, answer_for, article_text, settings_for, wait_until

THRESHOLDS = Thresholds(min_coverage=0.75, min_similarity=0.6)  # fixed here, whatever is tuned later
COST = "How much will the repairs cost?"


@pytest.mark.llm_server
def test_a_written_answer_is_verified_sentence_by_sentence(llama, embed):
    settings = settings_for(llama.base_url, structured=True)
    result = generate_answer(COST, answer_for(COST, ["bridge"]), settings, embed, article_text,
                             thresholds=THRESHOLDS)
    assert (result.outcome, result.fallback, result.model) == ("written", "", "smollm2")
    assert [(s.text, s.shown_as) for s in result.sentences] == [
        # cites S1.1 and S1.2, but the cost is in S1.3: its evidence is shown instead
        ("The old harbour bridge in Portmere closed on 12 March 2024. The repairs will cost 4.5 million euros, "
         "the city council said.", "evidence"),
        ("The bridge is expected to reopen in June.", "written"),
        ("The city council will ask the state for help with the cost.", "written"),
        ("The repairs will cost 4.5 million euros.", "dropped"),  # cites S1.4 and S1.6, already shown
    ]
    replaced, june, council, dropped = result.sentences
    assert replaced.reason == "“4.5” is not in the sentences it cites"
    assert not replaced.verified and replaced.checks.missing_terms == ("4.5",)
    assert dropped.reason == "“4.5” is not in the sentences it cites; its evidence is already shown"
    assert [e.sid for e in replaced.evidence] == ["S1.1", "S1.2"]
    assert [e.sid for e in june.evidence] == ["S1.3", "S1.4"] and june.citations == (1,)
    for sentence in (june, council):  # shown as written: its names and numbers are in its evidence
        assert sentence.verified and sentence.checks.missing_terms == () and sentence.reason == ""
    # every evidence span is the exact characters of the cited article
    for sentence in result.sentences:
        for span in sentence.evidence:
            assert article_text("bridge")[span.start:span.end] == span.text
    assert replaced.shown == ("The old harbour bridge in Portmere closed on 12 March 2024.",
                              "Engineers traced the closure to a cracked bearing under the north span.")
    assert result.shown == (*replaced.shown, june.text, council.text)
    data = result.to_json()
    assert list(data) == ["model", "sentences", "fallback"]
    assert data["sentences"][1] == {"text": "The bridge is expected to reopen in June.", "citations": [1],
                                    "evidence": [{"rank": 1, "start": 157, "end": 216},
                                                 {"rank": 1, "start": 217, "end": 258}],
                                    "verified": True, "shown_as": "written", "reason": ""}
    assert article_text("bridge")[217:258] == "The bridge is expected to reopen in June."


@pytest.mark.llm_server
def test_sentences_stream_once_verified(llama, embed):
    settings = settings_for(llama.base_url, structured=True)
    events = []
    started = time.monotonic()
    for event in generate(COST, answer_for(COST, ["bridge"]), settings, embed, article_text, thresholds=THRESHOLDS):
        events.append((event, time.monotonic() - started))
    *ready, (finished, _) = events
    assert isinstance(finished, Finished) and all(isinstance(e, SentenceReady) for e, _ in ready)
    # the sentence shown as evidence waits for the first one shown as written, then both come
    assert [(e.index, e.sentence.shown_as) for e, _ in ready] == [
        (0, "evidence"), (1, "written"), (2, "written"), (3, "dropped")]
    assert ready[0][1] < ready[3][1] < events[-1][1]
    generated = finished.generated
    assert 0 < generated.seconds_to_first <= generated.seconds
    assert [e.sentence for e, _ in ready] == list(generated.sentences)


@pytest.mark.llm_server
def test_a_decline_leaves_the_extractive_answer(llama, embed):
    question = "What is the capital of Australia?"
    settings = settings_for(llama.base_url, structured=True)
    result = generate_answer(question, answer_for(question, ["festival"]), settings, embed, article_text)
    assert result.outcome == "declined" and result.sentences == () and result.shown == ()
    assert result.fallback == "the model (smollm2) found no answer in the passages; the extractive answer is shown"


@pytest.mark.llm_server
def test_closing_the_stream_cancels_the_request(llama, embed):
    settings = settings_for(llama.base_url, max_tokens=256)
    generation = generate("Why did the harbour bridge close?", answer_for("q", ["bridge", "festival"]), settings,
                          embed, article_text)
    events = []
    worker = threading.Thread(target=lambda: events.extend(generation))
    worker.start()
    assert wait_until(lambda: llama.decoded() >= 2, 120)  # writing (a prompt being read is dropped after it)
    closed_at = time.monotonic()
    generation.close()  # from another thread, as a new question does
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - closed_at < 5
    assert wait_until(lambda: not llama.busy(), 10)  # the server stopped working on it
    assert generation.result.outcome == "cancelled"
    assert not any(isinstance(e, Finished) and e.generated.outcome != "cancelled" for e in events)


@pytest.fixture
def connections(monkeypatch):
    attempts = []
    real_connect = socket.socket.connect

    def record(self, address):
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return attempts


def test_no_connection_when_no_server_is_configured(connections, embed):
    settings = settings_for("")
    assert settings.llm.base_url == ""
    result = generate_answer(COST, answer_for(COST, ["bridge"]), settings, embed, article_text)
    assert result.outcome == "skipped" and result.sentences == ()
    assert result.fallback == "no model server is configured (llm.base_url), so the extractive answer is shown"
    assert connections == []


def test_an_abstained_answer_does_not_call_the_model(embed):
    server = ReplayServer(200, {"choices": [{"message": {"content": "NOT ANSWERED"}}]})
    try:
        answer = answer_for(COST, ["bridge"], abstained=True)
        result = generate_answer(COST, answer, settings_for(server.base_url), embed, article_text)
        assert result.outcome == "skipped" and server.requests == []
        assert result.fallback == "the articles do not answer this, so the model was not asked"
    finally:
        server.stop()


def test_a_server_that_ignores_stream_is_read_whole(embed):
    reply = "The bridge is expected to reopen in June [S1.4]. It closed in March [S9.9]."
    server = ReplayServer(200, {"model": "m", "choices": [{"message": {"content": reply}, "finish_reason": "stop"}]})
    try:
        result = generate_answer("When will it reopen?", answer_for("q", ["bridge"]), settings_for(server.base_url),
                                 embed, article_text, thresholds=THRESHOLDS)
        assert [(s.shown_as, s.reason) for s in result.sentences] == [
            ("written", ""), ("dropped", "it cites no sentence that was given (S9.9)")]
        assert server.requests[0]["stream"] is True and server.requests[0]["cache_prompt"] is False
        assert server.requests[0]["messages"][0]["role"] == "system"
    finally:
        server.stop()


def test_a_question_copied_from_a_passage_is_no_answer(embed):
    # a small model's reply seen on the RGB set: a passage's own question, cited, "verified"
    reply = '{"answerable": true, "sentences": [{"text": "When will the bridge reopen?", "evidence": ["S1.4"]}]}'
    server = ReplayServer(200, {"choices": [{"message": {"content": reply}, "finish_reason": "stop"}]})
    try:
        result = generate_answer("When?", answer_for("q", ["bridge"]), settings_for(server.base_url, structured=True),
                                 embed, article_text, thresholds=THRESHOLDS)
        assert [(s.shown_as, s.reason) for s in result.sentences] == [
            ("dropped", "it asks a question instead of answering")]
        assert result.outcome == "unverified" and result.fallback.startswith("no sentence the model wrote held")
    finally:
        server.stop()
