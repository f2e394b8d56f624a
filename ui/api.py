"""The REST API under /api, next to the chat on the same port: thin routes over Engine.

Every error is JSON `{"error": "..."}` with its status and one log line, never a traceback.
Authentication is not done here: ui/server.py guards every route before it reaches these.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal

from fastapi import APIRouter, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import IndexDamagedError, IndexMissingError, IndexProblem
from ui.limits import MAX_HISTORY, MAX_K, MAX_QUESTION_CHARS, InputError, UploadLimits, check_question
from ui.uploads import ingest_uploads, remove_document

if TYPE_CHECKING:
    from rag.engine import Engine

log = logging.getLogger("rag.api")

NO_INDEX = "no articles are indexed yet: upload some (POST /api/documents) or run `rag ingest PATH`"
READ_ONLY = "this server is read-only (rag serve --read-only): no uploads or removals"
Mode = Literal["dense", "keyword", "hybrid"]


class AskRequest(BaseModel):
    """A question, as `rag ask` takes it."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                          examples=["why did Sadr cancel his itikaf?"])
    k: int | None = Field(None, ge=1, le=MAX_K, description="passages to return (default: config retrieval.k)")
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(
        default_factory=list, max_length=MAX_HISTORY,
        description="earlier questions of the same conversation, oldest first (for follow-ups)")
    mode: Mode | None = Field(None, description="retrieval mode (default: config retrieval.mode)")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class ApiError(BaseModel):
    error: str


class GuardedRoute(APIRoute):
    """A route whose unexpected failure is still a JSON error (500), logged with its traceback:
    that is a bug to report, unlike bad input (4xx, one line)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (StarletteHTTPException, RequestValidationError, IndexProblem):
                raise
            except Exception as exc:
                log.exception("%s %s failed", request.method, request.url.path)
                return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

        return guarded


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ApiError} for code in (400, 401, 403, 404, 413, 422)}


def build_router(engine: "Engine", limits: UploadLimits, read_only: bool = False) -> APIRouter:
    """The /api routes over `engine`. Routes are plain functions: FastAPI runs them in its
    thread pool, so a slow question does not hold the others up."""
    router = APIRouter(prefix="/api", responses=ERRORS, route_class=GuardedRoute)

    @router.post("/ask", summary="Answer a question with cited passages (the `rag ask --json` object)")
    def ask(request: AskRequest) -> dict[str, Any]:
        try:
            question, k, history, mode = check_question(request.question, request.k, request.history, request.mode)
            return engine.ask(question, k=k, history=history, mode=mode).to_json()
        except IndexMissingError as exc:
            raise HTTPException(409, NO_INDEX) from exc
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc

    @router.get("/documents", summary="The indexed articles (the `rag docs --json` list), a page at a time")
    def documents(response: Response, match: str = Query("", max_length=200, description="only articles whose "
                  "title, source, file or id holds this (any case)"),
                  limit: int | None = Query(None, ge=1, le=10_000, description="at most this many"),
                  offset: int = Query(0, ge=0, description="skip this many first")) -> list[dict[str, Any]]:
        page, total = engine.find_documents(match, limit, offset)
        response.headers["X-Total-Count"] = str(total)  # all that match, for paging
        return [asdict(info) for info in page]

    @router.get("/documents/{doc_id}", summary="One article: its text and metadata")
    def document(doc_id: str) -> dict[str, Any]:
        try:
            found = engine.document(doc_id)
        except IndexMissingError:
            found = None
        if found is None:
            raise HTTPException(404, f"no article with id {doc_id!r} (GET /api/documents lists them)")
        return asdict(found)

    @router.post("/documents", summary="Upload articles (multipart, field `files`): the chat's readers and limits")
    def upload(files: list[UploadFile] = File(...)) -> dict[str, Any]:
        if read_only:
            raise HTTPException(403, READ_ONLY)
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as scratch:
            saved = []
            for number, upload in enumerate(files):
                path = Path(scratch) / str(number)
                with path.open("wb") as out:
                    shutil.copyfileobj(upload.file, out)
                saved.append((path, upload.filename or f"upload-{number}"))
            outcome = ingest_uploads(engine, saved, limits)
        if outcome.refused:
            raise HTTPException(413, "; ".join(outcome.refused))
        if not outcome.stored:
            raise HTTPException(415, f"unsupported file type: {', '.join(outcome.rejected)}")
        return {**outcome.report.to_json(),
                "stored": [{"name": s.original_name, "path": str(s.path)} for s in outcome.stored],
                "rejected": list(outcome.rejected)}

    @router.delete("/documents/{doc_id}", summary="Remove an article (and its uploaded file, if left empty)")
    def remove(doc_id: str) -> dict[str, Any]:
        if read_only:
            raise HTTPException(403, READ_ONLY)
        if not remove_document(engine, doc_id):
            raise HTTPException(404, f"no article with id {doc_id!r} (GET /api/documents lists them)")
        return {"removed": [doc_id]}

    @router.get("/health", summary="Index generation, counts and model")
    def health() -> dict[str, Any]:
        stats = engine.stats()
        return {"status": "ok", "read_only": read_only,
                **{key: stats.get(key) for key in ("generation", "documents", "chunks", "files", "model", "exists")}}

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
    def unknown(path: str, request: Request) -> None:
        allowed = sorted({method for route in router.routes if isinstance(route, APIRoute) and route.name != "unknown"
                          and route.path_regex.match(f"/api/{path}") for method in route.methods or ()})
        if allowed:  # the route exists, not with this method
            raise HTTPException(405, f"{request.method} is not allowed on /api/{path}: use {', '.join(allowed)}",
                                headers={"Allow": ", ".join(allowed)})
        raise HTTPException(404, f"no such API route: /api/{path} (see /api/docs)")

    return router


def install_error_handlers(app: FastAPI) -> None:
    """Errors of the /api routes as {"error": "..."} with one log line each."""

    def reply(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        log.warning("%s %s -> %d: %s", request.method, request.url.path, status, message)
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)  # also the router's own 404 and 405 (with Allow)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return reply(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        return reply(request, 422, "; ".join(_describe(err) for err in exc.errors()) or "invalid request")

    @app.exception_handler(IndexProblem)
    async def index_problem(request: Request, exc: IndexProblem) -> JSONResponse:
        # damage is the server's fault until repaired (500); anything else may pass (a busy store: 503)
        return reply(request, 500 if isinstance(exc, IndexDamagedError) else 503, str(exc))



def _describe(err: dict) -> str:
    """One validation error as `field: problem` (the `body` prefix dropped)."""
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "missing":
        message = "required"
    elif err.get("type") == "extra_forbidden":
        message = "unknown field (allowed: question, k, history, mode)"
    elif err.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return f"{where}: {message}" if where else message
