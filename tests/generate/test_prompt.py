"""The grounded prompt: its exact wording, and sentence ids that map to the article's characters."""

from dataclasses import replace

from rag.config import LLMSettings
from rag.generate.client import request_body
from rag.generate.prompt import RESPONSE_FORMAT, SYSTEM, SYSTEM_STRUCTURED, build_prompt, number_sentences
from tests.generate.conftest import answer_for, article_text

USER = """Passages:

[1] Harbour bridge shut after engineers find cracked bearing — Portmere Gazette, 2024-03-14
S1.1 The old harbour bridge in Portmere closed on 12 March 2024.
S1.2 Engineers traced the closure to a cracked bearing under the north span.
S1.3 Repairs will cost 4.5 million euros, the city council said.
S1.4 The bridge is expected to reopen in June.
S1.5 Ferry operators added extra crossings while the bridge is shut.
S1.6 Mayor Lena Hollis said the city would ask the state for help with the cost.

[2] Jazz festival draws record crowd — Portmere Gazette, 2024-07-02
S2.1 The Portmere jazz festival drew 18,000 visitors this year, a record.
S2.2 Organisers said the new riverside stage helped.
S2.3 Tickets sold out two weeks before the opening night.

Question: Why did the bridge close?"""


def test_the_prompt_numbers_every_sentence_of_every_passage():
    answer = answer_for("Why did the bridge close?", ["bridge", "festival"])
    prompt = build_prompt(answer.question, answer.passages)
    assert prompt.user == USER
    assert prompt.system == SYSTEM
    assert prompt.system.startswith("You answer questions about news articles using only the numbered sentences")
    assert prompt.system.endswith("If they do not answer the question, reply only: NOT ANSWERED")
    assert prompt.messages() == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
    assert prompt.ranks == (1, 2)


def test_sentence_ids_point_at_the_exact_characters_of_the_article():
    answer = answer_for("q", ["bridge", "festival"])
    sentences = number_sentences(answer.passages)
    assert [s.sid for s in sentences] == ["S1.1", "S1.2", "S1.3", "S1.4", "S1.5", "S1.6", "S2.1", "S2.2", "S2.3"]
    for s in sentences:
        assert article_text(s.doc_id)[s.start:s.end] == s.text
    assert (sentences[0].start, sentences[0].end) == (25, 84)


def test_empty_source_and_date_are_left_out():
    answer = answer_for("q", ["festival"])
    bare = replace(answer.passages[0], citation=replace(answer.passages[0].citation, source="", date=""))
    assert build_prompt("q", [bare]).user.splitlines()[2] == "[1] Jazz festival draws record crowd"
    no_date = replace(answer.passages[0], citation=replace(answer.passages[0].citation, date=""))
    assert build_prompt("q", [no_date]).user.splitlines()[2] == \
        "[1] Jazz festival draws record crowd — Portmere Gazette"


def test_earlier_questions_and_answers_come_before_the_question():
    answer = answer_for("and the cost?", ["bridge"])
    user = build_prompt("and the cost?", answer.passages, history=["Why did it close?"]).user
    assert user.endswith("\n\nEarlier questions in this chat: Why did it close?\n\nQuestion: and the cost?")
    user = build_prompt("and the cost?", answer.passages, history=["Who is the mayor?", "Why did it close?"],
                        earlier_answers=["Lena Hollis."]).user
    assert user.endswith("\n\nEarlier questions in this chat:\n- Who is the mayor?\n  Answer: Lena Hollis.\n"
                         "- Why did it close?\n\nQuestion: and the cost?")
    many = build_prompt("q", answer.passages, history=["one?", "two?", "three?", "four?"]).user
    assert "Earlier questions in this chat: two? | three? | four?" in many


def test_structured_mode_asks_for_the_schema():
    answer = answer_for("q", ["festival"])
    prompt = build_prompt("q", answer.passages, structured=True)
    assert prompt.system == SYSTEM_STRUCTURED and '"answerable": false' in prompt.system
    body = request_body(LLMSettings(base_url="http://127.0.0.1:1/v1", model="m"), prompt.messages(), RESPONSE_FORMAT)
    assert body["response_format"]["json_schema"]["name"] == "answer"
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["answerable", "sentences"] and schema["properties"]["sentences"]["maxItems"] == 4


def test_the_request_is_streamed_at_temperature_0_without_the_prompt_cache():
    body = request_body(LLMSettings(base_url="http://127.0.0.1:1/v1", model="llama3.2"), [{"role": "user",
                                                                                            "content": "x"}])
    assert body == {"messages": [{"role": "user", "content": "x"}], "stream": True, "max_tokens": 256,
                    "temperature": 0.0, "cache_prompt": False, "model": "llama3.2"}
    assert "model" not in request_body(LLMSettings(base_url="http://127.0.0.1:1/v1"), [])
