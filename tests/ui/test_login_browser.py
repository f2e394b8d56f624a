"""With a password set (auth_server: RAG_AUTH=alice:s3cret), in Debian's Chromium: the login
page, a wrong password refused, then a cited answer and an upload once logged in."""

from __future__ import annotations

import pytest

from tests.ui.conftest import AUTH, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

WAIT_MS = 60_000
UPLOAD_INPUT = 'input[type=file][accept*=".jsonl"]'  # the Upload button's hidden file input
GLACIER = """---
title: Swiss glacier loses a tenth of its ice in one summer
source: Alpine Courier
---
The Rhone glacier lost a tenth of its remaining ice during the hot summer, glaciologists in Valais said on Monday.
Researchers measured the loss with drones flown over the glacier every week from June to September.
"""


@pytest.fixture(scope="module")
def page(chromium_path, auth_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(auth_server.url, wait_until="load")
        yield page
        browser.close()


def test_the_page_asks_for_a_login_first(page):
    from playwright.sync_api import expect

    expect(page.get_by_label("username")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_label("password")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Log in with the user and password given to rag serve")
    assert page.locator("#question").count() == 0


def test_a_wrong_password_is_refused(page):
    from playwright.sync_api import expect

    page.get_by_label("username").fill(AUTH[0])
    page.get_by_label("password").fill("not-the-password")
    page.get_by_role("button", name="Login").click()
    expect(page.locator("body")).to_contain_text("Incorrect Credentials", ignore_case=True, timeout=WAIT_MS)
    assert page.locator("#question").count() == 0


def test_logged_in_a_question_gets_a_cited_answer(page):
    from playwright.sync_api import expect

    page.get_by_label("password").fill(AUTH[1])
    page.get_by_label("username").fill(AUTH[0])
    page.get_by_role("button", name="Login").click()
    box = page.locator("#question textarea")
    expect(box).to_be_editable(timeout=WAIT_MS)
    box.fill("why did Sadr cancel his itikaf?")
    box.press("Enter")
    turn = page.locator("#conversation .turn").first
    expect(turn.locator(".answer-sentences")).to_be_visible(timeout=WAIT_MS)
    expect(turn.locator(".answer-sentences")).to_contain_text("[1]")
    expect(turn.locator(".card").first).to_contain_text("Middle East Eye")


def test_logged_in_an_upload_is_indexed_and_searchable(page, auth_server, tmp_path):
    from playwright.sync_api import expect

    article = tmp_path / "glacier.md"
    article.write_text(GLACIER, encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator(UPLOAD_INPUT).set_input_files(str(article))
    expect(page.locator("#articles-status")).to_contain_text("added: glacier.md", timeout=WAIT_MS)
    expect(page.locator("#article-list")).to_contain_text("Swiss glacier loses a tenth of its ice")
    assert (auth_server.index_dir / "uploads" / "glacier.md").is_file()
    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#question textarea")
    expect(box).to_be_editable(timeout=WAIT_MS)
    box.fill("How did researchers measure the loss of the Rhone glacier?")
    box.press("Enter")
    turn = page.locator("#conversation .turn").nth(1)
    expect(turn.locator(".card").first).to_contain_text("Swiss glacier", timeout=WAIT_MS)


def test_an_upload_over_the_limits_says_which_limit(page, auth_server, tmp_path):
    from playwright.sync_api import expect

    files = []
    for n in range(4):  # the server allows 3 files per upload
        files.append(tmp_path / f"note{n}.md")
        files[-1].write_text(f"# Note {n}\n\nA short note about the harbour.\n", encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator(UPLOAD_INPUT).set_input_files([str(f) for f in files])
    # ui/gates.py refuses them at Gradio's upload route (413) before any is stored: the page's error says why
    expect(page.locator("body")).to_contain_text(
        "more than 3 files in one upload; at most 3 (ui.max_upload_files)", timeout=WAIT_MS)
    assert not any((auth_server.index_dir / "uploads" / f.name).exists() for f in files)
