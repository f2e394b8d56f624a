"""What the server accepts from the outside (chat, Gradio API, REST): questions and uploads.

Pure checks with one-line messages; the chat shows them, the APIs return them as 4xx errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rag.types import Where

if TYPE_CHECKING:
    from rag.config import UISettings

MAX_K = 50
MAX_QUESTION_CHARS = 1000
MAX_HISTORY = 20  # earlier questions kept for a follow-up; more only slows the search
MODES = ("dense", "keyword", "hybrid")
MB = 1024 * 1024
MAX_FILTER_SOURCES = 100
MAX_FILTER_DOCS = 1000


class InputError(ValueError):
    """Input the server refuses; the message says what is wrong and what is allowed."""


def check_question(question: object, k: object = None, history: object = None,
                   mode: object = None) -> tuple[str, int | None, list[str], str | None]:
    """(question, k, history, mode) ready for Engine.ask, or InputError saying what is wrong.
    None (or 0 / "" from forms that cannot send null) stands for the configured default."""
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty")
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(question)} characters long; at most {MAX_QUESTION_CHARS}")
    if k in (None, 0, ""):
        k = None
    elif isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    else:
        k = int(k)
    history = [] if history is None else history
    if not isinstance(history, (list, tuple)) or not all(
            isinstance(h, str) and len(h) <= MAX_QUESTION_CHARS for h in history):
        raise InputError(f"history must be a list of earlier questions (text, at most {MAX_QUESTION_CHARS} "
                         "characters each)")
    history = [h.strip() for h in history if h.strip()][-MAX_HISTORY:]
    if mode in (None, ""):
        mode = None
    elif mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return question, k, history, mode


class WhereInput(BaseModel):
    """A filter as the APIs take it (`where` of POST /api/ask and of the Gradio /ask endpoint):
    rag.types.Where with its dates checked."""

    model_config = ConfigDict(extra="forbid")
    sources: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=MAX_FILTER_SOURCES,
        description="only articles of these sources (as `GET /api/sources` names them, any case)")
    since: str = Field("", max_length=40, description="only articles dated on or after: YYYY-MM-DD, YYYY-MM or YYYY",
                       examples=["2024-05"])
    until: str = Field("", max_length=40, description="only articles dated on or before (a month or year: its end)",
                       examples=["2024-05"])
    doc_ids: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=MAX_FILTER_DOCS, description="only these articles (`GET /api/documents` ids)")
    undated: Literal["include", "exclude"] = Field(
        "exclude", description="with a date range: whether articles without a date are asked too")

    @field_validator("since", "until")
    @classmethod
    def _a_date(cls, value: str) -> str:
        from rag.dates import bound

        value = value.strip()
        if value:
            bound(value)  # ValueError saying what is accepted
        return value

    @model_validator(mode="after")
    def _a_range(self) -> "WhereInput":
        where = self.to_where()
        if where is not None:
            where.days()  # ValueError when the range ends before it starts
        return self

    def to_where(self) -> Where | None:
        """The Where to ask under; None when it filters nothing."""
        where = Where(tuple(s.strip() for s in self.sources if s.strip()), self.since, self.until,
                      tuple(self.doc_ids), self.undated == "include")
        return None if where.empty else where


WHERE_FIELDS = tuple(WhereInput.model_fields)


def check_where(where: object) -> Where | None:
    """The filter of an API call (a dict as WhereInput takes it; None or {}: none), or InputError
    saying what is wrong."""
    if where in (None, {}, ""):
        return None
    if not isinstance(where, dict):
        raise InputError(f"where must be an object with {', '.join(WHERE_FIELDS)}, not {type(where).__name__}")
    try:
        return WhereInput.model_validate(where).to_where()
    except ValidationError as exc:
        raise InputError("; ".join(describe_error(err, ("where",)) for err in exc.errors())) from exc


def describe_error(err: Any, prefix: tuple[str, ...] = (), top_fields: Sequence[str] = ()) -> str:
    """One pydantic validation error as `field: problem` (the `body` prefix dropped); an unknown
    field names the allowed ones (`top_fields` at the top level, WHERE_FIELDS within a where)."""
    path = [str(p) for p in (*prefix, *err.get("loc", ())) if p != "body"]
    where = ".".join(path)
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "missing":
        message = "required"
    elif err.get("type") == "extra_forbidden":
        allowed = WHERE_FIELDS if path[-2:-1] == ["where"] else top_fields
        message = f"unknown field (allowed: {', '.join(allowed)})"
    elif err.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class UploadLimits:
    """Upload limits from the config's `ui` section."""

    max_file_bytes: int
    max_files: int
    max_total_bytes: int

    @classmethod
    def from_settings(cls, ui: "UISettings") -> "UploadLimits":
        return cls(int(ui.max_upload_mb * MB), ui.max_upload_files, int(ui.max_uploads_total_mb * MB))


def refuse_uploads(files: Sequence[tuple[str, int]], uploads_dir: Path, limits: UploadLimits) -> list[str]:
    """Why these uploads (name, size in bytes) are refused, one message per problem; empty if
    they fit. Any problem refuses the whole upload, so nothing is half stored."""
    size = describe_size
    problems = []
    if len(files) > limits.max_files:
        problems.append(f"{len(files)} files in one upload; at most {limits.max_files} "
                        "(ui.max_upload_files): upload them in smaller groups")
    problems += [f"{name} is {size(bytes_)}; at most {size(limits.max_file_bytes)} per file (ui.max_upload_mb)"
                 for name, bytes_ in files if bytes_ > limits.max_file_bytes]
    stored, incoming = folder_size(uploads_dir), sum(bytes_ for _, bytes_ in files)
    if stored + incoming > limits.max_total_bytes:
        problems.append(f"the uploads folder holds {size(stored)} and this upload adds {size(incoming)}; at most "
                        f"{size(limits.max_total_bytes)} in all (ui.max_uploads_total_mb): remove some uploaded "
                        "articles first")
    return problems


def folder_size(folder: Path) -> int:
    """Bytes in the files directly under `folder` (0 if it does not exist)."""
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def describe_size(size: int) -> str:
    """A size as people read it: bytes, KB, or MB with one decimal."""
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.0f} KB" if size < MB else f"{size / MB:.1f} MB"
