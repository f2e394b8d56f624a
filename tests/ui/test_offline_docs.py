"""The REST API's docs page (/api/docs) works with no network: Swagger UI's files come from the
server itself (ui/docs.py), never from a CDN. In Debian's Chromium, with every request to another
host aborted and recorded, the page renders the routes and asked no other host; the page and the
schema stay behind the login (auth_server: RAG_AUTH=alice:s3cret), Swagger UI's own files do not.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.ui.conftest import AUTH, CHROMIUM_ARGS

WAIT_MS = 60_000
NETWORK_NAME = "rag-docs.test"  # what a computer on the network would type; Chromium maps it to 127.0.0.1


def block_other_hosts(page, allowed: set[str]) -> list[str]:
    """Abort every request of `page` to a host not in `allowed`; returns the list they are added to."""
    outside: list[str] = []

    def handle(route) -> None:
        if urlsplit(route.request.url).hostname in allowed:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return outside


def expect_the_routes_shown(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text("/api/ask", exact=True)).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("/api/documents/{doc_id}", exact=True).first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("rag-news")


@pytest.mark.browser
def test_the_docs_render_with_every_other_host_blocked(auth_server, chromium_path):
    """Logged in with the session cookie of the login form, as a browser is."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            assert context.request.post(auth_server.url + "login",
                                        form={"username": AUTH[0], "password": AUTH[1]}).ok
            page = context.new_page()
            outside = block_other_hosts(page, {"127.0.0.1"})
            loaded = []
            page.on("requestfinished", lambda request: loaded.append(urlsplit(request.url).path))
            page.goto(auth_server.url + "api/docs", wait_until="load")
            expect_the_routes_shown(page)
            assert outside == []
            assert {"/api/docs-files/swagger-ui-bundle.js", "/api/docs-files/swagger-ui.css",
                    "/api/openapi.json"} <= set(loaded)
        finally:
            browser.close()


@pytest.mark.browser
def test_served_under_a_network_name_the_docs_ask_no_other_host(auth_server, chromium_path):
    """Opened by a name other than 127.0.0.1 or localhost (as from another computer), with HTTP
    Basic: Swagger UI skips some calls on localhost (its validator badge), none may go out here."""
    from playwright.sync_api import sync_playwright

    port = urlsplit(auth_server.url).port
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NETWORK_NAME} 127.0.0.1"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=args)
        try:
            context = browser.new_context(http_credentials={"username": AUTH[0], "password": AUTH[1]})
            page = context.new_page()
            outside = block_other_hosts(page, {NETWORK_NAME})
            page.goto(f"http://{NETWORK_NAME}:{port}/api/docs", wait_until="load")
            expect_the_routes_shown(page)
            page.wait_for_load_state("networkidle")
            assert outside == []
        finally:
            browser.close()


def test_the_page_and_schema_need_the_login_but_swagger_files_do_not(auth_server):
    with httpx.Client(base_url=auth_server.url.rstrip("/"), timeout=60) as anonymous:
        for path in ("/api/docs", "/api/openapi.json"):
            assert anonymous.get(path).status_code == 401
        files = {"swagger-ui-bundle.js": "javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}
        for name, kind in files.items():
            got = anonymous.get(f"/api/docs-files/{name}")
            assert got.status_code == 200 and kind in got.headers["content-type"], name
        assert anonymous.get("/api/docs-files/%2e%2e/health").status_code == 404  # no way out of the folder
        assert anonymous.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        page = anonymous.get("/api/docs")  # now with the session cookie
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/api/docs-files/") for s in sources), sources
    assert '"validatorUrl": null' in page.text
