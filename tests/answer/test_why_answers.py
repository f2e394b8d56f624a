"""The extractive answer for why questions: reason first, the event after it, everything cited
verbatim; "not why" when nothing explains the event; sentences from around a passage cited to a
passage made for them."""

from rag.answer.extract import extract_answer
from rag.index.sparse import keyword_tokens
from rag.types import Citation, Document, Passage
from embeddings.fake import FakeEmbedder

ARTICLE = (
    "The council met on Monday to discuss the budget.\n\n"
    "Engineers warned that the old bridge was seen as unsafe after the spring storms.\n\n"
    "The mayor closed the bridge on Tuesday, officials said. Traffic moved to the ring road.\n\n"
    "Shops near the bridge reported fewer customers."
)
DOCUMENT = Document("town-1", ARTICLE, "Bridge closed", "Town News", "/articles/town.txt")


def passage_of(text: str, rank: int = 1) -> Passage:
    start = ARTICLE.index(text)
    citation = Citation("town-1", "Bridge closed", "Town News", "/articles/town.txt", start, start + len(text))
    return Passage(rank, text, 1.0, citation)


def ask(question: str, passages: list[Passage], article=None):
    embedder = FakeEmbedder(64)
    return extract_answer(question, embedder.embed([question])[0], set(keyword_tokens(question)), passages,
                          embedder.embed, keyword_tokens, 3, article)


def test_without_a_reason_the_note_says_what_was_not_found_never_that_the_articles_do_not_tell():
    event = "The mayor closed the bridge on Tuesday, officials said. Traffic moved to the ring road."
    extraction = ask("Why did the mayor close the bridge?", [passage_of(event)])
    assert [s.sentence for s in extraction.sentences] == ["The mayor closed the bridge on Tuesday, officials said."]
    assert extraction.note == ("No sentence here states why in words this system recognises; the passages may "
                               "still say it: “The mayor closed the bridge on Tuesday, officials said.” [1].")
    assert extraction.added_passages == ()


def test_a_cause_the_cues_miss_never_gets_a_note_claiming_the_articles_do_not_tell(tmp_path):
    """The issue's example: the cause is stated outright but in wording no cue knows."""
    from rag.config import Settings
    from rag.engine import Engine

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "grid.md").write_text("# Blackout\n\nThe city lost power for six hours on Sunday. Engineers have traced "
                                    "the blackout to a cracked bearing in the main turbine.\n\nThe utility said "
                                    "repairs would take a week.\n", encoding="utf-8")
    engine = Engine(Settings(), tmp_path / "index")  # the real model: the question is quality
    engine.ingest([folder])
    answer = engine.ask("Why did the city lose power on Sunday?")
    assert "but not why" not in answer.note and "do not" not in answer.note
    cited = {p.rank: p.text for p in answer.passages}
    assert any("traced the blackout to a cracked bearing" in cited[s.passage_rank] for s in answer.answer)


def test_a_reason_just_before_the_passage_is_found_in_the_article_and_cited_to_its_paragraph():
    event = "The mayor closed the bridge on Tuesday, officials said. Traffic moved to the ring road."
    extraction = ask("Why did the mayor close the bridge?", [passage_of(event)],
                     article=lambda doc_id: DOCUMENT if doc_id == "town-1" else None)
    reason = "Engineers warned that the old bridge was seen as unsafe after the spring storms."
    assert [(s.sentence, s.passage_rank) for s in extraction.sentences] == [
        (reason, 2), ("The mayor closed the bridge on Tuesday, officials said.", 1)]
    assert extraction.note == ""
    (added,) = extraction.added_passages
    assert added.rank == 2 and added.text == reason
    assert ARTICLE[added.citation.start:added.citation.end] == added.text
    assert (added.citation.doc_id, added.citation.source) == ("town-1", "Town News")


def test_other_questions_get_the_best_matching_sentences_as_before():
    extraction = ask("Who closed the bridge?", [passage_of(
        "The mayor closed the bridge on Tuesday, officials said. Traffic moved to the ring road.")])
    assert extraction.sentences[0].sentence == "The mayor closed the bridge on Tuesday, officials said."
    assert extraction.note == "" and extraction.added_passages == ()


def test_every_sentence_is_embedded_through_the_one_callable():
    seen: list[list[str]] = []
    embedder = FakeEmbedder(64)

    def embed_sentences(texts: list[str]):
        seen.append(texts)
        return embedder.embed(texts)

    question = "Why did the mayor close the bridge?"
    extract_answer(question, embedder.embed([question])[0], set(keyword_tokens(question)),
                   [passage_of("The mayor closed the bridge on Tuesday, officials said.")], embed_sentences,
                   keyword_tokens, 3, lambda doc_id: DOCUMENT)
    assert seen == [["The mayor closed the bridge on Tuesday, officials said."]]


def test_the_example_question_gives_the_reason_first_cited_to_middle_east_eye(real_engine):
    answer = real_engine.ask("why did Sadr cancel his itikaf?")
    assert not answer.abstained and answer.note == ""
    first = answer.answer[0]
    assert "provoke Sadrists" in first.sentence or "explicit threat to Sadr" in first.sentence, answer.answer
    passages = {p.rank: p for p in answer.passages}
    assert passages[first.passage_rank].citation.source == "Middle East Eye"
    for sentence in answer.answer:
        assert sentence.sentence in passages[sentence.passage_rank].text
    # The event comes after its reason.
    events = [n for n, s in enumerate(answer.answer) if s.sentence.startswith("He cancelled his itikaf")]
    assert events and events[0] > 0
    # A passage added for context lies in its article exactly where its citation says.
    for passage in answer.passages[len(answer.passages) - answer.context_passages:]:
        document = real_engine.document(passage.citation.doc_id)
        assert document.text[passage.citation.start:passage.citation.end] == passage.text


def test_a_reason_in_the_event_sentence_comes_first(real_engine):
    answer = real_engine.ask("Why did Grand Ayatollah Haeri retire?")
    assert "due to illness and advanced age" in answer.answer[0].sentence
    assert answer.to_json()["note"] == "" and "context_passages" in answer.to_json()
