"""rag/export.py: Markdown and JSON of a conversation or one answer, and the quote with its
citation, with exact expectations."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rag.answer.cards import cards
from rag.conversations import Conversation, Turn
from rag.export import (FORMAT, conversation_json, conversation_markdown, describe_dates, describe_where,
                        export_filename, markdown_text, quote_with_citation, reference, turn_json, turn_markdown)
from rag.types import Answer, AnswerSentence, Citation, Passage, Where
from tests.test_conversations import MAY, answer

SADR_REFERENCE = ("How Sadr’s foes are trying. Middle East Eye, 3 May 2024. iraq-archive.txt, lines 185–191 "
                  "(characters 25166–25526). https://example.org/sadr")


def test_a_reference_names_title_source_date_location_and_url():
    first, second = answer().passages
    assert reference(first.citation) == SADR_REFERENCE
    assert reference(second.citation) == "Despite gains. UN News. iraq-archive.txt, characters 0–200 of the article."
    bare = Citation("d", "", "", "/x/notes.html", 5, 9)
    assert reference(bare) == "notes.html. notes.html, characters 5–9 of the article."
    cut = replace(second.citation, title="Tenth report of the Special Adviser …", date="2024-05")
    assert reference(cut).startswith("Tenth report of the Special Adviser … UN News, May 2024. ")


@pytest.mark.parametrize("where,words", [
    (None, ""),
    (Where(), ""),
    (MAY, "UN News · May 2024"),
    (Where(sources=("UN News", "Reuters")), "UN News, Reuters"),
    (Where(since="2024-05-03", until="2024-06-09", undated=True), "3 May 2024 to 9 June 2024 · undated articles too"),
    (Where(since="2024"), "from 2024"),
    (Where(until="2023-02"), "up to February 2023"),
    (Where(doc_ids=("a",)), "1 pinned article"),
    (Where(doc_ids=("a", "b"), undated=True), "2 pinned articles"),  # undated only matters with dates
])
def test_a_filter_reads_in_words(where, words):
    assert describe_where(where) == words


def test_a_date_range_of_one_month_or_year_is_named_once():
    assert describe_dates("2024-05", "2024-05") == "May 2024"
    assert describe_dates("2024", "2024") == "2024"
    assert describe_dates("2024-05", "2024-06") == "May 2024 to June 2024"


def test_the_quote_is_the_sentences_the_answer_took_else_the_passage_then_the_reference():
    shown = answer()
    first, second = cards(shown)
    assert quote_with_citation(first, shown) == f"“He cancelled his itikaf.”\n— {SADR_REFERENCE}"
    assert quote_with_citation(second, shown) == ("“The council met.”\n— Despite gains. UN News. iraq-archive.txt, "
                                                  "characters 0–200 of the article.")


def test_untrusted_text_cannot_become_markup_in_markdown():
    assert markdown_text("![x](http://evil.example/p.png) <script>a</script>\n# *b* _c_ `d` | e ~f~") == (
        r"!\[x\](http://evil.example/p.png) \<script\>a\</script\> \# \*b\* \_c\_ \`d\` \| e \~f\~")


def test_an_answer_in_markdown_numbers_its_citations_as_the_cards_do():
    shown = answer()
    # the answer cites passage 1 only: it is [1]; passage 2 scores under the floor: folded, [2]
    assert [(c.number, c.passage.rank, c.folded) for c in cards(shown)] == [(1, 1, False), (2, 2, True)]
    assert turn_markdown(Turn(shown.question, shown, where=MAY), "#") == (
        "# why did Sadr cancel his itikaf?\n\n"
        "Filter: UN News · May 2024\n\n"
        "- He cancelled his itikaf. [1]\n\n"
        "*Note: The articles report that this happened but not why.*\n\n"
        "Sources:\n\n"
        "- [1] How Sadr’s foes are trying. Middle East Eye, 3 May 2024. iraq-archive.txt, lines 185–191 "
        "(characters 25166–25526). <https://example.org/sadr>\n\n"
        "More passages:\n\n"
        "- [2] Despite gains. UN News. iraq-archive.txt, characters 0–200 of the article.\n")


def test_numbers_follow_the_order_the_answer_cites_and_context_passages_say_so():
    base = answer()
    context = Passage(3, "Engineers traced it. He cancelled.", 0.0, replace(base.passages[1].citation, doc_id="ctx",
                                                                             title="Context piece"))
    cited = replace(base, passages=(*base.passages, context), context_passages=1, note="",
                    answer=(AnswerSentence("The council met.", 2), AnswerSentence("Engineers traced it.", 3),
                            AnswerSentence("He cancelled his itikaf.", 1)))
    body = turn_markdown(Turn("q?", cited))
    assert body.split("\n\n")[1] == ("- The council met. [1]\n- Engineers traced it. [2]\n"
                                     "- He cancelled his itikaf. [3]")
    assert "- [1] Despite gains." in body and "- [3] How Sadr’s foes are trying." in body
    assert ("- [2] Context piece. UN News. iraq-archive.txt, characters 0–200 of the article. (added for context: "
            "the paragraph around a quoted sentence)") in body
    assert "More passages" not in body


def test_an_abstention_says_so_with_the_reason_and_the_closest_passages():
    base = answer()
    abstained = replace(base, abstained=True, answer=(), note="", reason="no passage matches well enough: 0.14")
    assert turn_markdown(Turn("capital of Australia?", abstained)) == (
        "## capital of Australia?\n\n"
        "**None of the articles answers this closely enough.** (Why: no passage matches well enough: 0.14.)\n\n"
        "Closest passages, for you to judge:\n\n"
        f"- [1] {SADR_REFERENCE[:-len(' https://example.org/sadr')]} <https://example.org/sadr>\n"
        "- [2] Despite gains. UN News. iraq-archive.txt, characters 0–200 of the article.\n")
    none = Answer("q?", True, (), reason="no article matches the filter")
    assert turn_markdown(Turn("q?", none, where=MAY)) == (
        "## q?\n\nFilter: UN News · May 2024\n\n**No article matches the filter, so there is nothing to answer "
        "from.**\n")


def test_a_follow_up_says_what_was_searched():
    base = replace(answer(), question="Why did he cancel it?", search_query="sadr itikaf Why did he cancel it?")
    assert turn_markdown(Turn("Why did he cancel it?", base)).split("\n\n")[1] == (
        "*Read as a follow-up to the earlier question (searched for: sadr itikaf Why did he cancel it?).*")


def conversation() -> Conversation:
    return Conversation("c1", "why did Sadr cancel his itikaf?", "2024-05-03T09:00:00+00:00",
                        "2024-05-04T10:00:00+00:00",
                        (Turn("why did Sadr cancel his itikaf?", answer(), where=MAY),
                         Turn("And then?", message="No articles are indexed yet.")))


def test_a_conversation_in_markdown_is_its_title_then_each_question_numbered():
    text = conversation_markdown(conversation(), "sample")
    assert text.startswith("# why did Sadr cancel his itikaf?\n\n"
                           "2 questions, 3 May 2024 to 4 May 2024, collection sample.\n\n"
                           "## 1. why did Sadr cancel his itikaf?\n\nFilter: UN News · May 2024\n\n")
    assert text.endswith("\n## 2. And then?\n\n*No articles are indexed yet.*\n")
    assert text.count("- [1] How Sadr’s foes") == 1


def test_a_conversation_in_json_holds_each_turn_with_its_answer_json():
    data = conversation_json(conversation(), "sample")
    assert json.loads(json.dumps(data)) == data
    assert {k: v for k, v in data.items() if k != "turns"} == {
        "format": FORMAT, "id": "c1", "title": "why did Sadr cancel his itikaf?", "collection": "sample",
        "created": "2024-05-03T09:00:00+00:00", "updated": "2024-05-04T10:00:00+00:00"}
    first, second = data["turns"]
    assert first == {"question": "why did Sadr cancel his itikaf?", "where": MAY.to_json(),
                     "answer": answer().to_json(), "message": ""}
    assert second == {"question": "And then?", "where": None, "answer": None, "message": "No articles are indexed yet."}
    assert Answer.from_json(first["answer"]).to_json() == first["answer"]
    assert turn_json(Turn("q", answer())) == {"question": "q", "where": None, "answer": answer().to_json(),
                                              "message": ""}


def test_export_file_names_come_from_the_title():
    assert export_filename("Why did Sadr cancel his itikaf?", ".md") == "why-did-sadr-cancel-his-itikaf.md"
    assert export_filename("لماذا ألغى الصدر اعتكافه؟", ".json") == "لماذا-ألغى-الصدر-اعتكافه.json"
    assert export_filename("???", ".md") == "conversation.md"
