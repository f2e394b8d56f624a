"""The chat's filter row as pure functions: what its inputs ask (a rag.types.Where, or a message
saying what is wrong), the sources to choose from, and the pinned articles as chips.

Pinned articles are (doc_id, title) pairs: the chat keeps the titles to show them.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from rag.types import FilterDateError, Where
from ui.handlers import escape
from ui.limits import InputError

Pinned = tuple[tuple[str, str], ...]
MAX_PINNED = 100  # "Pin all matching" pins at most this many; the filter takes up to 1000 ids


def where_of(sources: Iterable[str] | None, since: str | None, until: str | None, undated: bool,
             pinned: Pinned = ()) -> Where | None:
    """The filter the row's inputs ask for (None: every article), or InputError naming the
    input that is wrong and what it takes."""
    where = Where(tuple(dict.fromkeys(s.strip() for s in sources or () if s and s.strip())), (since or "").strip(),
                  (until or "").strip(), tuple(doc_id for doc_id, _ in pinned), bool(undated))
    if where.empty:
        return None
    try:
        where.days()
    except FilterDateError as exc:
        raise InputError(f"Filter, “{exc.name}”: {exc.reason}.") from exc
    except ValueError as exc:
        raise InputError(f"Filter: {exc}.") from exc
    return where


def filter_problem(since: str | None, until: str | None) -> str:
    """What is wrong with the dates typed so far ("" when nothing is)."""
    try:
        where_of((), since, until, False)
    except InputError as exc:
        return str(exc)
    return ""


def source_choices(sources: Sequence[tuple[str, int]]) -> list[tuple[str, str]]:
    """(label, value) for the sources picker: "UN News (12)" for the source "UN News"."""
    return [(f"{name} ({count:,})", name) for name, count in sources]


def toggle(pinned: Pinned, doc_id: str, title: str) -> Pinned:
    """`pinned` with the article added, or removed if it was there."""
    if any(d == doc_id for d, _ in pinned):
        return tuple(p for p in pinned if p[0] != doc_id)
    return (*pinned, (doc_id, title or doc_id))


def pin_all(pinned: Pinned, found: Iterable[tuple[str, str]]) -> Pinned:
    """`pinned` with the `found` articles added after it (each once)."""
    added = dict(pinned)
    for doc_id, title in found:
        added.setdefault(doc_id, title or doc_id)
    return tuple(added.items())


def render_filter_note(pinned: Pinned, problem: str = "") -> str:
    """Under the filter row: the pinned articles as chips with a remove button each, and what
    is wrong with the dates, if anything."""
    parts = []
    if pinned:
        chips = "".join(
            f'<span class="chip" title="{escape(title)}"><span class="chip-title" dir="auto">{escape(title)}</span>'
            f'<button type="button" class="unpin" data-unpin="{escape(doc_id)}" '
            f'aria-label="Unpin {escape(title)}" title="Unpin">×</button></span>' for doc_id, title in pinned)
        label = "Only the pinned article:" if len(pinned) == 1 else f"Only the {len(pinned)} pinned articles:"
        parts.append(f'<div class="pinned"><span class="pinned-label">{label}</span> {chips}</div>')
    if problem:
        parts.append(f'<div class="filter-problem">{escape(problem)}</div>')
    return f'<div class="filter-note">{"".join(parts)}</div>' if parts else '<div class="filter-note empty"></div>'
