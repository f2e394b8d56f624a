"""The chat in Debian's Chromium against `rag serve` with `store.backend: milvus` (a real Milvus
Lite server): a cited answer, the article opened with the passage highlighted, the server killed
(the chat says so in one line) and back (answers resume)."""

from __future__ import annotations

import pytest

from tests.ui.conftest import CHROMIUM_ARGS, chromium_path, start_server, stop_server  # noqa: F401
from tests.ui.test_browser import SADR, WAIT_MS, ask, new_page

pytestmark = [pytest.mark.browser, pytest.mark.model]


def test_the_chat_answers_from_milvus_and_survives_an_outage(milvus_sample, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    milvus, config, index = milvus_sample
    server = start_server(index, config, tmp_path / "serve.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            page = new_page(browser, server.url, [])
            turn = ask(page, SADR)
            cards = turn.locator(".card")
            expect(cards.first).to_be_visible()
            cited = cards.filter(has_text="He cancelled his itikaf").first
            expect(cited.locator(".card-source")).to_have_text("Middle East Eye")
            cited.click()
            mark = page.locator("#article-panel mark.cited")
            expect(mark).to_have_count(1, timeout=WAIT_MS)
            assert "He cancelled his itikaf" in mark.text_content()

            milvus.stop(kill=True)
            try:
                failed = ask(page, "who leads the Sadrist movement?")
                expect(failed.locator(".notice")).to_contain_text(f"cannot reach the Milvus server at {milvus.uri}")
                assert "Traceback" not in page.content()
            finally:
                milvus.start()
            again = ask(page, SADR)
            expect(again.locator(".card").filter(has_text="He cancelled his itikaf").first).to_be_visible()
            browser.close()
    finally:
        stop_server(server)
