"""The chat page's event handlers over the collections' engines and conversation stores: each
takes the page's inputs, calls the library, and returns what the page shows (made in
ui/handlers.py, ui/filters.py, ui/conversation_list.py, ui/article_list.py). Errors become
messages on the page, never tracebacks. ui/app.py wires these to the components.

The page's session state: the selected collection (the collection picker's value), the chat (a
tuple of rag.conversations.Turn), the id of the kept conversation it is (None until its first
answer is kept), and the pinned articles ((doc_id, title) pairs).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Iterator, TYPE_CHECKING, Any, Sequence

from rag.conversations import Conversation, ConversationsError, Turn
from rag.errors import IndexMissingError, IndexProblem
from rag.types import Where
from ui import handlers
from ui.article_list import ARTICLES_SHOWN, render_article_list
from ui.collections import Collection, Collections, UnknownCollection
from ui.conversation_list import render_conversation_list
from ui.filters import MAX_PINNED, Pinned, filter_problem, pin_all, render_filter_note, source_choices, toggle, where_of
from ui.limits import InputError, UploadLimits, check_question, check_where
from ui.uploads import delete_orphan_upload, ingest_uploads, uploads_folder

if TYPE_CHECKING:
    from rag.engine import Engine

log = logging.getLogger(__name__)

STAGE_LABELS = {"reading": ("Reading files", "files"), "embedding": ("Embedding passages", "passages"),
                "saving": ("Saving the index", "steps")}


def _update(**changes: Any) -> Any:
    import gradio as gr

    return gr.update(**changes)


class ChatBackend:
    """The engine calls behind the page, each turning errors into a message the page shows.
    `source`: one Engine (a collection named after its folder) or the server's Collections."""

    def __init__(self, source: "Engine | Collections", read_only: bool = False) -> None:
        self.collections = Collections.of(source, read_only)
        self.read_only = read_only
        self._warm_up_started: set[str] = set()
        self._warm_up_lock = threading.Lock()

    @property
    def engine(self) -> "Engine":
        """The default collection's engine."""
        return self.collections.default.engine

    @property
    def uploads_dir(self) -> Path:
        return uploads_folder(self.engine)

    def collection(self, name: str | None) -> Collection:
        """The collection the page names (one it does not have: the default)."""
        try:
            return self.collections.get(name)
        except UnknownCollection:
            return self.collections.default

    def article_count(self, collection: str | None = None) -> int:
        try:
            return self.collection(collection).engine.document_totals()[0]
        except IndexProblem:
            return 0

    def start_warm_up(self, collection: str | None = None) -> None:
        """Load the collection's model and index in a background thread, once: called when a page
        has loaded or picked it, so the page itself does not compete with it for the CPU."""
        chosen = self.collection(collection)
        with self._warm_up_lock:
            if chosen.name in self._warm_up_started:
                return
            self._warm_up_started.add(chosen.name)
        threading.Thread(target=self.warm_up, args=(chosen,), name=f"warm-up {chosen.name}", daemon=True).start()

    @staticmethod
    def warm_up(collection: Collection) -> None:
        """Load the model and the index before the first question."""
        try:
            collection.engine.warm_up()
        except Exception:  # a broken index is reported when someone asks
            log.debug("warm-up of %s failed", collection.name, exc_info=True)

    # what the page shows -----------------------------------------------------------------------

    def rendering(self, collection: Collection) -> handlers.Rendering:
        from embeddings import languages_of

        settings = getattr(collection.engine, "settings", None)
        return handlers.Rendering(languages_of(settings.embedding) if settings is not None else None)

    def conversation_list(self, collection: Collection, current: str | None, problem: str = "") -> str:
        if collection.conversations is None:
            return render_conversation_list(None)
        try:
            kept = collection.conversations.list()
        except ConversationsError as exc:
            log.warning("%s", exc)
            kept, problem = [], str(exc)
        return render_conversation_list(kept, current, collection.name, problem)

    def chat_view(self, collection: Collection, chat: handlers.Chat, conversation_id: str | None,
                  problem: str = "") -> tuple:
        """(chat, conversation id, the conversation, the list of conversations)."""
        return (chat, conversation_id, handlers.render_conversation(chat, self.rendering(collection)),
                self.conversation_list(collection, conversation_id, problem))

    def filter_view(self, collection: Collection, where: Where | None) -> tuple:
        """(sources, since, until, undated, pinned, the note under the row) set to `where`."""
        where = where or Where()
        pinned = tuple((doc_id, self._title(collection, doc_id)) for doc_id in where.doc_ids)
        return (_update(value=list(where.sources)), where.since, where.until, where.undated, pinned,
                render_filter_note(pinned))

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

    # asking ------------------------------------------------------------------------------------

    def submit_question(self, question: str, chat: handlers.Chat, collection: str | None = None,
                        conversation_id: str | None = None) -> tuple:
        """Show the question at once, clear the article panel, and lock the input until its
        answer is in. A question asked while the model still writes the previous answer stops
        that one (the event is cancelled): its turn keeps the extractive answer, and says so."""
        chosen = self.collection(collection)
        if chat and chat[-1].writing:
            stopped = replace(chat[-1], writing=False, answer=replace(chat[-1].answer, generated=replace(
                chat[-1].answer.generated, fallback="Stopped: you asked another question before your model finished.",
                outcome="cancelled")))
            chat = tuple(chat[:-1]) + (stopped,)
            conversation_id, _ = self.keep(chosen, conversation_id, stopped)
        updated = handlers.add_question(chat, question or "")
        if updated == tuple(chat):  # nothing typed
            return _update(), chat, _update(), _update(), _update(), conversation_id
        return (_update(value="", interactive=False), updated,
                handlers.render_conversation(updated, self.rendering(chosen)),
                _update(interactive=False), handlers.render_article_placeholder(), conversation_id)

    def answer_question(self, chat: handlers.Chat, conversation_id: str | None = None, collection: str | None = None,
                        sources: Sequence[str] | None = None, since: str | None = "", until: str | None = "",
                        undated: bool = False, pinned: Pinned = (), write: bool = False) -> Iterator[tuple]:
        """Ask the pending question under the filter row's filter, with the earlier questions as
        history; keep the turn in the conversation. Yields (chat, conversation id, the
        conversation, the list of conversations, the input, the Ask button): once when the
        answer is in, and with `write` (the user's model writes the answer) once more per
        sentence it writes and that holds, the input open meanwhile (a new question stops it)."""
        unlock = (_update(interactive=True), _update(interactive=True))
        chosen = self.collection(collection)
        if not chat or not chat[-1].pending:
            yield (chat, conversation_id, _update(), _update()) + unlock
            return
        turn = self.answer(chosen, chat, sources, since, until, undated, pinned)
        chat = tuple(chat[:-1]) + (turn,)
        if write and turn.answer is not None and not turn.answer.abstained:
            turn = yield from self._written(chosen, chat, conversation_id, turn, unlock)
            chat = tuple(chat[:-1]) + (turn,)
        conversation_id, problem = self.keep(chosen, conversation_id, turn)
        yield self.chat_view(chosen, chat, conversation_id, problem) + unlock

    def answered(self, *args: Any, **kwargs: Any) -> tuple:
        """`answer_question` run to its end: the last view (for callers that do not stream)."""
        last: tuple = ()
        for last in self.answer_question(*args, **kwargs):
            pass
        return last

    def _written(self, chosen: Collection, chat: handlers.Chat, conversation_id: str | None, turn: Turn,
                 unlock: tuple) -> Iterator[tuple]:
        """Stream the user's model's answer into the last turn; returns the settled turn."""
        from rag.generate import Finished, SentenceReady
        from rag.generate.result import Generated

        generation = chosen.engine.write_answer(turn.answer, handlers.earlier_questions(chat))
        partial = Generated(chosen.engine.settings.llm.model or "your model")
        try:
            writing = replace(turn, answer=replace(turn.answer, generated=partial), writing=True)
            yield self.chat_view(chosen, tuple(chat[:-1]) + (writing,), conversation_id) + unlock
            for event in generation:
                if isinstance(event, SentenceReady) and event.sentence.shown:
                    partial = replace(partial, sentences=partial.sentences + (event.sentence,))
                    writing = replace(writing, answer=replace(turn.answer, generated=partial))
                    yield self.chat_view(chosen, tuple(chat[:-1]) + (writing,), conversation_id) + unlock
                elif isinstance(event, Finished):
                    return replace(turn, answer=replace(turn.answer, generated=event.generated))
        finally:
            generation.close()  # a new question (or a closed page) stops the model
        return turn

    def answer(self, collection: Collection, chat: handlers.Chat, sources: Sequence[str] | None, since: str | None,
               until: str | None, undated: bool, pinned: Pinned) -> Turn:
        """The chat's pending last turn, settled: its answer, or the message shown instead."""
        asked = chat[-1].question
        try:
            where = where_of(sources, since, until, undated, pinned)
        except InputError as exc:
            return Turn(asked, message=f"Not asked. {exc} Correct it above, then ask again.")
        try:
            question, _, history, _ = check_question(asked, history=handlers.earlier_questions(chat))
            return Turn(asked, collection.engine.ask(question, history=history, where=where), where=where)
        except IndexMissingError:
            return Turn(asked, message=handlers.NO_INDEX_MESSAGE, where=where)
        except (IndexProblem, ValueError) as exc:
            return Turn(asked, message=str(exc), where=where)
        except BaseException as exc:  # also what escapes `except Exception` (a native library's panic)
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            log.exception("answering %r failed", asked)
            return Turn(asked, message=f"Something went wrong while answering: {exc}", where=where)

    def keep(self, collection: Collection, conversation_id: str | None, turn: Turn) -> tuple[str | None, str]:
        """Add the settled turn to the kept conversation: (its id, "" or why it could not be kept)."""
        if collection.conversations is None:
            return conversation_id, ""
        try:
            return collection.conversations.add_turn(conversation_id, turn), ""
        except ConversationsError as exc:
            log.warning("%s", exc)
            return conversation_id, f"This conversation could not be kept: {exc}"

    # conversations -----------------------------------------------------------------------------

    def new_chat(self, collection: str | None = None) -> tuple:
        """(chat, id, the conversation, the list, the article panel) of a new, empty chat."""
        return self.chat_view(self.collection(collection), (), None) + (handlers.render_article_placeholder(),)

    def open_conversation(self, event_data: Any, collection: str | None = None) -> tuple:
        """A kept conversation reopened, with the filter of its last question set again:
        new_chat's outputs, then filter_view's."""
        chosen = self.collection(collection)
        wanted = event_data.get("id") if isinstance(event_data, dict) else None
        conversation, problem = None, ""
        if isinstance(wanted, str) and chosen.conversations is not None:
            try:
                conversation = chosen.conversations.get(wanted)
            except ConversationsError as exc:
                problem = str(exc)
        if conversation is None:
            unchanged = (_update(),) * 3
            listed = self.conversation_list(chosen, None, problem or "That conversation is no longer kept.")
            return unchanged + (listed, _update()) + (_update(),) * 6
        return self.show(chosen, conversation)

    def show(self, collection: Collection, conversation: Conversation | None) -> tuple:
        """new_chat's outputs and filter_view's for `conversation` (None: a new chat, no filter)."""
        if conversation is None:
            return self.new_chat(collection.name) + self.filter_view(collection, None)
        last = conversation.turns[-1].where if conversation.turns else None
        return (self.chat_view(collection, conversation.turns, conversation.id)
                + (handlers.render_article_placeholder(),) + self.filter_view(collection, last))

    def delete_conversation(self, event_data: Any, collection: str | None, conversation_id: str | None,
                            chat: handlers.Chat) -> tuple:
        """Delete a kept conversation; the open one gives way to a new chat. new_chat's outputs."""
        chosen = self.collection(collection)
        wanted = event_data.get("id") if isinstance(event_data, dict) else None
        problem = ""
        if isinstance(wanted, str) and chosen.conversations is not None:
            try:
                chosen.conversations.delete(wanted)
            except ConversationsError as exc:
                problem = str(exc)
        if wanted == conversation_id and not problem:
            return self.new_chat(chosen.name)
        return (chat, conversation_id, _update(), self.conversation_list(chosen, conversation_id, problem), _update())

    def latest(self) -> tuple[Collection, Conversation | None]:
        """The collection and conversation written to last (else the first collection with
        articles, and no conversation): where a reloaded page opens."""
        found: list[Conversation] = []
        for collection in self.collections:
            if collection.conversations is None:
                continue
            try:
                conversation = collection.conversations.latest()
            except ConversationsError as exc:
                log.warning("%s", exc)
                continue
            if conversation is not None:
                found.append((conversation.updated, -len(found), collection, conversation))
        if found:
            _, _, collection, conversation = max(found, key=lambda item: (item[0], item[1]))
            return collection, conversation
        with_articles = next((c for c in self.collections if self.article_count(c.name) > 0), self.collections.default)
        return with_articles, None

    def page_load(self) -> tuple:
        """A page (re)loaded: the latest conversation in its collection, or a new chat. Returns the
        collection picker, switch_collection's outputs, then the input and the Ask button, enabled:
        the page keeps them disabled until this is in, so nothing asked is swept away by it."""
        unlock = (_update(interactive=True), _update(interactive=True))
        try:
            collection, conversation = self.latest()
            opened = self.open_collection(collection, conversation)
        except Exception:  # the page must still take questions: a new chat, the errors said when asked
            log.exception("opening the page failed")
            collection = self.collections.default
            opened = self.open_collection(collection, None)
        self.start_warm_up(collection.name)
        return (_update(value=collection.name),) + opened + unlock

    def switch_collection(self, collection: str | None, match: str = "") -> tuple:
        """Another collection picked: a new chat over it, no filter, its articles listed."""
        chosen = self.collection(collection)
        self.start_warm_up(chosen.name)
        return self.open_collection(chosen, None, match)

    def open_collection(self, collection: Collection, conversation: Conversation | None, match: str = "") -> tuple:
        """show()'s outputs with the sources picker's choices, then the index status and the list."""
        shown = list(self.show(collection, conversation))
        sources = self.sources_update(collection)
        sources["value"] = shown[5]["value"]
        shown[5] = sources
        return tuple(shown) + self.index_views(match, collection.name, shown[9])

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

    # the Gradio API ----------------------------------------------------------------------------

    def ask_api(self, question: str, history: list[str] | None = None, k: int | None = None,
                mode: str | None = None, where: dict | None = None, collection: str | None = None) -> str:
        """Answer a question with cited passages: the `rag ask --json` object, as a JSON string
        (json.loads it). A string, because gradio_client takes any dict with a "path" (as each
        citation has) for a file to download.

        Args:
            question: the question.
            history: the earlier questions of the same conversation, oldest first (for follow-ups).
            k: how many passages to return, 1 to 50 (default: the configured retrieval.k).
            mode: dense, keyword or hybrid (default: the configured retrieval.mode).
            where: only some articles: {"sources": [...], "since": "2024-05", "until": "2024-05",
                "doc_ids": [...], "undated": "include" or "exclude"} (any of them; default: all).
            collection: the collection to ask (GET /api/collections lists them; default: the first).
        Returns:
            '{"question", "abstained", "passages", "answer", "search_query", "reason", ...}'
        """
        import gradio as gr

        try:
            question, k, history, mode = check_question(question, k, history, mode)
            engine = self.collections.get(collection).engine
            answer = engine.ask(question, k=k, history=history, mode=mode, where=check_where(where))
            return json.dumps(answer.to_json(), ensure_ascii=False)
        except IndexMissingError as exc:
            raise gr.Error(handlers.NO_INDEX_MESSAGE, print_exception=False) from exc
        except (IndexProblem, ValueError, UnknownCollection) as exc:
            log.warning("/ask refused: %s", exc)  # one line: bad input is not a server fault
            raise gr.Error(str(exc), print_exception=False) from exc
