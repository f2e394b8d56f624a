"""The REST API under /api, next to the chat on the same port: thin routes over Engine.

Every error is JSON `{"error": "..."}` with its status and one log line, never a traceback.
Authentication is not done here: ui/server.py guards every route before it reaches these.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.conversations import ConversationsError
from rag.errors import IndexDamagedError, IndexMissingError, IndexProblem
from rag.export import conversation_json, conversation_markdown, export_filename
from ui.collections import Collection, Collections, UnknownCollection
from ui.limits import (MAX_HISTORY, MAX_K, MAX_QUESTION_CHARS, InputError, UploadLimits, WhereInput, check_question,
                       describe_error)
from ui.uploads import ingest_uploads, remove_document

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.types import Answer

log = logging.getLogger("rag.api")

NO_INDEX = "no articles are indexed yet: upload some (POST /api/documents) or run `rag ingest PATH`"
READ_ONLY = "this server is read-only (rag serve --read-only): no uploads or removals"
NOT_KEPT = "this server is read-only (rag serve --read-only): it keeps no conversations"
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
    where: WhereInput | None = Field(None, description="ask only some articles: by source, date range or id")
    collection: str | None = Field(None, max_length=100, description="the collection to ask (GET /api/collections; "
                                   "default: the first)")
    generate: bool | None = Field(None, description="have the configured model write the answer, each sentence "
                                  "checked (the \"generated\" key); default: config answer.generator")

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


def disposition(kind: str, title: str, suffix: str) -> str:
    """A Content-Disposition header naming the export after its title: the name in UTF-8
    (RFC 6266), and an ASCII one for clients that read only that."""
    name = export_filename(title, suffix)
    plain = name.encode("ascii", "ignore").decode()
    plain = plain if plain.removesuffix(suffix).strip("-") else f"conversation{suffix}"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


def which() -> Any:
    """The `collection` query parameter of the routes that take one."""
    return Query(None, max_length=100, description="the collection (GET /api/collections lists them; default: "
                 "the first)")


def build_router(source: "Engine | Collections", limits: UploadLimits, read_only: bool = False) -> APIRouter:
    """The /api routes over the server's collections (`source`: one Engine, or Collections).
    Routes are plain functions: FastAPI runs them in its thread pool, so a slow question does not
    hold the others up."""
    router = APIRouter(prefix="/api", responses=ERRORS, route_class=GuardedRoute)
    collections = Collections.of(source, read_only)

    def chosen(name: str | None) -> Collection:
        try:
            return collections.get(name)
        except UnknownCollection as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.post("/ask", summary="Answer a question with cited passages (the `rag ask --json` object)")
    def ask(request: AskRequest) -> dict[str, Any]:
        engine = chosen(request.collection).engine
        try:
            question, k, history, mode = check_question(request.question, request.k, request.history, request.mode)
            where = request.where.to_where() if request.where is not None else None
            return engine.ask(question, k=k, history=history, mode=mode, where=where,
                              generate=request.generate).to_json()
        except IndexMissingError as exc:
            raise HTTPException(409, NO_INDEX) from exc
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc

    @router.post("/ask/stream", summary="The same answer as server-sent events: the extractive answer, then each "
                 "sentence the model writes once verified, then the result",
                 response_class=StreamingResponse,
                 responses={200: {"content": {"text/event-stream": {}},
                                  "description": "events `answer` (the rag ask --json object), `sentence` "
                                                 "({index, sentence, shown}) per written sentence, `done` (the "
                                                 "object with \"generated\")"}})
    def ask_stream(request: AskRequest) -> StreamingResponse:
        engine = chosen(request.collection).engine
        try:
            question, k, history, mode = check_question(request.question, request.k, request.history, request.mode)
            where = request.where.to_where() if request.where is not None else None
            answer = engine.ask(question, k=k, history=history, mode=mode, where=where, generate=False)
        except IndexMissingError as exc:
            raise HTTPException(409, NO_INDEX) from exc
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        writing = engine.generates(True if request.generate is None else request.generate)
        return StreamingResponse(answer_events(engine, answer, history, writing), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/collections", summary="The collections this server answers from (the first is the default)")
    def list_collections() -> list[dict[str, Any]]:
        listed = []
        for number, collection in enumerate(collections):
            try:
                documents, passages = collection.engine.document_totals()
            except IndexProblem:
                documents, passages = None, None
            listed.append({"name": collection.name, "default": number == 0, "documents": documents,
                           "passages": passages, "keeps_conversations": collection.conversations is not None})
        return listed

    @router.get("/sources", summary="The sources the articles name, with how many articles each (for `where`)")
    def sources(collection: str | None = which()) -> list[dict[str, Any]]:
        return [{"source": name, "documents": count} for name, count in chosen(collection).engine.sources()]

    @router.get("/documents", summary="The indexed articles (the `rag docs --json` list), a page at a time")
    def documents(response: Response, match: str = Query("", max_length=200, description="only articles whose "
                  "title, source, file or id holds this (any case)"),
                  limit: int | None = Query(None, ge=1, le=10_000, description="at most this many"),
                  offset: int = Query(0, ge=0, description="skip this many first"),
                  collection: str | None = which()) -> list[dict[str, Any]]:
        page, total = chosen(collection).engine.find_documents(match, limit, offset)
        response.headers["X-Total-Count"] = str(total)  # all that match, for paging
        return [asdict(info) for info in page]

    @router.get("/documents/{doc_id}", summary="One article: its text and metadata")
    def document(doc_id: str, collection: str | None = which()) -> dict[str, Any]:
        engine = chosen(collection).engine
        try:
            found = engine.document(doc_id)
        except IndexMissingError:
            found = None
        if found is None:
            raise HTTPException(404, f"no article with id {doc_id!r} (GET /api/documents lists them)")
        return asdict(found)

    @router.post("/documents", summary="Upload articles (multipart, field `files`): the chat's readers and limits")
    def upload(files: list[UploadFile] = File(...), collection: str | None = which()) -> dict[str, Any]:
        if read_only:
            raise HTTPException(403, READ_ONLY)
        engine = chosen(collection).engine
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
    def remove(doc_id: str, collection: str | None = which()) -> dict[str, Any]:
        if read_only:
            raise HTTPException(403, READ_ONLY)
        if not remove_document(chosen(collection).engine, doc_id):
            raise HTTPException(404, f"no article with id {doc_id!r} (GET /api/documents lists them)")
        return {"removed": [doc_id]}

    def kept(name: str | None, conversation_id: str | None = None) -> tuple[Collection, Any]:
        """The collection and, given an id, its conversation (404 when it has none such)."""
        collection = chosen(name)
        if collection.conversations is None:
            raise HTTPException(403, NOT_KEPT)
        if conversation_id is None:
            return collection, None
        try:
            conversation = collection.conversations.get(conversation_id)
        except ConversationsError as exc:
            raise HTTPException(500, str(exc)) from exc
        if conversation is None:
            raise HTTPException(404, f"no conversation with id {conversation_id!r} (GET /api/conversations lists them)")
        return collection, conversation

    @router.get("/conversations", summary="The chat's kept conversations, the latest first")
    def conversations(collection: str | None = which()) -> list[dict[str, Any]]:
        store = kept(collection)[0].conversations
        try:
            return [asdict(summary) for summary in store.list()]
        except ConversationsError as exc:
            raise HTTPException(500, str(exc)) from exc

    @router.get("/conversations/{conversation_id}", summary="A kept conversation as JSON: each question with its "
                "filter and its answer (the `rag ask --json` object)")
    def conversation(conversation_id: str, collection: str | None = which()) -> JSONResponse:
        chosen_collection, found = kept(collection, conversation_id)
        return JSONResponse(conversation_json(found, chosen_collection.name),
                            headers={"Content-Disposition": disposition("inline", found.title, ".json")})

    @router.get("/conversations/{conversation_id}/markdown", response_class=PlainTextResponse,
                summary="A kept conversation as Markdown, with numbered citations as the chat shows them")
    def conversation_as_markdown(conversation_id: str, collection: str | None = which()) -> PlainTextResponse:
        chosen_collection, found = kept(collection, conversation_id)
        return PlainTextResponse(conversation_markdown(found, chosen_collection.name), media_type="text/markdown",
                                 headers={"Content-Disposition": disposition("attachment", found.title, ".md")})

    @router.delete("/conversations/{conversation_id}", summary="Delete a kept conversation")
    def delete_conversation(conversation_id: str, collection: str | None = which()) -> dict[str, Any]:
        chosen_collection, _ = kept(collection, conversation_id)
        try:
            chosen_collection.conversations.delete(conversation_id)
        except ConversationsError as exc:
            raise HTTPException(500, str(exc)) from exc
        return {"deleted": [conversation_id]}

    @router.get("/health", summary="Index generation, counts and model (of a collection: the first by default)")
    def health(collection: str | None = which()) -> dict[str, Any]:
        selected = chosen(collection)
        stats = selected.engine.stats()
        return {"status": "ok", "read_only": read_only, "collection": selected.name,
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


def answer_events(engine: "Engine", answer: "Answer", history: list[str], writing: bool) -> Iterator[str]:
    """Server-sent events of one answer. Stopped early (the client went away), the model's
    request is closed, so the server stops writing."""
    from dataclasses import replace

    from rag.generate import Finished, SentenceReady

    yield _event("answer", answer.to_json())
    if not writing:
        yield _event("done", answer.to_json())
        return
    generation = engine.write_answer(answer, history)
    try:
        for event in generation:
            if isinstance(event, SentenceReady):
                yield _event("sentence", {"index": event.index, "sentence": event.sentence.to_json(),
                                          "shown": list(event.sentence.shown)})
            elif isinstance(event, Finished):
                yield _event("done", replace(answer, generated=event.generated).to_json())
    finally:
        generation.close()


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


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
    return describe_error(err, top_fields=tuple(AskRequest.model_fields))
