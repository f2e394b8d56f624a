"""The REST API's app with its docs page served from this server, not a CDN: Swagger UI's files
come from the fastapi-offline package, so /api/docs works offline and asks no other host.

The page and the schema (/api/docs, /api/openapi.json) are behind the login like every /api
route; the files under /api/docs-files/ are public (ui/server.py PUBLIC_PREFIXES): they are
swagger-ui-dist's own, the same for every server, and the page needs them however it logged in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

DOCS_URL = "/api/docs"
OPENAPI_URL = "/api/openapi.json"
FILES_URL = "/api/docs-files"


def api_app(**settings: Any) -> "FastAPI":
    """A FastAPI app (`settings`: title, version, description, ...) with the OpenAPI schema at
    OPENAPI_URL and Swagger UI at DOCS_URL over the files at FILES_URL; no ReDoc. Its routes come
    first, before any catch-all under /api."""
    from fastapi_offline import FastAPIOffline

    return FastAPIOffline(docs_url=DOCS_URL, redoc_url=None, openapi_url=OPENAPI_URL, static_url=FILES_URL,
                          swagger_ui_oauth2_redirect_url=f"{DOCS_URL}/oauth2-redirect",
                          # never a "valid" badge from validator.swagger.io (FastAPI's layout shows none today)
                          swagger_ui_parameters={"validatorUrl": None}, **settings)
