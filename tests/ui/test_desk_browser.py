"""The research desk in Debian's Chromium against `rag serve` over two collections indexed with the
real model: "sample" (a copy of the sample index) and "news" (tests/ui/conftest.py NEWS_ARTICLES:
dated articles of two sources, one undated, one in Arabic). Kept conversations across a reload and
a restart, their export, collections, filters, pins, copying a quote, and an Arabic answer.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from rag.export import markdown_text
from tests.ui.conftest import (CHROMIUM_ARGS, NEWS_ARTICLES, WAIT_MS, ask, ingest, start_server, stop_server,
                               write_news)

pytestmark = [pytest.mark.browser, pytest.mark.model]

SADR = "why did Sadr cancel his itikaf?"
OFFICIALS = "What did officials say about Basra?"
ARABIC = "كم طول الجسر الجديد في البصرة؟"
NEWS_TITLES = {re.search(r"title: (.*)", text).group(1) for text in NEWS_ARTICLES.values()}
SAMPLE_SKIP = shutil.ignore_patterns("uploads", "conversations.sqlite*", ".lock")


class Desk:
    """The server, restartable on the same port (a reloaded page finds it again)."""

    def __init__(self, folder: Path, sample: Path, news: Path, config: Path) -> None:
        self.folder, self.sample, self.news, self.config = folder, sample, news, config
        self.server = start_server(sample, config, folder / "serve.log", collections=[("news", news)])

    @property
    def url(self) -> str:
        return self.server.url

    def restart(self) -> None:
        port = int(urlsplit(self.url).port)
        stop_server(self.server)
        self.server = start_server(self.sample, self.config, self.folder / "serve.log",
                                   collections=[("news", self.news)], port=port)

    def answer(self, question: str, **body) -> dict:
        reply = httpx.post(f"{self.url}api/ask", json={"question": question, **body}, timeout=120)
        assert reply.status_code == 200, reply.text
        return reply.json()


@pytest.fixture(scope="module")
def desk(sample_index, tmp_path_factory):
    index_dir, config = sample_index
    folder = tmp_path_factory.mktemp("ui-desk")
    shutil.copytree(index_dir, folder / "sample", ignore=SAMPLE_SKIP)
    ingest([write_news(folder / "news-articles")], folder / "news", config)
    running = Desk(folder, folder / "sample", folder / "news", config)
    yield running
    stop_server(running.server)


@pytest.fixture(scope="module")
def requests_seen() -> list[str]:
    return []


@pytest.fixture(scope="module")
def context(chromium_path, requests_seen):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      permissions=["clipboard-read", "clipboard-write"])
        context.on("request", lambda request: requests_seen.append(request.url))
        yield context
        browser.close()


@pytest.fixture(scope="module")
def page(context, desk):
    page = context.new_page()
    page.goto(desk.url, wait_until="load")
    wait_for_page(page)
    yield page
    page.close()


def wait_for_page(page) -> None:
    """Until the page's load event has filled in the chat (the status line says what it holds)."""
    from playwright.sync_api import expect

    page.locator("#question textarea").wait_for(state="visible", timeout=WAIT_MS)
    expect(page.locator("#index-status .index-status")).to_have_count(1, timeout=WAIT_MS)


def new_chat(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat").click()
    page.locator("#new-chat").click()
    expect(page.locator("#conversation .turn")).to_have_count(0)


def choose(page, elem_id: str, option: str) -> None:
    """Pick `option` in a Gradio dropdown."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option).click()


def choose_collection(page, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat").click()
    choose(page, "collection", name)
    expect(page.locator("#collection input")).to_have_value(name)
    expect(page.locator("#conversation .turn")).to_have_count(0, timeout=WAIT_MS)
    page.wait_for_timeout(300)  # the switch's other outputs land in the same update


def text_input(page, elem_id: str):
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def card_view(turn) -> list[tuple[int, str]]:
    """(number, title) of every card of a turn, folded ones too, in page order."""
    numbers = [int(n.strip("[]")) for n in turn.locator(".card .card-number").all_text_contents()]
    return list(zip(numbers, turn.locator(".card .card-title").all_text_contents()))


def cites_as_the_cards(section: str, cards: list[tuple[int, str]]) -> bool:
    """Whether an exported answer's citation lines ("- [n] Title. Source, date. place.") are the
    cards', number for number and title for title, in the same order."""
    lines = re.findall(r"^- \[(\d+)\] (.*)$", section, flags=re.M)
    return bool(cards) and len(lines) == len(cards) and all(
        int(number) == card_number and line.startswith(markdown_text(title))
        for (number, line), (card_number, title) in zip(lines, cards))


def download(page, trigger) -> str:
    with page.expect_download() as event:
        trigger.click()
    return Path(event.value.path()).read_text(encoding="utf-8")


# kept conversations -----------------------------------------------------------------------


def test_a_conversation_survives_a_reload_and_a_server_restart(page, desk):
    from playwright.sync_api import expect

    new_chat(page)
    ask(page, SADR)
    ask(page, "Why did he cancel it?")
    listed = page.locator("#conversation-list li.saved.current")
    expect(listed.locator("a.open")).to_have_text(SADR)
    expect(listed).to_contain_text("2 questions")
    shown = page.locator("#conversation .conversation").inner_html()

    for restart in (False, True):
        if restart:
            desk.restart()
        page.reload(wait_until="load")
        wait_for_page(page)
        expect(page.locator("#conversation .turn")).to_have_count(2, timeout=WAIT_MS)
        assert page.locator("#conversation .conversation").inner_html() == shown
        expect(page.locator("#conversation-list li.saved.current a.open")).to_have_text(SADR)
        # its citations work: [1] opens the article with card [1]'s passage highlighted
        turn = page.locator("#conversation .turn").first
        turn.locator(".answer-sentences a.marker", has_text="[1]").first.click()
        mark = page.locator("#article-panel mark.cited")
        expect(mark).to_have_count(1, timeout=WAIT_MS)
        assert mark.text_content() == turn.locator('.card[data-number="1"] .card-text').text_content()
    # the follow-up is still read together with the first question
    ask(page, "And what did his aides say?")
    expect(page.locator("#conversation .turn").last.locator(".followup")).to_have_count(1)


def test_the_markdown_export_cites_as_the_cards_do(page, desk):
    from playwright.sync_api import expect

    new_chat(page)
    turns = [ask(page, SADR), ask(page, "Who is the UN envoy in Iraq?")]
    link = page.locator("#conversation-list li.saved.current a.export-markdown")
    expect(link).to_have_attribute("download", "why-did-sadr-cancel-his-itikaf.md")
    text = download(page, link)
    assert text.startswith(f"# {SADR}\n\n2 questions, ")
    sections = re.split(r"^## \d\. ", text, flags=re.M)[1:]
    assert len(sections) == 2
    for turn, section in zip(turns, sections):
        assert cites_as_the_cards(section, card_view(turn)), (section, card_view(turn))
        markers = [int(n) for n in re.findall(r"\[(\d+)\]$", section.split("\n\n")[1], flags=re.M)]
        shown = [int(m.strip("[]")) for m in turn.locator(".answer-sentences a.marker").all_inner_texts()]
        assert markers == shown
    # one answer alone, from its own button: the same citations
    answer_md = download(page, turns[0].locator(".answer-tools button.export", has_text="Markdown"))
    assert answer_md.startswith(f"# {SADR}\n\n") and cites_as_the_cards(answer_md, card_view(turns[0]))
    answer_json = json.loads(download(page, turns[0].locator(".answer-tools button.export", has_text="JSON")))
    assert answer_json["question"] == SADR and answer_json["answer"]["question"] == SADR
    conversation = json.loads(download(page, page.locator("#conversation-list li.saved.current a.export-json")))
    assert [t["question"] for t in conversation["turns"]] == [SADR, "Who is the UN envoy in Iraq?"]
    assert conversation["turns"][0] == answer_json


def test_deleting_a_conversation_asks_first(page):
    from playwright.sync_api import expect

    new_chat(page)
    ask(page, "Who is Jeanine Hennis-Plasschaert?")
    current = page.locator("#conversation-list li.saved.current")
    expect(current.locator("a.open")).to_have_text("Who is Jeanine Hennis-Plasschaert?")
    count = page.locator("#conversation-list li.saved").count()
    current.locator("button.delete").click()
    expect(current.locator("button.delete")).to_have_text("Delete?")
    current.locator("button.delete").click()
    expect(page.locator("#conversation-list li.saved")).to_have_count(count - 1, timeout=WAIT_MS)
    expect(page.locator("#conversation .turn")).to_have_count(0)
    expect(page.locator("#conversation-list")).not_to_contain_text("Hennis-Plasschaert")


# collections, filters and pins ------------------------------------------------------------


def test_a_second_collection_is_selectable_and_answers_from_its_own_articles(page):
    from playwright.sync_api import expect

    choose_collection(page, "news")
    expect(page.locator("#index-status")).to_contain_text("your 5 articles")
    turn = ask(page, "What was the turnout in Basra?")
    expect(turn.locator(".answer-sentences")).to_contain_text("forty-one percent")
    assert set(turn.locator(".card .card-title").all_text_contents()) <= set(NEWS_TITLES)
    page.get_by_role("tab", name="Articles").click()  # the Articles tab follows the picker
    expect(page.locator("#article-list tbody tr")).to_have_count(5, timeout=WAIT_MS)
    expect(page.locator("#article-list")).not_to_contain_text("Sadr")
    choose_collection(page, "sample")
    page.get_by_role("tab", name="Articles").click()
    expect(page.locator("#article-list")).to_contain_text("Sadr", timeout=WAIT_MS)
    choose_collection(page, "news")


def test_a_source_then_a_month_narrow_the_passages(page, desk, artifacts_dir):
    from playwright.sync_api import expect

    choose_collection(page, "news")
    choose(page, "filter-sources", "UN News (2)")
    turn = ask(page, OFFICIALS)
    expect(turn.locator(".asked-under")).to_have_text("Filter: UN News")
    sources = turn.locator(".card .card-source").all_text_contents()
    assert sources and all(s.startswith("UN News") for s in sources), sources

    page.locator("#clear-filters").click()
    expect(page.locator("#filter-sources .token")).to_have_count(0)
    text_input(page, "filter-since").fill("2024-05")
    text_input(page, "filter-until").fill("2024-05")
    turn = ask(page, OFFICIALS)
    expect(turn.locator(".asked-under")).to_have_text("Filter: May 2024")
    dates = turn.locator(".card .card-source").all_text_contents()
    assert len(dates) == 3 and all(d.endswith("May 2024") for d in dates), dates
    unfiltered = desk.answer(OFFICIALS, collection="news")
    assert len(unfiltered["passages"]) == 5  # the filter took passages away
    page.screenshot(path=str(artifacts_dir / "screenshot-filter.png"))

    text_input(page, "filter-since").fill("2024-13")
    text_input(page, "filter-since").press("Tab")
    expect(page.locator("#filter-note .filter-problem")).to_contain_text("'2024-13' is not a date")
    turn = ask(page, OFFICIALS)
    expect(turn.locator(".notice")).to_contain_text("Not asked. Filter, “since”: '2024-13' is not a date")
    page.locator("#clear-filters").click()
    expect(text_input(page, "filter-since")).to_have_value("")


def test_pinning_an_article_in_the_articles_tab_limits_the_next_answer(page):
    from playwright.sync_api import expect

    choose_collection(page, "news")
    page.get_by_role("tab", name="Articles").click()
    row = page.locator("#article-list tr", has_text="Basra port handles record cargo")
    row.locator("button.pin").click()
    expect(row.locator("button.pin")).to_have_text("Pinned", timeout=WAIT_MS)
    page.get_by_role("tab", name="Chat").click()
    chip = page.locator("#filter-note .chip")
    expect(chip).to_have_text(re.compile("Basra port handles record cargo"))
    turn = ask(page, OFFICIALS)
    expect(turn.locator(".asked-under")).to_have_text("Filter: 1 pinned article")
    assert set(turn.locator(".card .card-title").all_text_contents()) == {"Basra port handles record cargo"}
    chip.locator("button.unpin").click()
    expect(chip).to_have_count(0, timeout=WAIT_MS)

    page.get_by_role("tab", name="Articles").click()  # Find pins what it matches
    text_input(page, "article-find").fill("UN News")
    expect(page.locator("#article-list tbody tr")).to_have_count(2, timeout=WAIT_MS)
    page.locator("#pin-matching").click()
    expect(page.locator("#articles-status")).to_contain_text("Pinned the 2 articles matching “UN News”")
    expect(page.locator("#article-list button.pin[aria-pressed=true]")).to_have_count(2)
    text_input(page, "article-find").fill("")
    page.get_by_role("tab", name="Chat").click()
    expect(page.locator("#filter-note .chip")).to_have_count(2)
    page.locator("#clear-filters").click()
    expect(page.locator("#filter-note .chip")).to_have_count(0)


def test_copy_quote_puts_the_quote_and_its_citation_on_the_clipboard(page):
    from playwright.sync_api import expect

    choose_collection(page, "news")
    turn = ask(page, "How much electricity will Basra import?")
    card = turn.locator('.card[data-number="1"]')
    card.locator("button.copy-quote").click()
    expect(card.locator("button.copy-quote")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == card.locator("button.copy-quote").get_attribute("data-quote")
    assert copied == ("“Basra province signed a deal to import 500 megawatts of electricity from Kuwait before the "
                      "summer.”\n— Basra signs a deal to import electricity from Kuwait. Reuters, 20 May 2024. "
                      + copied.split("Reuters, 20 May 2024. ", 1)[1])
    assert copied.endswith(card.locator(".card-where").inner_text() + ".")
    expect(page.locator("#article-panel mark.cited")).to_have_count(0)  # copying opened nothing


def test_an_arabic_question_is_answered_and_highlighted_exactly(page, desk, artifacts_dir):
    from playwright.sync_api import expect

    choose_collection(page, "news")
    box = page.locator("#question textarea")
    box.fill(ARABIC)  # typed right to left
    assert box.get_attribute("dir") == "auto" and box.evaluate("(e) => e.matches(':dir(rtl)')")
    turn = ask(page, ARABIC)
    expected = desk.answer(ARABIC, collection="news")
    assert expected["passages"][0]["citation"]["doc_id"] == "basra-bridge-ar"
    expect(turn.locator(".answer-sentences")).to_contain_text("طول الجسر ثمانمئة متر")
    for selector in (".question", ".answer-sentences li", ".card-title", ".card-text"):
        element = turn.locator(selector).first
        expect(element).to_have_attribute("dir", "auto")
        assert element.evaluate("(e) => e.matches(':dir(rtl)')"), selector
    assert not turn.locator(".card", has_text="Reuters").locator(".card-text").evaluate(
        "(e) => e.matches(':dir(rtl)')")
    turn.locator(".answer-sentences a.marker", has_text="[1]").first.click()
    mark = page.locator("#article-panel mark.cited")
    expect(mark).to_have_count(1, timeout=WAIT_MS)
    cited = expected["passages"][0]["citation"]
    article = httpx.get(f"{desk.url}api/documents/{cited['doc_id']}", params={"collection": "news"}).json()
    assert mark.text_content() == article["text"][cited["start"]:cited["end"]] == expected["passages"][0]["text"]
    for selector in (".article-title", ".article-text"):
        panel_part = page.locator(f"#article-panel {selector}")
        expect(panel_part).to_have_attribute("dir", "auto")
        assert panel_part.evaluate("(e) => e.matches(':dir(rtl)')")
    page.screenshot(path=str(artifacts_dir / "screenshot-arabic.png"))


def test_no_request_left_the_machine(requests_seen):
    assert requests_seen
    outside = [url for url in requests_seen if urlsplit(url).scheme not in ("data", "blob", "about")
               and urlsplit(url).hostname not in ("127.0.0.1", "localhost")]
    assert outside == []
