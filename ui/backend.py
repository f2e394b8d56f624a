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
from ui.article_actions import ArticleActions, gradio_update as _update
from ui.collections import Collection, Collections, UnknownCollection
from ui.conversation_list import render_conversation_list
from ui.filters import Pinned, render_filter_note, where_of
from ui.limits import InputError, check_question, check_where
from ui.uploads import uploads_folder

if TYPE_CHECKING:
    from rag.engine import Engine

log = logging.getLogger(__name__)

class ChatBackend(ArticleActions):
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
