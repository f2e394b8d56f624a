"""The chat page in Debian's Chromium against `rag serve` over the sample indexed with the real model.

One browser and one page for the module; every test starts a new chat, so each stands alone.
The last test checks that nothing the page did in the whole module left 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ui.conftest import CHROMIUM_ARGS, WAIT_MS, ask, uploads_of

pytestmark = [pytest.mark.browser, pytest.mark.model]

SADR = "why did Sadr cancel his itikaf?"
UPLOAD_INPUT = 'input[type=file][accept*=".jsonl"]'  # the Upload button's hidden file input
PAYLOADS = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=2">',
            "[click](javascript:window.__pwned=3)", "![x](http://evil.example/pixel.png)")
HONEY_ARTICLE = """---
title: Arctic beekeepers harvest the first honey in Tromsø
source: Polar Gazette
---
Beekeepers in the Norwegian city of Tromsø harvested the first honey ever produced so far north this August. The forty hives spent the polar night inside an insulated greenhouse warmed by waste heat from a nearby data centre.

The head beekeeper, Ingrid Solberg, said the bees produced 120 kilograms of heather honey. She plans to double the number of hives next year.
"""
HOSTILE_ARTICLE = f"""---
title: "Valletta harbour festival {PAYLOADS[0]}"
source: Malta Harbour Notes
---
The Valletta harbour festival drew forty thousand visitors to the Grand Harbour on Saturday. {PAYLOADS[0]}

Organisers said the fireworks over the harbour walls were the largest ever launched in Malta. {PAYLOADS[1]}

Tickets for the harbour festival are sold online {PAYLOADS[2]} and the festival poster is here {PAYLOADS[3]}.
"""
VOLCANO = """---
title: Etna erupts again
source: Sicily Today
---
Mount Etna erupted on Sunday night. Lava rose {height} metres above the south-east crater, the volcano observatory in Catania said.

Flights to Catania airport were suspended for six hours while ash fell on nearby towns.
"""
# Gradio's own busy indicators (spinner overlay, timer, progress bar) in the elements the chat
# keeps quiet; each listed only if the browser actually shows it.
GRADIO_INDICATORS_JS = """(ids) => ids.flatMap((id) => [...document.querySelectorAll(
  `#${id} .progress-text, #${id} .eta-bar, #${id} .wrap.full:not(.hide), #${id} .wrap.minimal:not(.hide)`)]
  .filter((e) => e.checkVisibility({opacityProperty: true, visibilityProperty: true}))
  .map((e) => `${id}: ${e.className} "${e.innerText}"`))"""
QUIET_ELEMENTS = ["index-status", "conversation", "question"]
GRADIO_EVENTS = re.compile(r"/gradio_api/(run/predict|queue/join)")  # a click's steps go here


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def requests_seen() -> list[str]:
    """Every URL any page of this module requested (HTTP and WebSocket)."""
    return []


def new_page(browser, url: str, requests_seen: list[str], width: int = 1400, height: int = 1000):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.on("request", lambda request: requests_seen.append(request.url))
    page = context.new_page()
    page.on("websocket", lambda socket: requests_seen.append(socket.url))
    page.goto(url, wait_until="load")  # Gradio keeps a stream open: "networkidle" never comes
    page.locator("#question textarea").wait_for(state="visible", timeout=WAIT_MS)
    # the page's load event has filled the status line (and reopened the latest conversation)
    page.locator("#index-status .index-status").wait_for(state="visible", timeout=WAIT_MS)
    return page


@pytest.fixture(scope="module")
def page(browser, ui_server, requests_seen):
    page = new_page(browser, ui_server.url, requests_seen)
    yield page
    page.context.close()


def start_new_chat(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat").click()
    if page.locator("#conversation .turn").count():  # else the chat is new already
        page.locator("#new-chat").click()
        expect(page.locator("#conversation .turn")).to_have_count(0)


def upload(page, path: Path, outcome: str = "added") -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Articles").click()
    page.locator(UPLOAD_INPUT).set_input_files(str(path))
    expect(page.locator("#articles-status")).to_contain_text(f"{outcome}: {path.name}", timeout=WAIT_MS)


def column_edges(page) -> list[float]:
    return page.evaluate("() => [...document.querySelectorAll('#article-list th')].map((th) => "
                         "th.getBoundingClientRect().left)")


def remove(page, title: str) -> None:
    """Remove the article from the Articles tab (two clicks) and wait until its row is gone; the
    first click asks to confirm without moving any column."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Articles").click()
    row = page.locator("#article-list tr", has_text=title)
    expect(row).to_have_count(1)
    edges = column_edges(page)
    row.locator("button.remove").click()
    expect(row.locator("button.remove")).to_have_text("Click again to remove")
    assert column_edges(page) == edges
    assert page.evaluate("() => document.querySelector('#article-list button[data-confirm=\"yes\"]')"
                         ".getBoundingClientRect().right <= document.querySelector('#article-list table')"
                         ".getBoundingClientRect().right + 1"), "the confirm button sticks out of the list"
    row.locator("button.remove").click()
    expect(row).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#articles-status")).to_contain_text("Removed")


def wait_until_highlight_in_view(page) -> None:
    """Wait until the highlighted passage starts inside the article panel's visible box, below
    its sticky title, and inside the window."""
    page.wait_for_function("""() => {
        const mark = document.querySelector('#article-panel mark.cited');
        const panel = document.querySelector('#article-panel .article-panel');
        const head = document.querySelector('#article-panel .article-head');
        if (!mark || !panel || !head) return false;
        const m = mark.getBoundingClientRect(), p = panel.getBoundingClientRect();
        const top = head.getBoundingClientRect().bottom;
        return m.top >= top - 1 && m.top < p.bottom - 20 && m.top >= 0 && m.top < window.innerHeight - 20;
    }""", timeout=5_000)


def api_answer(server, question: str) -> dict:
    """The answer from the page's /ask endpoint (a JSON string, or an object from older servers)."""
    from gradio_client import Client

    result = Client(server.url, verbose=False, download_files=False).predict(question, api_name="/ask")
    return json.loads(result) if isinstance(result, str) else result


def gradio_indicators(page) -> list[str]:
    return page.evaluate(GRADIO_INDICATORS_JS, QUIET_ELEMENTS)


def wait_for_held(page, held: list, count: int) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while len(held) < count:
        assert time.monotonic() < deadline, f"{len(held)} of {count} requests came"
        page.wait_for_timeout(50)


def test_first_run_page_says_how_to_add_articles(browser, empty_ui_server, requests_seen):
    from playwright.sync_api import expect

    page = new_page(browser, empty_ui_server.url, requests_seen)
    try:
        welcome = page.locator("#index-status .empty-index")
        expect(welcome).to_contain_text("No articles are indexed yet")
        expect(welcome).to_contain_text("rag ingest PATH")
        turn = ask(page, "What happened in Kufa?")
        expect(turn.locator(".notice")).to_contain_text("No articles are indexed yet")
        page.get_by_role("tab", name="Articles").click()
        expect(page.locator("#article-list")).to_contain_text("No articles are indexed yet")
        expect(page.locator("#article-list")).not_to_contain_text("in the Articles tab")
        assert "Traceback" not in page.content() and "Error" not in page.locator("body").inner_text()
    finally:
        page.context.close()


def test_answer_cites_passages_with_honest_relevance(page):
    from playwright.sync_api import expect

    start_new_chat(page)
    turn = ask(page, SADR)
    expect(turn.locator(".answer-sentences li").first).to_contain_text("Sadr")
    expect(turn.locator(".answer-sentences li a.marker")).to_have_count(turn.locator(".answer-sentences li").count())
    expect(turn.locator(".answer-sentences a.marker").first).to_have_text(re.compile(r"\[\d\]"))
    first = turn.locator(".card").first
    expect(first.locator(".card-source")).to_have_text("Middle East Eye")
    expect(first.locator(".card-title")).to_have_text(
        "How Sadr’s foes are trying to suck him back into Iraqi public life")
    expect(first.locator(".card-number")).to_have_text("[1]")
    expect(turn.locator(".card .badge.best")).to_have_count(1)
    expect(turn.locator('.card[data-rank="1"] .badge.best')).to_have_text("best match")
    # closeness in words; the cosine similarity only in the tooltip
    closeness = first.locator(".evidence .closeness")
    expect(closeness).to_have_text(re.compile(r"^(very close in meaning|close in meaning|loosely related|distant in meaning)$"))
    expect(closeness).to_have_attribute("title", re.compile(r"^Cosine similarity 0\.\d\d between the question"))
    assert "osine" not in turn.inner_text()
    # citation numbers run 1, 2, 3 in order of first use
    used = list(dict.fromkeys(turn.locator(".answer-sentences a.marker").all_inner_texts()))
    assert used == [f"[{n}]" for n in range(1, len(used) + 1)]
    # key words as the passage writes them ("Sadr", "cancelled"), not as the index stems them
    words = first.locator(".evidence .terms").inner_text().removeprefix("key words: ").split(", ")
    written = first.locator(".card-title").inner_text() + "\n" + first.locator(".card-text").inner_text()
    assert "Sadr" in words and len(words) >= 2
    for word in words:
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", written), (word, words)
    assert "%" not in turn.locator(".evidence").all_inner_texts()[0]
    expect(turn.locator(".followup")).to_have_count(0)  # searched as asked


def test_while_an_answer_comes_the_chat_only_says_it_is_searching(page, artifacts_dir):
    """Each step of the question is held in the network (the real server answers once let go):
    no Gradio spinner or timer shows over the status line, the chat or the input, only the
    pending turn's "Searching the articles…" and a disabled input."""
    from playwright.sync_api import expect

    start_new_chat(page)
    held: list = []

    def hold(route) -> None:
        held.append(route)

    page.route(GRADIO_EVENTS, hold)
    box = page.locator("#question textarea")
    try:
        box.fill(SADR)
        box.press("Enter")
        wait_for_held(page, held, 1)  # showing the question
        page.wait_for_timeout(1500)  # Gradio's overlay and timer would be up by now
        assert gradio_indicators(page) == []
        held[0].continue_()
        turn = page.locator("#conversation .turn").last
        expect(turn.locator(".question")).to_have_text(SADR)
        expect(turn.locator(".reply .searching")).to_have_text("Searching the articles…")
        expect(box).to_be_disabled()
        expect(page.locator("#ask")).to_be_disabled()
        wait_for_held(page, held, 2)  # asking the engine
        page.wait_for_timeout(1500)
        assert gradio_indicators(page) == []
        page.screenshot(path=str(artifacts_dir / "screenshot-pending.png"))
        held[1].continue_()
    finally:
        page.unroute(GRADIO_EVENTS, hold)
        for route in held[2:]:
            route.continue_()
    expect(turn.locator(".answer-sentences")).to_contain_text("Sadr", timeout=WAIT_MS)
    expect(turn.locator(".searching")).to_have_count(0)
    expect(box).to_be_editable()
    assert gradio_indicators(page) == []


def test_each_card_bolds_exactly_the_sentences_the_answer_took_from_it(page, ui_server):
    from playwright.sync_api import expect

    answer = api_answer(ui_server, SADR)
    start_new_chat(page)
    turn = ask(page, SADR)
    expect(turn.locator(".answer-sentences li")).to_have_count(len(answer["answer"]))
    squash = lambda text: " ".join(text.split())  # noqa: E731
    for passage in answer["passages"]:
        taken = [squash(s["sentence"]) for s in answer["answer"] if s["passage_rank"] == passage["rank"]]
        card = turn.locator(f'.card[data-rank="{passage["rank"]}"]')
        expect(card).to_have_count(1)
        assert [squash(b) for b in card.locator("b.answer-hit").all_text_contents()] == taken, passage["rank"]
    assert turn.locator(".card b.answer-hit").count() == len(answer["answer"])


def test_citation_opens_article_with_passage_highlighted(page, ui_server, artifacts_dir):
    from playwright.sync_api import expect

    passages = {p["rank"]: p for p in api_answer(ui_server, SADR)["passages"]}
    start_new_chat(page)
    turn = ask(page, SADR)

    turn.locator(".answer-sentences a.marker", has_text="[1]").first.click()
    mark = page.locator("#article-panel mark.cited")
    expect(mark).to_have_count(1, timeout=WAIT_MS)
    first = passages[int(turn.locator('.card[data-number="1"]').get_attribute("data-rank"))]
    assert mark.text_content() == first["text"]
    expect(page.locator("#article-panel .article-title")).to_have_text(first["citation"]["title"])
    expect(page.locator("#article-panel .article-where")).to_contain_text("Highlighted: passage [1], ")
    wait_until_highlight_in_view(page)
    page.screenshot(path=str(artifacts_dir / "screenshot-answer.png"))

    second_card = turn.locator(".card").nth(1)
    second = passages[int(second_card.get_attribute("data-rank"))]
    second_card.click()  # a card opens its passage too
    expect(page.locator("#article-panel .article-panel")).to_have_attribute(
        "data-cited", f"{second['citation']['doc_id']}|{second['citation']['start']}|"
                      f"{second['citation']['end']}", timeout=WAIT_MS)
    assert mark.text_content() == second["text"]
    wait_until_highlight_in_view(page)

    ask(page, "Who is the UN envoy in Iraq?")  # a new question clears the panel
    expect(page.locator("#article-panel mark.cited")).to_have_count(0)
    expect(page.locator("#article-panel .placeholder")).to_contain_text("Click a citation")


def test_uploaded_article_is_searchable_then_removed(page, ui_server, tmp_path):
    from playwright.sync_api import expect

    article = tmp_path / "arctic-honey.txt"
    article.write_text(HONEY_ARTICLE, encoding="utf-8")
    upload(page, article)
    row = page.locator("#article-list tr", has_text="Arctic beekeepers harvest the first honey in Tromsø")
    expect(row).to_contain_text("Polar Gazette")
    expect(row.locator("td.num")).to_have_text("1")
    assert uploads_of(ui_server) == ["arctic-honey.txt"]

    start_new_chat(page)
    turn = ask(page, "Who is the head beekeeper in Tromsø?")
    expect(turn.locator(".answer-sentences")).to_contain_text("Ingrid Solberg")
    expect(turn.locator(".card").first.locator(".card-source")).to_have_text("Polar Gazette")

    remove(page, "Arctic beekeepers harvest the first honey in Tromsø")
    assert uploads_of(ui_server) == []
    start_new_chat(page)
    turn = ask(page, "Who is the head beekeeper in Tromsø?")
    expect(turn.locator(".card-source", has_text="Polar Gazette")).to_have_count(0)


def test_the_find_box_narrows_the_article_list_and_survives_an_upload(page, ui_server, tmp_path):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Articles").click()
    rows = page.locator("#article-list tbody tr")
    expect(rows).to_have_count(5, timeout=WAIT_MS)
    find = page.locator("#article-find textarea, #article-find input").first
    find.fill("middle east EYE")
    expect(page.locator("#article-list .summary")).to_contain_text("match “middle east EYE”", timeout=WAIT_MS)
    assert 0 < rows.count() < 5
    for n in range(rows.count()):
        expect(rows.nth(n)).to_contain_text("Middle East Eye")
    find.fill("no article has these words")
    expect(page.locator("#article-list")).to_contain_text("No article matches.", timeout=WAIT_MS)
    article = tmp_path / "find-honey.txt"
    article.write_text(HONEY_ARTICLE, encoding="utf-8")
    find.fill("polar gazette")
    upload(page, article)  # the list shown after the upload still honours the Find box
    expect(rows).to_have_count(1, timeout=WAIT_MS)
    expect(rows.first).to_contain_text("Arctic beekeepers harvest the first honey in Tromsø")
    remove(page, "Arctic beekeepers harvest the first honey in Tromsø")
    find.fill("")
    expect(rows).to_have_count(5, timeout=WAIT_MS)


def test_untrusted_article_text_stays_inert(page, ui_server, tmp_path, requests_seen):
    from playwright.sync_api import expect

    article = tmp_path / "valletta.txt"
    article.write_text(HOSTILE_ARTICLE, encoding="utf-8")
    upload(page, article)
    expect(page.locator("#article-list")).to_contain_text(f"Valletta harbour festival {PAYLOADS[0]}")

    start_new_chat(page)
    turn = ask(page, "How many visitors did the Valletta harbour festival draw?")
    expect(turn.locator(".card").first.locator(".card-source")).to_have_text("Malta Harbour Notes")
    for payload in PAYLOADS:
        expect(turn).to_contain_text(payload)
    turn.locator(".card").first.click()
    panel = page.locator("#article-panel .article-text")
    for payload in PAYLOADS:
        expect(panel).to_contain_text(payload, timeout=WAIT_MS)

    page.wait_for_timeout(500)  # give an onerror handler or an image load time to happen
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator('img[src="x"], img[src*="evil.example"], a[href^="javascript:"]').count() == 0
    assert not page.evaluate("() => [...document.scripts].some(s => s.textContent.includes('__pwned'))")
    assert not [url for url in requests_seen if "evil.example" in url]

    remove(page, "Valletta harbour festival")
    assert uploads_of(ui_server) == []


def test_follow_up_question_uses_the_earlier_one(page):
    from playwright.sync_api import expect

    start_new_chat(page)
    ask(page, SADR)
    turn = ask(page, "Why did he cancel it?")
    expect(turn.locator(".card-text", has_text="cancelled his itikaf").first).to_be_visible()
    followup = turn.locator(".followup")
    expect(followup).to_have_text("Read as a follow-up to the earlier question.")
    expect(followup).to_have_attribute("title", re.compile(r"^Searched for: .*sadr", re.IGNORECASE))


def test_out_of_scope_question_says_the_articles_do_not_answer(page):
    from playwright.sync_api import expect

    start_new_chat(page)
    turn = ask(page, "What is the capital of Australia?")
    expect(turn.locator(".abstained strong")).to_have_text("None of the articles answers this closely enough.")
    why = turn.locator(".abstained details.why")
    expect(why).not_to_have_attribute("open", "")
    expect(why.locator(".reason").first).to_be_hidden()  # the numbers wait behind "Why?"
    why.locator("summary").click()
    expect(why).to_contain_text("similarity")
    closest = turn.locator("details.closest")
    expect(closest).to_have_count(1)
    expect(closest).not_to_have_attribute("open", "")
    expect(closest.locator(".card").first).to_be_hidden()
    expect(turn.locator(".answer-sentences")).to_have_count(0)


def test_new_chat_forgets_the_history(page):
    from playwright.sync_api import expect

    start_new_chat(page)
    ask(page, SADR)
    page.locator("#new-chat").click()
    expect(page.locator("#conversation .turn")).to_have_count(0)
    expect(page.locator("#index-status")).to_contain_text("Ask a question about your 5 articles")
    turn = ask(page, "Why did he cancel it?")
    expect(turn.locator(".followup")).to_have_count(0)  # no earlier question to borrow from


def test_a_citation_clicked_on_a_narrow_screen_comes_into_view(browser, ui_server, requests_seen, artifacts_dir):
    from playwright.sync_api import expect

    page = new_page(browser, ui_server.url, requests_seen, width=400, height=800)
    try:
        turn = ask(page, SADR)
        boxes = page.evaluate("() => ['#conversation', '#article-panel'].map((s) => "
                              "document.querySelector(s).getBoundingClientRect().toJSON())")
        assert boxes[1]["top"] >= boxes[0]["bottom"], "at 400 px the article panel is under the chat"
        turn.locator(".answer-sentences a.marker").first.click()
        expect(page.locator("#article-panel mark.cited")).to_have_count(1, timeout=WAIT_MS)
        wait_until_highlight_in_view(page)
        head = page.locator("#article-panel .article-head").bounding_box()
        assert 0 <= head["y"] < 800, head
        page.screenshot(path=str(artifacts_dir / "screenshot-narrow.png"))
    finally:
        page.context.close()


def test_an_edited_file_uploaded_again_replaces_the_earlier_one(page, ui_server, tmp_path):
    from playwright.sync_api import expect

    question = "How high did the lava rise above the crater of Etna?"
    first, second = tmp_path / "one" / "volcano.md", tmp_path / "two" / "volcano.md"
    for path, height in ((first, 300), (second, 450)):
        path.parent.mkdir()
        path.write_text(VOLCANO.format(height=height), encoding="utf-8")
    upload(page, first)
    start_new_chat(page)
    expect(ask(page, question).locator(".card").first.locator(".card-text")).to_contain_text("300 metres")

    upload(page, second, outcome="updated")
    expect(page.locator("#article-list tr", has_text="Etna erupts again")).to_have_count(1)
    assert uploads_of(ui_server) == ["volcano.md"]
    start_new_chat(page)
    turn = ask(page, question)
    expect(turn.locator(".card").first.locator(".card-source")).to_have_text("Sicily Today")
    expect(turn.locator(".card").first.locator(".card-text")).to_contain_text("450 metres")
    expect(turn.locator(".card-text", has_text="300 metres")).to_have_count(0)

    remove(page, "Etna erupts again")
    assert uploads_of(ui_server) == []


BRIDGE_PAGE = """<!doctype html><html><head><title>Old bridge reopens | Riverside Post</title>
<meta property="og:site_name" content="Riverside Post">
<meta property="article:published_time" content="2024-05-03T09:00:00Z"></head>
<body><nav>Home | News</nav><article><h1>Old bridge reopens</h1>
<p>The old stone bridge over the Tamar reopened to walkers on Friday after two years of repairs.</p>
<p>Engineers replaced four hundred cracked granite blocks, the council said.</p></article>
<footer>Contact us</footer></body></html>"""


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle("Harbour report")
    for lines in pages:
        pdf.setFont("Helvetica", 11)
        for i, line in enumerate(lines):
            pdf.drawString(72, A4[1] - 90 - 15 * i, line)
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_word_and_html_uploads_are_listed_answered_with_readable_places_and_removed(page, ui_server, tmp_path):
    """Every type the readers take can be uploaded in the chat; each card says where its passage
    is in words that mean something: a page for a PDF, the article's characters for HTML."""
    import docx
    from playwright.sync_api import expect

    pdf = make_pdf(tmp_path / "harbour.pdf", [
        ["Harbour report", "", "The harbour of Kirkwall was dredged in March."],
        ["The dredgers removed twelve thousand tonnes of silt from the harbour of Kirkwall.",
         "Ferries to Shapinsay can now dock at low tide."]])
    word = docx.Document()
    word.add_heading("Library opens in Lerwick", level=1)
    word.add_paragraph("A new public library opened in Lerwick with thirty thousand books on its shelves.")
    word.save(str(tmp_path / "library.docx"))
    (tmp_path / "bridge.html").write_text(BRIDGE_PAGE, encoding="utf-8")
    for name in ("harbour.pdf", "library.docx", "bridge.html"):
        upload(page, tmp_path / name)
    assert uploads_of(ui_server) == ["bridge.html", "harbour.pdf", "library.docx"]

    start_new_chat(page)
    silt = "How much silt did the dredgers remove from the harbour of Kirkwall?"
    card = ask(page, silt).locator(".card").first
    expect(card.locator(".card-text")).to_contain_text("twelve thousand tonnes")
    cited = api_answer(ui_server, silt)["passages"][0]["citation"]
    assert cited["path"].endswith("harbour.pdf") and cited["file"]["page"] in (1, 2)
    expect(card.locator(".card-where")).to_have_text(f"harbour.pdf, p. {cited['file']['page']}")
    card = ask(page, "How many books does the new library in Lerwick hold?").locator(".card").first
    expect(card.locator(".card-text")).to_contain_text("thirty thousand books")
    card = ask(page, "How many granite blocks did engineers replace on the old bridge?").locator(".card").first
    expect(card.locator(".card-source")).to_have_text("Riverside Post · 3 May 2024")
    expect(card.locator(".card-where")).to_have_text(re.compile(r"^bridge\.html, characters \d+–\d+ of the article$"))

    for title in ("Harbour report", "Library opens in Lerwick", "Old bridge reopens"):
        remove(page, title)
    assert uploads_of(ui_server) == []


def test_the_api_page_shows_no_mcp_tab(browser, ui_server, requests_seen):
    from playwright.sync_api import expect

    page = new_page(browser, ui_server.url, requests_seen)
    try:
        page.get_by_text("Use via API").click()
        expect(page.locator("li.snippet", has_text="Python")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("li.snippet", has_text="MCP")).to_be_hidden()
    finally:
        page.context.close()


def test_no_request_left_the_machine(requests_seen):
    """Runs last: every request of the module's pages went to this machine."""
    assert requests_seen, "no request was recorded"
    outside = [url for url in requests_seen
               if urlsplit(url).scheme not in ("data", "blob", "about")
               and urlsplit(url).hostname not in ("127.0.0.1", "localhost")]
    assert outside == []
