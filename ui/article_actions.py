"""The Articles tab's actions and the filter row behind the chat's page (a part of ChatBackend,
which mixes it in: the methods use its collections, rendering and views)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rag.errors import IndexProblem
from ui import handlers
from ui.article_list import ARTICLES_SHOWN, render_article_list
from ui.collections import Collection
from ui.filters import MAX_PINNED, Pinned, filter_problem, pin_all, render_filter_note, source_choices, toggle
from ui.limits import UploadLimits
from ui.uploads import delete_orphan_upload, ingest_uploads

log = logging.getLogger(__name__)

STAGE_LABELS = {"reading": ("Reading files", "files"), "embedding": ("Embedding passages", "passages"),
                "saving": ("Saving the index", "steps")}


def gradio_update(**changes: Any) -> Any:
    """gr.update, with gradio imported when first needed (this module is imported without it)."""
    import gradio as gr

    return gr.update(**changes)


_update = gradio_update




class ArticleActions:
    """Pins and filters, the list of articles, uploads and removals, the article panel."""

    def index_views(self, match: str = "", collection: str | None = None, pinned: Pinned = ()) -> tuple[str, str]:
        """The line above the chat and the article list (those matching `match`), as the index is now."""
        others = len(self.collections) - 1
        return (handlers.render_index_status(self.article_count(collection), others),
                self.article_list(match, collection, pinned))

    def article_list(self, match: str = "", collection: str | None = None, pinned: Pinned = ()) -> str:
        """The Articles tab's list: the articles matching the Find box, a page at most (the store
        finds that page and counts the rest, so a keystroke costs the same at any size)."""
        engine = self.collection(collection).engine
        try:
            shown, matching = engine.find_documents(match or "", ARTICLES_SHOWN)
            articles, passages = engine.document_totals()
        except IndexProblem:
            shown, matching, articles, passages = [], 0, 0, 0
        return render_article_list(shown, matching, articles, passages, match or "", {d for d, _ in pinned or ()})

    def sources_update(self, collection: Collection) -> Any:
        """The sources picker's choices for the collection: each source with its article count."""
        try:
            found = collection.engine.sources()
        except IndexProblem:
            found = []
        return _update(choices=source_choices(found))

    # filters -----------------------------------------------------------------------------------

    def check_filter(self, since: str | None, until: str | None, pinned: Pinned = ()) -> str:
        """The note under the filter row, saying what is wrong with the dates typed, if anything."""
        return render_filter_note(pinned, filter_problem(since, until))

    def clear_filters(self, collection: str | None = None, match: str = "") -> tuple:
        """(sources, since, until, undated, pinned, the note, the article list) with no filter."""
        return (_update(value=[]), "", "", False, (), render_filter_note(()), self.article_list(match, collection, ()))

    def toggle_pin(self, event_data: Any, pinned: Pinned, collection: str | None = None, match: str = "") -> tuple:
        """Pin or unpin one article (a click in the article list, or a chip's x): (pinned, the note
        under the filter row, the article list)."""
        doc_id = event_data.get("doc_id") if isinstance(event_data, dict) else None
        if isinstance(doc_id, str) and doc_id:
            title = event_data.get("title") if isinstance(event_data.get("title"), str) else doc_id
            pinned = toggle(tuple(pinned or ()), doc_id, title)
        return pinned, render_filter_note(pinned), self.article_list(match, collection, pinned)

    def pin_matching(self, match: str, pinned: Pinned, collection: str | None = None) -> tuple:
        """Pin the articles the Find box matches, MAX_PINNED at most: (pinned, the note, the list,
        a status line saying how many)."""
        match = (match or "").strip()
        pinned = tuple(pinned or ())
        if not match:
            status = handlers.render_notice("Type words in Find first: Pin all matching pins the articles it finds.")
        else:
            try:
                shown, total = self.collection(collection).engine.find_documents(match, MAX_PINNED)
            except IndexProblem as exc:
                shown, total = [], 0
                log.warning("finding %r failed: %s", match, exc)
            pinned = pin_all(pinned, [(i.doc_id, i.title or i.doc_id) for i in shown])
            if not total:
                status = handlers.render_notice(f"No article matches “{match}”: nothing pinned.")
            elif total > len(shown):
                status = handlers.render_notice(
                    f"Pinned the first {len(shown)} of the {total:,} articles matching “{match}” (at most "
                    f"{MAX_PINNED} at once): narrow Find to pin others. The chat now asks only the pinned articles.",
                    "ok")
            else:
                noun = "the article" if total == 1 else f"the {total} articles"
                status = handlers.render_notice(f"Pinned {noun} matching “{match}”: the chat now asks only the "
                                                "pinned articles.", "ok")
        return pinned, render_filter_note(pinned), self.article_list(match, collection, pinned), status

    def _title(self, collection: Collection, doc_id: str) -> str:
        try:
            info = collection.engine.document_info(doc_id)
        except IndexProblem:
            info = None
        return (info.title or doc_id) if info is not None else doc_id

    # the article panel and the Articles tab ----------------------------------------------------

    def open_article(self, event_data: Any, collection: str | None = None) -> str:
        """The cited article with the passage highlighted (`event_data` comes from the click)."""
        request = handlers.parse_citation_request(event_data)
        if request is None:
            return handlers.render_article_placeholder()
        try:
            document = self.collection(collection).engine.document(request.doc_id)
        except IndexProblem:
            document = None
        return handlers.render_article(document, request)

    def ingest_uploads(self, files: list[str] | None, progress: Any = None, match: str = "",
                       collection: str | None = None, pinned: Pinned = ()) -> tuple:
        """Copy the uploaded files to the collection's uploads folder, ingest them, report file by
        file: (status, index status, article list, sources picker)."""
        chosen = self.collection(collection)
        files = [Path(f) for f in files or []]

        def on_progress(stage: str, done: int, total: int) -> None:
            label, unit = STAGE_LABELS.get(stage, (stage, "steps"))
            if progress is not None and total:
                progress((done, total), desc=label, unit=unit)

        try:
            limits = UploadLimits.from_settings(chosen.engine.settings.ui)
            # ui.uploads: the later of two same names, and a replaced version dropped or put back
            outcome = ingest_uploads(chosen.engine, [(f, f.name) for f in files], limits, on_progress)
            if outcome.refused:
                status = handlers.render_notice("Not uploaded: " + "; ".join(outcome.refused), "error")
            else:
                status = handlers.render_ingest_report(outcome.report, outcome.stored, outcome.rejected)
        except Exception as exc:
            log.exception("ingesting uploads failed")
            status = handlers.render_notice(f"Upload failed: {exc}", "error")
        return (status,) + self.index_views(match, chosen.name, pinned) + (self.sources_update(chosen),)

    def remove_article(self, event_data: Any, match: str = "", collection: str | None = None,
                       pinned: Pinned = ()) -> tuple:
        """Remove one article (and unpin it); an uploaded file left without articles is deleted
        too: (status, index status, article list, sources picker, pinned, the filter note)."""
        chosen = self.collection(collection)
        doc_id = event_data.get("doc_id") if isinstance(event_data, dict) else None
        try:
            info = chosen.engine.document_info(doc_id) if isinstance(doc_id, str) else None
        except IndexProblem:
            info = None
        pinned = tuple(pinned or ())
        if info is None:
            status = handlers.render_notice("That article is not in the index any more.", "error")
        else:
            try:
                chosen.engine.remove([info.doc_id])
                delete_orphan_upload(chosen.engine, Path(info.path))
                status = handlers.render_notice(f"Removed “{info.title or info.doc_id}”.", "ok")
                pinned = tuple(p for p in pinned if p[0] != info.doc_id)
            except Exception as exc:
                log.exception("removing %s failed", doc_id)
                status = handlers.render_notice(f"Could not remove {doc_id}: {exc}", "error")
        return ((status,) + self.index_views(match, chosen.name, pinned)
                + (self.sources_update(chosen), pinned, render_filter_note(pinned)))
