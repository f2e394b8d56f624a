"""The UI's pure functions (ui/handlers.py) with exact expectations, then the wiring in ui/app.py
over an engine with the fake embedder (no browser, no server)."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rag.answer.cards import Card
from rag.types import (Answer, AnswerSentence, Citation, Document, DocumentInfo, Evidence, FileFailure, FilePosition,
                       IngestReport, Passage)
from ui import handlers as h
from ui import upload_files as files
from rag.index.base import page_of_documents
from ui.article_list import ARTICLES_SHOWN, render_article_list

PAYLOADS = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=2">',
            "[click](javascript:window.__pwned=3)", "![x](http://evil.example/pixel.png)")
HOSTILE = " ".join(PAYLOADS)
ARTICLE = "Title line\n\nFirst paragraph. " + HOSTILE + "\n\nHe cancelled his itikaf. The end."


class TagCollector(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(markup)
    collector.close()
    return collector


def assert_inert(markup: str) -> None:
    """No script, image, event handler or link other than our own in-page markers."""
    for tag, attrs in parse(markup).tags:
        assert tag not in ("script", "img", "iframe", "object", "embed", "style", "link"), tag
        assert not [a for a in attrs if a.startswith("on") or a in ("src", "srcset", "style")], (tag, attrs)
        if tag == "a":
            assert attrs.get("href") == "#" and attrs.get("class") == "marker", attrs


def citation(doc_id: str = "doc-1", start: int = 0, end: int = 10, **fields) -> Citation:
    values = {"title": "A title", "source": "Middle East Eye", "path": "/data/a.txt", **fields}
    return Citation(doc_id, values["title"], values["source"], values["path"], start, end)


def passage(rank: int, text: str = "Some passage.", dense: float | None = 0.62, terms=("sadr",),
            **fields) -> Passage:
    return Passage(rank, text, 1.0 / rank, citation(**fields), dense, 3.0, tuple(terms))


def card(passage_: Passage, number: int = 1, context: bool = False) -> Card:
    return Card(number, passage_, cited=False, context=context, folded=False)


# escaping --------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_renders_as_literal_text_everywhere(payload):
    hostile = passage(1, f"Before {payload} after.", title=f"Title {payload}", source=f"Src {payload}")
    answer = Answer(f"Q {payload}?", False, (hostile,), (AnswerSentence(f"Before {payload} after.", 1),),
                    f"searched {payload}")
    chat = (h.ChatTurn(answer.question, answer),)
    document = Document("doc-1", f"Before {payload} after.", f"Title {payload}", f"Src {payload}", "/a.txt",
                        url=f"javascript:{payload}")
    rendered = {
        "conversation": h.render_conversation(chat),
        "article": h.render_article(document, h.CitationRequest("doc-1", 0, 6, 1)),
        "list": list_of([DocumentInfo("doc-1", f"Title {payload}", f"Src {payload}", "/a.txt", 2)]),
        "message": h.render_conversation((h.ChatTurn("q", message=f"Failed: {payload}"),)),
    }
    for name, markup in rendered.items():
        assert_inert(markup)
        assert payload in "".join(parse(markup).text), name  # shown, as text
    assert html.escape(payload, quote=True) in rendered["conversation"]


def test_escape_turns_all_five_special_characters_into_entities():
    assert h.escape(PAYLOADS[1]) == "&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;"
    assert h.escape("a & 'b'") == "a &amp; &#x27;b&#x27;"


# answers, markers and cards --------------------------------------------------------------------


def test_markers_number_the_passage_each_sentence_comes_from():
    first = passage(1, "One. Alpha sentence.", doc_id="d1", start=5, end=25)
    second = passage(2, "Beta sentence. Two.", doc_id="d2", start=40, end=59)
    answer = Answer("q", False, (first, second),
                    (AnswerSentence("Beta sentence.", 2), AnswerSentence("Alpha sentence.", 1)), "q")
    markup = h.render_answer(answer, turn=3)
    markers = [attrs for tag, attrs in parse(markup).tags if tag == "a"]
    # numbered in the order the answer first cites them: passage 2 is [1], passage 1 is [2]
    assert [(m["data-doc"], m["data-start"], m["data-end"], m["data-number"], m["data-turn"]) for m in markers] == [
        ("d2", "40", "59", "1", "3"), ("d1", "5", "25", "2", "3")]
    assert '<li dir="auto">Beta sentence. <a href="#" class="marker" data-doc="d2"' in markup
    assert 'title="Show in the article">[1]</a></li><li dir="auto">Alpha sentence.' in markup
    cards = [attrs for tag, attrs in parse(markup).tags if tag == "div" and attrs.get("class") == "card"]
    assert [(c["data-doc"], c["data-number"]) for c in cards] == [("d2", "1"), ("d1", "2")]
    assert [n.split("]")[0] for n in markup.split('<span class="card-number">[')[1:]] == ["1", "2"]
    assert "followup" not in markup and "searched" not in markup.casefold()


def test_answer_sentences_are_bold_inside_their_card():
    assert h.emphasise("One. <Two>. Three.", ["<Two>.", "Missing."]) == \
        'One. <b class="answer-hit">&lt;Two&gt;.</b> Three.'
    assert h.emphasise("A. B.", ["A. B.", "B."]) == '<b class="answer-hit">A. B.</b>'
    # the same words with the line laid out differently are still the sentence
    assert h.emphasise("It was a\nthreat. End.", ["It was a threat."]) == \
        '<b class="answer-hit">It was a\nthreat.</b> End.'


def test_each_card_bolds_exactly_the_sentences_the_answer_took_from_it():
    # Passages overlap by a sentence: "Shared sentence here." is in both, but the answer took it
    # from passage 2, so only card [2] bolds it; card [1] bolds the sentence taken from it.
    first = passage(1, "The cause came first. Shared sentence here.", doc_id="d", start=0, end=43)
    second = passage(2, "Shared sentence here. The event came next.", doc_id="d", start=22, end=64)
    answer = Answer("why?", False, (first, second),
                    (AnswerSentence("The cause came first.", 1), AnswerSentence("Shared sentence here.", 2)), "why?")
    cards = h.render_answer(answer).split('<div class="card"')[1:]
    bold = [[piece.split("</b>")[0] for piece in card.split('<b class="answer-hit">')[1:]] for card in cards]
    assert bold == [["The cause came first."], ["Shared sentence here."]]
    abstained = Answer("q", True, (first, second), (), "q", "weak")
    assert "answer-hit" not in h.render_answer(abstained)


def test_a_follow_up_says_so_in_words_with_the_search_in_the_tooltip():
    answer = Answer("Why did he cancel it?", False, (passage(1),), (), "sadr cancel Why did he cancel it?")
    assert h.render_answer(answer).startswith(
        '<div class="followup" title="Searched for: sadr cancel Why did he cancel it?">'
        "Read as a follow-up to the earlier question.</div>")


def test_relevance_is_a_closeness_word_with_the_number_in_the_tooltip_and_key_words():
    text = "He cancelled his itikaf after Sadr’s aides saw the video."
    assert h.evidence_html(card(passage(1, text, dense=0.6234, terms=("sadr", "itikaf")))) == (
        '<span class="badge best">best match</span> · <span class="closeness" title="Cosine similarity 0.62 '
        'between the question and the passage (from -1 to 1; around 0.5 and above is close). Not a probability.">'
        'very close in meaning</span> · <span class="terms">key words: <bdi>Sadr, itikaf</bdi></span>')
    assert h.evidence_html(card(passage(3, dense=None, terms=()))) == ""
    assert "closest match" in h.evidence_html(card(passage(1)), abstained=True)
    assert [h.closeness(s) for s in (0.72, 0.6, 0.5, 0.31, 0.12, -0.2)] == [
        "very close in meaning", "very close in meaning", "close in meaning", "loosely related",
        "distant in meaning", "distant in meaning"]
    shown = h.render_answer(Answer("q", False, (passage(1, dense=0.3), passage(2, dense=0.2)), (), "q"))
    visible = "".join(parse(shown).text)  # the numbers are in tooltips only
    assert "%" not in visible and "0.30" not in visible and "0.20" not in visible and "osine" not in visible
    assert "Cosine similarity 0.30 " in shown and "loosely related" in visible


def test_closeness_is_not_claimed_in_a_language_the_model_does_not_read():
    arabic = replace(passage(1, "ألغى الصدر اعتكافه.", dense=0.08, terms=("الصدر",)),
                     citation=replace(citation(), language="ar"))
    english_only = h.Rendering(frozenset({"en"}))
    assert "closeness" not in h.evidence_html(card(arabic), rendering=english_only)
    assert "key words: <bdi>الصدر</bdi>" in h.evidence_html(card(arabic), rendering=english_only)
    assert "distant in meaning" in h.evidence_html(card(arabic))  # a model that reads every language


def test_a_context_card_says_it_was_added_for_context():
    retrieved = passage(1, "The dam opened in May.", doc_id="d", start=100, end=122)
    added = passage(2, "Engineers traced the fault to a cracked bearing. The dam opened in May.", doc_id="d",
                    start=60, end=122, dense=None, terms=())
    answer = Answer("why?", False, (retrieved, added), (AnswerSentence("Engineers traced the fault to a cracked "
                                                                       "bearing.", 2),), "why?", context_passages=1)
    markup = h.render_answer(answer)
    first = markup.split('<div class="card ')[1].split('<div class="card"')[0]
    assert first.startswith('context" role="button"') and '<span class="card-number">[1]</span>' in first
    assert ('<div class="card-context" title="' + h.escape(h.CONTEXT_HELP) + '">Added for context: the paragraph '
            "around a sentence the answer quotes.</div>") in first
    assert '<span class="badge context"' in first and "best match" not in first


def test_passages_far_below_the_best_fold_under_more_passages():
    strong, weak = passage(1, "Strong one.", doc_id="a"), passage(2, "Weak one.", doc_id="b")
    weak = replace(weak, score=0.2)
    answer = Answer("q", False, (strong, weak), (AnswerSentence("Strong one.", 1),), "q")
    markup = h.render_answer(answer)
    opened, folded = markup.split('<details class="more-passages"><summary>More passages (1)</summary>')
    assert 'data-doc="a"' in opened and 'data-doc="b"' not in opened and 'data-doc="b"' in folded


def test_the_note_is_shown_under_the_answer():
    note = "The articles report that this happened but not why."
    answer = Answer("q", False, (passage(1),), (AnswerSentence("Some passage.", 1),), "q", note=note)
    markup = h.render_answer(answer)
    assert f'</ul><div class="answer-note" dir="auto">{note}</div><div class="sources-label">' in markup


def test_key_words_are_shown_as_the_passage_writes_them_not_stemmed():
    text = "Residents fled the heat as the volcano erupted. Later, residents returned; it erupts often."
    shown = h.evidence_html(card(passage(2, text, terms=("resid", "heat", "erupt", "volcano", "lava"), title="Lava")))
    assert shown.endswith('<span class="terms">key words: <bdi>Residents, heat, erupted, volcano, Lava</bdi></span>')
    # an index built without stemming matches whole words: shown as written too
    unstemmed = card(passage(2, text, terms=("erupted", "residents")))
    assert "key words: <bdi>erupted, Residents</bdi>" in h.evidence_html(unstemmed)
    # a term the text does not hold (should not happen) is shown as the index has it
    assert "key words: <bdi>zzz</bdi>" in h.evidence_html(card(passage(2, text, terms=("zzz",))))
    # two stems written the same way are one word
    assert "key words: <bdi>Residents</bdi>" in h.evidence_html(card(passage(2, text, terms=("resid", "residents"))))


def test_cards_show_readable_dates_and_locations_that_mean_something():
    html_passage = Passage(1, "Bridge text.", 1.0, Citation("bridge", "The bridge", "City News", "/x/bridge.html",
                                                            0, 474, date="2024-05-03T09:00:00Z"))
    shown = h.render_card(card(html_passage), 0)
    assert '<div class="card-source"><bdi>City News</bdi> · <bdi>3 May 2024</bdi></div>' in shown
    assert '<div class="card-where">bridge.html, characters 0–474 of the article</div>' in shown
    pdf = Passage(1, "Harbour text.", 1.0, Citation("harbour", "Harbour", "Port Weekly", "/x/harbour.pdf", 10, 90,
                                                    file=FilePosition(None, None, None, None, 3)))
    assert '<div class="card-where">harbour.pdf, p. 3</div>' in h.render_card(card(pdf), 0)
    text = Passage(1, "T.", 1.0, Citation("a", "A", "S", "/x/a.txt", 5, 9, file=FilePosition(105, 109, 7, 8)))
    assert '<div class="card-where">a.txt, lines 7–8 (characters 105–109)</div>' in h.render_card(card(text), 0)


@pytest.mark.parametrize("raw,shown", [
    ("2024-05-03T09:00:00Z", "3 May 2024"),
    ("2024-05-03T23:30:00-05:00", "3 May 2024"),  # the day as written, not converted
    ("2024-05-03", "3 May 2024"),
    ("Fri, 03 May 2024 09:00:00 GMT", "3 May 2024"),
    ("2024-05", "May 2024"),
    ("2024", "2024"),
    ("spring 2024", "spring 2024"),
    ("", ""),
])
def test_dates_are_written_as_people_write_them(raw, shown):
    from rag.wording import readable_date

    assert readable_date(raw) == shown


def test_long_titles_carry_their_full_text_as_a_tooltip():
    title = "A very long title " * 8
    shown = h.render_card(card(passage(1, title=title)), 0)
    assert f'<span class="card-title" dir="auto" title="{h.escape(title.strip())}">' in shown
    panel = h.render_article(Document("d", "text", title, "", "/a.txt"), h.CitationRequest("d", 0, 2))
    assert f'<div class="article-title" dir="auto" title="{h.escape(title.strip())}">' in panel
    # archive pages cut long titles in the file itself: the tooltip says there is no more
    cut = "Tenth report of the Special Adviser and Head of the United Nations …"
    listed = list_of([DocumentInfo("r", cut, "ReliefWeb", "/x/a.txt", 4)])
    assert f'<td class="title" dir="auto" title="{cut} (the title is cut short in the file itself)">' in listed


def test_abstention_says_so_plainly_with_the_numbers_folded_under_why():
    reason = "no passage matches well enough: best similarity 0.23 + key-word coverage 0.00 = 0.23, below 1.00"
    answer = Answer("What is the capital of Australia?", True, (passage(1), passage(2)), (), "", reason,
                    Evidence(0.2312, 0.0))
    markup = h.render_answer(answer)
    assert markup.startswith(
        '<div class="abstained"><strong>None of the articles answers this closely enough.</strong>'
        f'<details class="why"><summary>Why?</summary><div class="reason">{reason}.</div>'
        '<div class="reason">Best similarity 0.23, key-word coverage 0.00: strength 0.23.</div></details></div>'
        '<details class="closest"><summary>Closest passages (2), for you to judge</summary>')
    assert "<details class=\"closest\" open" not in markup and "answer-sentences" not in markup
    assert markup.count('class="card"') == 2 and "closest match" in markup
    assert h.render_answer(Answer("q", True, (), (), "", "no article matches the filter")) == (
        '<div class="abstained"><strong>No article matches the filter, so there is nothing to answer from.'
        '</strong></div>')


def test_turns_show_searching_then_the_answer_or_a_message():
    pending = h.render_turn(h.ChatTurn("q?"), 0)
    assert pending == ('<div class="turn" data-turn="0"><div class="question" dir="auto">q?</div><div class="reply">'
                       '<div class="searching">Searching the articles…</div></div></div>')
    message = h.render_turn(h.ChatTurn("q?", message=h.NO_INDEX_MESSAGE), 1)
    assert "<code>rag ingest PATH</code>" in message and 'class="notice"' in message
    assert "appear here" in h.render_conversation(())


def test_index_status_tells_an_empty_index_how_to_add_articles():
    assert "empty-index" in h.render_index_status(0) and "<code>rag ingest PATH</code>" in h.render_index_status(0)
    assert "your 1 article." in h.render_index_status(1)
    assert "your 5 articles." in h.render_index_status(5)


# chat history ----------------------------------------------------------------------------------


def test_history_is_the_earlier_questions_oldest_first():
    chat = h.add_question((), "why did Sadr cancel his itikaf?")
    assert chat == (h.ChatTurn("why did Sadr cancel his itikaf?"),) and chat[-1].pending
    assert h.earlier_questions(chat) == []
    answer = Answer("why did Sadr cancel his itikaf?", False, ())
    chat = h.settle_last(chat, answer=answer)
    assert chat[-1].answer is answer and not chat[-1].pending
    chat = h.add_question(chat, "  Why did he cancel it?  ")
    chat = h.add_question(h.settle_last(chat, message="oops"), "And then?")
    assert h.earlier_questions(chat) == ["why did Sadr cancel his itikaf?", "Why did he cancel it?"]
    assert h.add_question(chat, "   ") == chat
    assert h.settle_last((), message="x") == ()


# the article panel -----------------------------------------------------------------------------


@pytest.mark.parametrize("start,end", [(12, 30), (0, 5), (len(ARTICLE) - 9, len(ARTICLE))])
def test_highlight_wraps_exactly_the_cited_characters(start, end):
    document = Document("doc-1", ARTICLE, "T", "S", "/x/a.txt", url="https://example.org/a")
    markup = h.render_article(document, h.CitationRequest("doc-1", start, end, 2))
    body = markup.split('<div class="article-text" dir="auto">', 1)[1].rsplit("</div></div>", 1)[0]
    before, rest = body.split('<mark class="cited">')
    inside, after = rest.split("</mark>")
    assert (html.unescape(before), html.unescape(inside), html.unescape(after)) == (
        ARTICLE[:start], ARTICLE[start:end], ARTICLE[end:])
    assert f'data-cited="doc-1|{start}|{end}"' in markup
    # the article starts the file (offset 0, line 1), so article and file characters agree
    first_line, last_line = 1 + ARTICLE.count("\n", 0, start), 1 + ARTICLE.count("\n", 0, end)
    lines = f"line {first_line}" if first_line == last_line else f"lines {first_line}–{last_line}"
    assert f"passage [2], {lines} (characters" in markup
    assert f"(characters {start}–{end}) of a.txt" in markup
    extracted = h.render_article(replace(document, offset=None, line=None), h.CitationRequest("doc-1", start, end, 2))
    assert f"passage [2], characters {start}–{end} of the article" in extracted


def test_highlight_of_the_hostile_passage_stays_inert():
    start = ARTICLE.index("<script>")
    end = start + len(HOSTILE)
    markup = h.render_article(Document("d", ARTICLE, "T", "", "/a.txt"), h.CitationRequest("d", start, end))
    assert_inert(markup)
    assert f'<mark class="cited">{h.escape(HOSTILE)}</mark>' in markup


def test_article_panel_links_only_web_urls_and_handles_stale_citations():
    doc = Document("d", "short text", "T", "S", "/a.txt", url="https://example.org/a?b=1&c=2")
    assert ('<a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">'
            in h.render_article(doc, h.CitationRequest("d", 0, 5)))
    stale = h.render_article(doc, h.CitationRequest("d", 3, 99))
    assert "<mark" not in stale and "no longer at this place" in stale
    assert "no longer in the index (gone)" in h.render_article(None, h.CitationRequest("gone", 0, 1))


def test_citation_requests_from_the_browser_are_checked():
    assert h.parse_citation_request({"doc_id": "d", "start": 3, "end": 9, "number": 2}) == \
        h.CitationRequest("d", 3, 9, 2)
    assert h.parse_citation_request({"doc_id": "d", "start": "3", "end": "9"}) == h.CitationRequest("d", 3, 9, 0)
    for bad in (None, [], {"doc_id": ""}, {"doc_id": 5, "start": 0, "end": 1}, {"doc_id": "d", "start": "x", "end": 1},
                {"doc_id": "d", "start": 5, "end": 4}, {"doc_id": "d", "start": -1, "end": 4}):
        assert h.parse_citation_request(bad) is None, bad


# the article list and uploads ------------------------------------------------------------------


def list_of(infos: list[DocumentInfo], match: str = "") -> str:
    """The list as the chat backend renders it over a store holding `infos`: the store's page
    (the default IndexStore.find_documents) and the index's totals."""
    shown, matching = page_of_documents(infos, match, ARTICLES_SHOWN)
    return render_article_list(shown, matching, len(infos), sum(i.chunks for i in infos), match)


def test_article_list_has_title_source_count_a_pin_and_a_remove_button_each():
    infos = [DocumentInfo("a-1", "First", "Raseef22", "/x/one.txt", 27), DocumentInfo("b-2", "", "", "/x/two.md", 1)]
    markup = list_of(infos)
    assert '<div class="summary">2 articles, 28 passages</div>' in markup
    assert ('<tr data-doc="a-1"><td class="title" dir="auto" title="First">First</td><td dir="auto">Raseef22</td>'
            '<td class="num">27</td><td class="file" title="/x/one.txt">one.txt</td><td class="actions">'
            '<button class="pin" data-pin="a-1" data-title="First" aria-pressed="false" title="Pin: ask only about '
            'pinned articles">Pin</button><button class="remove" data-remove="a-1" data-title="First">Remove</button>'
            '</td></tr>') in markup
    assert '<td class="title" dir="auto" title="b-2">b-2</td><td dir="auto">-</td>' in markup
    pinned = render_article_list(infos, 2, 2, 28, "", {"b-2"})
    assert ('<button class="pin" data-pin="b-2" data-title="b-2" aria-pressed="true" title="Pinned: the chat asks '
            'only the pinned articles. Click to unpin.">Pinned</button>') in pinned
    assert 'data-pin="a-1" data-title="First" aria-pressed="false"' in pinned
    empty = list_of([])
    assert "No articles are indexed yet. Add some with the Upload articles button above" in empty
    assert "in the Articles tab" not in empty  # it is the Articles tab


def test_the_article_list_shows_a_page_at_a_time_and_what_the_find_box_matches():
    infos = [DocumentInfo(f"d-{n}", f"Story {n}", "Wire" if n % 2 else "Daily", f"/x/{n}.txt", 3) for n in range(1, 501)]
    markup = list_of(infos)
    assert markup.count("<tr data-doc=") == 200
    assert ('<div class="summary">500 articles, 1,500 passages · showing the first 200: '
            "type in Find to reach the others</div>") in markup
    daily = list_of(infos, "  DAILY ")
    assert daily.count("<tr data-doc=") == 200 and "250 articles match “DAILY”" in daily
    one = list_of(infos, "story 499")
    assert one.count("<tr data-doc=") == 1 and 'data-doc="d-499"' in one and "showing the first" not in one
    none = list_of(infos, "<b>nothing</b>")
    assert "No article matches." in none and "<b>" not in none and "0 articles match" in none


@pytest.mark.parametrize("name,expected", [
    ("arctic-honey.txt", "arctic-honey.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\My Article (1).md", "My_Article_1.md"),
    (".hidden.txt", "hidden.txt"),
    ("<script>alert(1)</script>.html", "script.html"),  # "/" is a folder separator: the last part counts
    ("Q&A: Iraq (part 2).htm", "Q_A_Iraq_part_2.htm"),
    ("Ünïcödé news.JSONL", "Ünïcödé_news.JSONL"),
    ("", "article"),
    ("...", "article"),
    ("noext", "noext"),
    ("x" * 300 + ".txt", "x" * 100 + ".txt"),
])
def test_upload_names_are_sanitised(name, expected):
    assert files.sanitise_filename(name) == expected


def test_an_upload_with_the_name_of_an_earlier_one_is_its_new_version(tmp_path):
    folder, incoming = tmp_path / "uploads", tmp_path / "incoming"
    incoming.mkdir()
    first, second = incoming / "a", incoming / "b"
    first.write_text("one")
    second.write_text("two")
    assert files.store_upload(first, folder, "news.txt") == files.StoredUpload("news.txt", folder / "news.txt", True)
    assert files.store_upload(first, folder, "news.txt") == files.StoredUpload("news.txt", folder / "news.txt", False)
    replaced = files.store_upload(second, folder, "news.txt")
    assert replaced == files.StoredUpload("news.txt", folder / "news.txt", False, folder / ".news.txt.previous")
    assert (folder / "news.txt").read_text() == "two" and replaced.previous.read_text() == "one"
    files.settle_uploads([replaced], failed_paths=[])  # read: the earlier version is gone
    assert sorted(p.name for p in folder.iterdir()) == ["news.txt"] and (folder / "news.txt").read_text() == "two"


def test_a_new_version_that_fails_to_read_gives_way_to_the_earlier_one(tmp_path):
    folder, incoming = tmp_path / "uploads", tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "good").write_text("good")
    (incoming / "bad").write_text("bad")
    (incoming / "other").write_text("other")
    files.store_upload(incoming / "good", folder, "news.txt")
    replaced = files.store_upload(incoming / "bad", folder, "news.txt")
    new = files.store_upload(incoming / "other", folder, "other.txt")
    files.settle_uploads([replaced, new], failed_paths=[str(folder / "news.txt"), folder / "other.txt"])
    assert sorted(p.name for p in folder.iterdir()) == ["news.txt"] and (folder / "news.txt").read_text() == "good"


def test_of_two_files_stored_under_one_name_in_one_upload_the_later_counts():
    a, b, c = Path("/tmp/1"), Path("/tmp/2"), Path("/tmp/3")
    assert files.unique_uploads([(a, "News.txt"), (b, "other.md"), (c, "News.txt")]) == [(c, "News.txt"), (b, "other.md")]


def test_supported_uploads_are_the_readers_types():
    from rag.ingest.readers import SUPPORTED_SUFFIXES

    assert all(files.is_supported_upload(f"article{suffix.upper()}") for suffix in SUPPORTED_SUFFIXES)
    assert {".txt", ".md", ".html", ".jsonl", ".pdf", ".docx", ".epub"} <= set(SUPPORTED_SUFFIXES)
    assert not files.is_supported_upload("photo.png") and not files.is_supported_upload("noext")


def test_ingest_report_uses_the_uploaded_names(tmp_path):
    copy = tmp_path / "news-2.txt"
    bad = tmp_path / "bad.jsonl"
    report = IngestReport(files_added=(str(copy),), failures=(FileFailure(str(bad), "line 1: <not json>"),),
                          documents_added=2, chunks_added=7, warnings=("chunk too long in news-2.txt",))
    stored = [files.StoredUpload("news.txt", copy, True), files.StoredUpload("bad.jsonl", bad, True)]
    assert h.render_ingest_report(report, stored, ["slides.pdf"]) == (
        '<ul class="ingest-report"><li class="ok">added: news.txt</li>'
        '<li class="ok">2 article(s), 7 passage(s) now searchable</li>'
        '<li class="error">failed: bad.jsonl: line 1: &lt;not json&gt;</li>'
        '<li class="warning">warning: chunk too long in news-2.txt</li>'
        f'<li class="error">not uploaded: slides.pdf: unsupported file type (use {", ".join(h.SUPPORTED_SUFFIXES)})'
        '</li></ul>')
    assert h.render_ingest_report(None, []) == ""


# the wiring in ui/app.py over a real Engine with the fake embedder ------------------------------


HONEY = ("---\ntitle: Arctic honey\nsource: Polar Gazette\n---\n"
         "Beekeepers in Tromsø harvested honey. Ingrid Solberg leads them.\n")


@pytest.fixture
def backend(fake_engine):
    from ui.app import ChatBackend

    return ChatBackend(fake_engine)


def test_the_chat_holds_questions_to_the_same_limits_as_the_api(backend, sample_copy):
    backend.engine.ingest([sample_copy])
    chat, *_ = backend.answered(h.add_question((), "why " * 600))
    assert chat[-1].answer is None and "characters long; at most" in chat[-1].message


def test_an_empty_index_gives_messages_not_tracebacks(backend):
    chat, _, conversation, *_ = backend.answered(h.add_question((), "anything?"))
    assert chat[-1].message == h.NO_INDEX_MESSAGE and "<code>rag ingest PATH</code>" in conversation
    status, articles = backend.index_views()
    assert "empty-index" in status and "No articles are indexed yet" in articles
    assert backend.open_article({"doc_id": "x", "start": 0, "end": 1}).count("no longer in the index") == 1


def test_upload_copies_ingests_reports_and_remove_deletes_the_copy(backend, tmp_path):
    incoming = tmp_path / "gradio-temp" / "arctic honey.txt"
    incoming.parent.mkdir()
    incoming.write_text(HONEY, encoding="utf-8")
    (tmp_path / "gradio-temp" / "photo.png").write_bytes(b"\x89PNG")
    progress = []
    status, index_status, articles, sources = backend.ingest_uploads(
        [str(incoming), str(tmp_path / "gradio-temp" / "photo.png")],
        lambda value, desc=None, unit=None: progress.append((value, desc, unit)))
    copy = backend.uploads_dir / "arctic_honey.txt"
    assert copy.read_text(encoding="utf-8") == HONEY
    assert "added: arctic honey.txt" in status and "not uploaded: photo.png" in status
    assert "your 1 article." in index_status and "Polar Gazette" in articles
    assert sources["choices"] == [("Polar Gazette (1)", "Polar Gazette")]
    assert ((1, 1), "Reading files", "files") in progress and ((1, 1), "Saving the index", "steps") in progress

    chat, *_ = backend.answered(h.add_question((), "Who leads the beekeepers in Tromsø?"))
    assert chat[-1].answer.passages[0].citation.source == "Polar Gazette"
    doc_id = chat[-1].answer.passages[0].citation.doc_id

    status, index_status, articles, sources, *_ = backend.remove_article({"doc_id": doc_id})
    assert "Removed “Arctic honey”." in status and "empty-index" in index_status and sources["choices"] == []
    assert not copy.exists()
    assert "not in the index any more" in backend.remove_article({"doc_id": doc_id})[0]


def test_the_articles_tab_lists_the_page_the_store_finds_under_the_index_totals(backend, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": f"n{n}", "title": f"Story {n}" + (" in der Straße" if n % 3 == 0 else ""),
                                          "source": "Wire", "text": f"Story number {n}."}) for n in range(450)))
    backend.engine.ingest([feed])
    markup = backend.article_list()
    assert markup.count("<tr data-doc=") == 200 and 'data-doc="n199"' in markup and 'data-doc="n200"' not in markup
    assert ('<div class="summary">450 articles, 450 passages · showing the first 200: '
            "type in Find to reach the others</div>") in markup
    folded = backend.article_list(" STRASSE")  # found by case folding only: ß is "ss"
    assert folded.count("<tr data-doc=") == 150 and "450 articles, 450 passages · 150 articles match “STRASSE”" in folded
    assert "showing the first" not in folded
    assert backend.article_list("story 44") == list_of(backend.engine.documents(), "story 44")
    assert "No article matches." in backend.article_list("100%") and "0 articles match" in backend.article_list("_")


def test_removing_an_article_keeps_its_upload_until_no_article_comes_from_it(backend, tmp_path):
    two, other = tmp_path / "in" / "notes.jsonl", tmp_path / "in" / "notes.jsonl.txt"
    two.parent.mkdir()
    two.write_text('{"id": "n1", "title": "One", "text": "First note."}\n{"id": "n2", "title": "Two", "text": "Second."}\n')
    other.write_text("Another note, in a file whose path holds the first one's.\n")
    backend.ingest_uploads([str(two), str(other)])
    assert sorted(p.name for p in backend.uploads_dir.iterdir()) == ["notes.jsonl", "notes.jsonl.txt"]
    assert "Removed “One”." in backend.remove_article({"doc_id": "n1"})[0]
    assert (backend.uploads_dir / "notes.jsonl").exists()
    assert "Removed “Two”." in backend.remove_article({"doc_id": "n2"})[0]
    assert sorted(p.name for p in backend.uploads_dir.iterdir()) == ["notes.jsonl.txt"]
    assert "not in the index any more" in backend.remove_article({"doc_id": 5})[0]


VOLCANO = ("---\ntitle: Etna erupts again\nsource: Sicily Today\n---\n"
           "Mount Etna erupted on Sunday. Lava rose {height} metres above the crater, the observatory said.\n")


def test_an_edited_file_uploaded_again_replaces_the_earlier_version(backend, tmp_path):
    first, second = tmp_path / "one" / "volcano.md", tmp_path / "two" / "volcano.md"
    for path, height in ((first, 300), (second, 450)):
        path.parent.mkdir()
        path.write_text(VOLCANO.format(height=height), encoding="utf-8")
    assert "added: volcano.md" in backend.ingest_uploads([str(first)])[0]
    status, _, articles, _ = backend.ingest_uploads([str(second)])
    assert "updated: volcano.md" in status
    assert articles.count("<tr data-doc=") == 1 and "1 article, 1 passage<" in articles
    assert sorted(p.name for p in backend.uploads_dir.iterdir()) == ["volcano.md"]
    chat, *_ = backend.answered(h.add_question((), "How high did the lava rise above Etna's crater?"))
    texts = [p.text for p in chat[-1].answer.passages]
    assert "450 metres" in texts[0] and not any("300 metres" in t for t in texts)


def test_an_edited_file_that_fails_to_read_leaves_the_earlier_version(backend, tmp_path):
    good, bad = tmp_path / "good" / "feed.jsonl", tmp_path / "bad" / "feed.jsonl"
    good.parent.mkdir()
    bad.parent.mkdir()
    good.write_text('{"title": "Harbour news", "text": "The harbour reopened on Monday after the storm."}\n')
    bad.write_text("{not json\n")
    backend.ingest_uploads([str(good)])
    status, _, articles, _ = backend.ingest_uploads([str(bad)])
    assert "failed: feed.jsonl" in status and "Harbour news" in articles
    assert sorted(p.name for p in backend.uploads_dir.iterdir()) == ["feed.jsonl"]
    assert (backend.uploads_dir / "feed.jsonl").read_text() == good.read_text()


def test_a_file_that_fails_to_read_is_reported_and_not_kept(backend, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    status, *_ = backend.ingest_uploads([str(broken)])
    assert "failed: broken.jsonl" in status
    assert not (backend.uploads_dir / "broken.jsonl").exists()


def test_follow_ups_are_asked_with_the_earlier_questions(tmp_path):
    from ui.app import ChatBackend

    class RecordingEngine:
        index_dir = tmp_path
        calls: list = []

        def ask(self, question, k=None, history=(), mode=None, where=None):
            self.calls.append((question, list(history)))
            return Answer(question, True, (), (), question, "nothing here")

    engine = RecordingEngine()
    backend = ChatBackend(engine)
    chat = ()
    for question in ("why did Sadr cancel his itikaf?", "Why did he cancel it?"):
        chat, *_ = backend.answered(h.add_question(chat, question))
    assert engine.calls == [("why did Sadr cancel his itikaf?", []),
                            ("Why did he cancel it?", ["why did Sadr cancel his itikaf?"])]
    chat, *_ = backend.new_chat()
    assert chat == ()


def test_the_api_function_returns_the_answer_json(backend, sample_copy):
    backend.engine.ingest([sample_copy])
    # a JSON string, so that gradio_client does not take citations (with a "path") for files
    expected = backend.engine.ask("Sadr cancelled his itikaf").to_json()
    assert json.loads(backend.ask_api("Sadr cancelled his itikaf")) == expected
    assert len(json.loads(backend.ask_api("Sadr cancelled his itikaf", None, 2))["passages"]) == 2


def test_build_app_names_only_the_ask_endpoint(fake_engine):
    from ui.app import build_app

    app = build_app(fake_engine)
    public = {fn.api_name for fn in app.fns.values() if fn.api_visibility == "public"}
    assert public == {"ask"}


# kept conversations, filters and collections in ui/backend.py ---------------------------------


NEWS = ("---\ntitle: {title}\nsource: {source}\ndate: {date}\n---\n{text}\n")


def news_engine(tmp_path, name: str, articles: list[tuple[str, str, str, str]]):
    """An engine with the fake embedder over (title, source, date, text) articles, one file each."""
    from embeddings.fake import FakeEmbedder
    from rag.engine import Engine
    from tests.conftest import FAKE_SETTINGS

    folder = tmp_path / f"{name}-files"
    folder.mkdir()
    for n, (title, source, date, text) in enumerate(articles):
        (folder / f"a{n}.md").write_text(NEWS.format(title=title, source=source, date=date, text=text))
    engine = Engine(FAKE_SETTINGS, tmp_path / name, embedder=FakeEmbedder(64))
    engine.ingest([folder])
    return engine


@pytest.fixture
def desk(tmp_path):
    """A backend over two collections: "harbour" (three dated articles) and "bees" (one)."""
    from rag.conversations import ConversationStore
    from ui.app import ChatBackend
    from ui.collections import Collection, Collections

    harbour = news_engine(tmp_path, "harbour", [
        ("Harbour dredged", "Port Weekly", "2024-05-03", "The harbour of Kirkwall was dredged in May."),
        ("Harbour ferries", "Port Weekly", "2024-06-10", "Ferries to the harbour of Kirkwall run again."),
        ("Harbour fish", "Island Times", "2024-05-20", "Fish returned to the harbour of Kirkwall.")])
    bees = news_engine(tmp_path, "bees", [("Arctic honey", "Polar Gazette", "2023-08-01", "Bees in Tromsø.")])
    return ChatBackend(Collections([Collection(n, e, ConversationStore.in_index(e.index_dir))
                                    for n, e in (("harbour", harbour), ("bees", bees))]))


def ask_desk(backend, question, chat=(), conversation_id=None, collection="harbour", sources=(), since="",
             until="", undated=False, pinned=()):
    return backend.answered(h.add_question(chat, question), conversation_id, collection, list(sources), since,
                                   until, undated, pinned)


def test_each_answer_is_kept_and_the_page_reopens_the_latest(desk):
    chat, cid, page, listed, *_ = ask_desk(desk, "What happened in the harbour?", sources=["Port Weekly"])
    assert '<div class="asked-under" dir="auto">Filter: Port Weekly</div>' in page
    assert {p.citation.source for p in chat[-1].answer.passages} == {"Port Weekly"}
    chat, same, page, listed, *_ = ask_desk(desk, "And the ferries?", chat, cid)
    assert same == cid and listed.count('<li class="saved') == 1 and "2 questions" in listed
    collection, *opened = desk.page_load()
    assert collection["value"] == "harbour"
    reopened, reopened_id, reopened_page = opened[:3]
    assert reopened == chat and reopened_id == cid and reopened_page == page
    # the filter row is set to the filter of the last question (none)
    assert [opened[5]["value"], opened[6], opened[7], opened[8], opened[9]] == [[], "", "", False, ()]
    assert opened[5]["choices"] == [("Port Weekly (2)", "Port Weekly"), ("Island Times (1)", "Island Times")]


def test_the_latest_conversation_of_any_collection_opens_with_its_filter(desk):
    ask_desk(desk, "What happened in the harbour?")
    chat, cid, *_ = ask_desk(desk, "Who keeps bees?", collection="bees", since="2023", until="2023")
    collection, *opened = desk.page_load()
    assert collection["value"] == "bees" and opened[1] == cid
    assert (opened[6], opened[7]) == ("2023", "2023")


def test_opening_and_deleting_conversations(desk):
    first_chat, first, *_ = ask_desk(desk, "What happened in the harbour?", pinned=(("a0", "Harbour dredged"),))
    second_chat, second, *_ = ask_desk(desk, "Any fish?")
    shown = desk.open_conversation({"id": first}, "harbour")
    assert shown[0] == first_chat and shown[1] == first and shown[9] == (("a0", "Harbour dredged"),)
    assert "Only the pinned article:" in shown[10] and "Harbour dredged" in shown[10]
    assert "no longer kept" in desk.open_conversation({"id": "nope"}, "harbour")[3]
    # deleting another conversation keeps the open one; deleting the open one starts a new chat
    chat, cid, _, listed, _ = desk.delete_conversation({"id": second}, "harbour", first, first_chat)
    assert (chat, cid) == (first_chat, first) and f'data-conversation="{second}"' not in listed
    chat, cid, page, listed, _ = desk.delete_conversation({"id": first}, "harbour", first, first_chat)
    assert (chat, cid) == ((), None) and "appear here" in page and "<li" not in listed


def test_a_bad_date_in_the_filter_is_a_message_not_an_exception(desk):
    chat, *_ = ask_desk(desk, "What happened?", since="2024-13")
    assert chat[-1].answer is None
    assert chat[-1].message == ("Not asked. Filter, “since”: '2024-13' is not a date: use YYYY-MM-DD, YYYY-MM or "
                                "YYYY. Correct it above, then ask again.")
    assert "is not a date" in desk.check_filter("2024-13", "", ())
    assert "ends (2024-05) before it starts (2024-06)" in desk.check_filter("2024-06", "2024-05", ())
    assert desk.check_filter("2024-05", "2024-06", ()) == '<div class="filter-note empty"></div>'


def test_a_month_and_pins_narrow_the_answer(desk):
    chat, *_ = ask_desk(desk, "What happened in the harbour of Kirkwall?", since="2024-05", until="2024-05")
    assert {p.citation.title for p in chat[-1].answer.passages} == {"Harbour dredged", "Harbour fish"}
    pinned, note, listed = desk.toggle_pin({"doc_id": "a1", "title": "Harbour ferries"}, (), "harbour")
    assert pinned == (("a1", "Harbour ferries"),) and 'aria-pressed="true"' in listed
    chat, *_ = ask_desk(desk, "What happened in the harbour of Kirkwall?", pinned=pinned)
    assert {p.citation.doc_id for p in chat[-1].answer.passages} == {"a1"}
    assert desk.toggle_pin({"doc_id": "a1"}, pinned, "harbour")[0] == ()


def test_pin_all_matching_pins_what_find_matches_and_says_how_many(desk, monkeypatch):
    pinned, note, listed, status = desk.pin_matching("port weekly", (), "harbour")
    assert pinned == (("a0", "Harbour dredged"), ("a1", "Harbour ferries"))
    assert "Pinned the 2 articles matching “port weekly”" in status and listed.count('aria-pressed="true"') == 2
    monkeypatch.setattr("ui.article_actions.MAX_PINNED", 1)
    pinned, *_, status = desk.pin_matching("harbour", (), "harbour")
    assert len(pinned) == 1 and "Pinned the first 1 of the 3 articles matching “harbour” (at most 1 at once)" in status
    assert "Type words in Find first" in desk.pin_matching("  ", (), "harbour")[3]
    assert "No article matches “zzz”" in desk.pin_matching("zzz", (), "harbour")[3]


def test_switching_collection_starts_a_new_chat_over_its_articles(desk):
    chat, cid, *_ = ask_desk(desk, "What happened in the harbour?")
    switched = desk.switch_collection("bees")
    assert switched[:2] == ((), None) and switched[5]["choices"] == [("Polar Gazette (1)", "Polar Gazette")]
    assert "your 1 article." in switched[11] and "Arctic honey" in switched[12] and "Harbour" not in switched[12]
    chat, *_ = ask_desk(desk, "Who keeps bees?", collection="bees")
    assert chat[-1].answer.passages[0].citation.title == "Arctic honey"


def test_a_read_only_server_keeps_no_conversation(fake_engine, sample_copy):
    from fastapi.testclient import TestClient

    from rag.conversations import FILE_NAME
    from ui.app import ChatBackend
    from ui.server import build_server_app

    fake_engine.ingest([sample_copy])
    backend = ChatBackend(fake_engine, read_only=True)
    chat, cid, page, listed, *_ = backend.answered(h.add_question((), "why did Sadr cancel his itikaf?"))
    assert chat[-1].answer is not None and cid is None
    assert "read-only: conversations are not kept" in listed and "<li" not in listed
    assert "read-only" in backend.page_load()[4]
    app, _ = build_server_app(fake_engine, read_only=True)
    with TestClient(app) as client:
        refused = client.get("/api/conversations")
        assert refused.status_code == 403 and refused.json() == {
            "error": "this server is read-only (rag serve --read-only): it keeps no conversations"}
        assert client.get("/api/collections").json()[0]["keeps_conversations"] is False
    assert not (fake_engine.index_dir / FILE_NAME).exists()


def test_the_conversation_list_escapes_titles_and_links_the_open_ones_exports():
    from rag.conversations import ConversationSummary
    from ui.conversation_list import render_conversation_list

    kept = [ConversationSummary("c2", "<b>Why</b> did it?", "2024-05-03T09:00:00+00:00", "2024-05-04T09:00:00+00:00",
                                3),
            ConversationSummary("c1", "First", "2024-05-01T09:00:00+00:00", "2024-05-01T09:00:00+00:00", 1)]
    markup = render_conversation_list(kept, "c2", "My news")
    assert "&lt;b&gt;Why&lt;/b&gt; did it?" in markup and "<b>" not in markup
    assert ('<a class="export-markdown" href="api/conversations/c2/markdown?collection=My+news" '
            'download="b-why-b-did-it.md"') in markup
    assert '<a class="export-json" href="api/conversations/c2?collection=My+news" download="b-why-b-did-it.json"' in markup
    assert markup.count("conversation-export") == 1  # only the open one
    assert "4 May 2024 · 3 questions" in markup and "1 May 2024 · 1 question<" in markup
    assert "kept here" in render_conversation_list([], None, "x")
