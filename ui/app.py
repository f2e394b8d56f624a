"""The chat UI: layout and wiring over Engine. What the page shows is made in ui/handlers.py.

No `from __future__ import annotations` here: gr.api reads the API function's type hints at
runtime to describe the endpoint.
"""

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexMissingError, IndexProblem
from rag.offline import enforce_offline
from ui import handlers
from ui.article_list import ARTICLES_SHOWN, render_article_list
from ui.limits import UploadLimits, check_question
from ui.uploads import delete_orphan_upload, ingest_uploads, uploads_folder
from ui.theme import ARTICLE_LIST_JS, ARTICLE_PANEL_JS, CONVERSATION_JS, CSS, offline_theme

if TYPE_CHECKING:
    import gradio as gr

    from rag.engine import Engine

log = logging.getLogger(__name__)

# Questions (and opening articles, the API) run one at a time; so do uploads and removals, but a
# question does not wait for an upload: the engine answers from the index it has meanwhile.
READ_QUEUE = "read"
WRITE_QUEUE = "write"
STAGE_LABELS = {"reading": ("Reading files", "files"), "embedding": ("Embedding passages", "passages"),
                "saving": ("Saving the index", "steps")}
MAX_UPLOAD = "50mb"  # ui/server.py sets the configured ui.max_upload_mb instead


class ChatBackend:
    """The engine calls behind the page, each turning errors into a message the page shows."""

    def __init__(self, engine: "Engine") -> None:
        self.engine = engine
        self.uploads_dir = uploads_folder(engine)
        self._warm_up_started = threading.Event()

    def article_count(self) -> int:
        try:
            return self.engine.document_totals()[0]
        except IndexProblem:
            return 0

    def start_warm_up(self) -> None:
        """Load the model and index in a background thread, once: called when the first page
        has loaded, so the page itself does not compete with it for the CPU."""
        if not self._warm_up_started.is_set():
            self._warm_up_started.set()
            threading.Thread(target=self.warm_up, name="warm-up", daemon=True).start()

    def warm_up(self) -> None:
        """Load the model and the index before the first question."""
        try:
            self.engine.warm_up()
        except Exception:  # a broken index is reported when someone asks
            log.debug("warm-up failed", exc_info=True)

    # event handlers ----------------------------------------------------------------------------

    def submit_question(self, question: str, chat: handlers.Chat) -> tuple:
        """Show the question at once and lock the input until its answer is in."""
        import gradio as gr

        updated = handlers.add_question(chat, question or "")
        if updated == tuple(chat):  # nothing typed
            return gr.update(), chat, gr.update(), gr.update()
        return (gr.update(value="", interactive=False), updated,
                handlers.render_conversation(updated), gr.update(interactive=False))

    def answer_question(self, chat: handlers.Chat) -> tuple:
        """Ask the engine the pending question with the earlier ones as history."""
        import gradio as gr

        unlock = (gr.update(interactive=True), gr.update(interactive=True))
        if not chat or not chat[-1].pending:
            return (chat, gr.update()) + unlock
        try:
            question, _, history, _ = check_question(chat[-1].question, history=handlers.earlier_questions(chat))
            answer = self.engine.ask(question, history=history)
            chat = handlers.settle_last(chat, answer=answer)
        except IndexMissingError:
            chat = handlers.settle_last(chat, message=handlers.NO_INDEX_MESSAGE)
        except (IndexProblem, ValueError) as exc:
            chat = handlers.settle_last(chat, message=str(exc))
        except BaseException as exc:  # also what escapes `except Exception` (a native library's panic)
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            log.exception("answering %r failed", chat[-1].question)
            chat = handlers.settle_last(chat, message=f"Something went wrong while answering: {exc}")
        return (chat, handlers.render_conversation(chat)) + unlock

    def new_chat(self) -> tuple:
        return (), handlers.render_conversation(()), handlers.render_article_placeholder()

    def open_article(self, event_data: Any) -> str:
        """The cited article with the passage highlighted (`event_data` comes from the click)."""
        request = handlers.parse_citation_request(event_data)
        if request is None:
            return handlers.render_article_placeholder()
        try:
            document = self.engine.document(request.doc_id)
        except IndexProblem:
            document = None
        return handlers.render_article(document, request)

    def ingest_uploads(self, files: list[str] | None, progress: Any = None, match: str = "") -> tuple:
        """Copy the uploaded files to the uploads folder, ingest them, report file by file
        (`match`: what the Find box holds, for the list shown after)."""
        files = [Path(f) for f in files or []]

        def on_progress(stage: str, done: int, total: int) -> None:
            label, unit = STAGE_LABELS.get(stage, (stage, "steps"))
            if progress is not None and total:
                progress((done, total), desc=label, unit=unit)

        try:
            limits = UploadLimits.from_settings(self.engine.settings.ui)
            # ui.uploads: the later of two same names, and a replaced version dropped or put back
            outcome = ingest_uploads(self.engine, [(f, f.name) for f in files], limits, on_progress)
            if outcome.refused:
                status = handlers.render_notice("Not uploaded: " + "; ".join(outcome.refused), "error")
            else:
                status = handlers.render_ingest_report(outcome.report, outcome.stored, outcome.rejected)
        except Exception as exc:
            log.exception("ingesting uploads failed")
            status = handlers.render_notice(f"Upload failed: {exc}", "error")
        return (status,) + self.index_views(match)

    def remove_article(self, event_data: Any, match: str = "") -> tuple:
        """Remove one article; an uploaded file left without articles is deleted too."""
        doc_id = event_data.get("doc_id") if isinstance(event_data, dict) else None
        try:
            info = self.engine.document_info(doc_id) if isinstance(doc_id, str) else None
        except IndexProblem:
            info = None
        if info is None:
            status = handlers.render_notice("That article is not in the index any more.", "error")
        else:
            try:
                self.engine.remove([info.doc_id])
                delete_orphan_upload(self.engine, Path(info.path))
                status = handlers.render_notice(f"Removed “{info.title or info.doc_id}”.", "ok")
            except Exception as exc:
                log.exception("removing %s failed", doc_id)
                status = handlers.render_notice(f"Could not remove {doc_id}: {exc}", "error")
        return (status,) + self.index_views(match)

    def page_load(self) -> tuple[str, str]:
        self.start_warm_up()
        return self.index_views()

    def index_views(self, match: str = "") -> tuple[str, str]:
        """The line above the chat and the article list (those matching `match`), as the index is now."""
        return (handlers.render_index_status(self.article_count()), self.article_list(match))

    def article_list(self, match: str = "") -> str:
        """The Articles tab's list: the articles matching the Find box, a page at most (the store
        finds that page and counts the rest, so a keystroke costs the same at any size)."""
        try:
            shown, matching = self.engine.find_documents(match or "", ARTICLES_SHOWN)
            articles, passages = self.engine.document_totals()
        except IndexProblem:
            shown, matching, articles, passages = [], 0, 0, 0
        return render_article_list(shown, matching, articles, passages, match or "")

    def ask_api(self, question: str, history: list[str] | None = None, k: int | None = None,
                mode: str | None = None) -> str:
        """Answer a question with cited passages: the `rag ask --json` object, as a JSON string
        (json.loads it). A string, because gradio_client takes any dict with a "path" (as each
        citation has) for a file to download.

        Args:
            question: the question.
            history: the earlier questions of the same conversation, oldest first (for follow-ups).
            k: how many passages to return, 1 to 50 (default: the configured retrieval.k).
            mode: dense, keyword or hybrid (default: the configured retrieval.mode).
        Returns:
            '{"question", "abstained", "passages", "answer", "search_query", "reason", ...}'
        """
        import gradio as gr

        try:
            question, k, history, mode = check_question(question, k, history, mode)
            answer = self.engine.ask(question, k=k, history=history, mode=mode)
            return json.dumps(answer.to_json(), ensure_ascii=False)
        except IndexMissingError as exc:
            raise gr.Error(handlers.NO_INDEX_MESSAGE, print_exception=False) from exc
        except (IndexProblem, ValueError) as exc:
            log.warning("/ask refused: %s", exc)  # one line: bad input is not a server fault
            raise gr.Error(str(exc), print_exception=False) from exc


def build_app(engine: "Engine", read_only: bool = False) -> "gr.Blocks":
    """The page: chat and article panel in one tab, upload and the article list in another.
    `read_only`: the Articles tab only lists (no upload, no remove, and no events for them)."""
    enforce_offline()  # before gradio is imported: no analytics
    import gradio as gr

    backend = ChatBackend(engine)
    private = {"api_visibility": "private"}
    reading = {"concurrency_id": READ_QUEUE, "concurrency_limit": 1, **private}
    writing = {"concurrency_id": WRITE_QUEUE, "concurrency_limit": 1, **private}
    # Gradio's own copies of uploads are dropped after an hour: the uploads folder keeps ours.
    with gr.Blocks(title="Ask your news articles", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        chat = gr.State(())
        gr.HTML('<h1>Ask your news articles</h1><p>Answers are passages copied from your articles, '
                "each cited. Everything runs on this computer.</p>", elem_id="page-header", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        index_status = gr.HTML(handlers.render_index_status(backend.article_count()),
                                               elem_id="index-status", js_on_load=None)
                        conversation = gr.HTML(handlers.render_conversation(()), elem_id="conversation",
                                               js_on_load=CONVERSATION_JS)
                        with gr.Row():
                            question = gr.Textbox(show_label=False, placeholder="Ask a question about your articles…",
                                                  elem_id="question", scale=8, autofocus=True, max_lines=4)
                            ask = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask")
                            new_chat = gr.Button("New chat", scale=0, min_width=120, elem_id="new-chat")
                    with gr.Column(scale=2, min_width=360):
                        article = gr.HTML(handlers.render_article_placeholder(), elem_id="article-panel",
                                          js_on_load=ARTICLE_PANEL_JS)
            with gr.Tab("Articles", id="articles"):
                with gr.Row(equal_height=True):
                    upload = gr.UploadButton("Upload articles", file_count="multiple", variant="primary",
                                             file_types=list(handlers.SUPPORTED_SUFFIXES), elem_id="upload",
                                             scale=0, min_width=200, visible=not read_only)
                    gr.HTML(handlers.render_upload_help(backend.uploads_dir), js_on_load=None, visible=not read_only)
                status = gr.HTML("", elem_id="articles-status", js_on_load=None)
                find = gr.Textbox(show_label=False, placeholder="Find an article: words of its title, source or file",
                                  elem_id="article-find", max_lines=1, container=False)
                article_list = gr.HTML("", elem_id="article-list", js_on_load=ARTICLE_LIST_JS,
                                       elem_classes=["read-only"] if read_only else None)

        # No Gradio spinners or timers over the chat, the input or the status line: the pending
        # turn says "Searching the articles…" and the input is disabled until the answer is in.
        quiet = {"show_progress": "hidden"}
        for trigger in (question.submit, ask.click):
            trigger(backend.submit_question, [question, chat], [question, chat, conversation, ask],
                    queue=False, **quiet, **private
                    ).then(backend.answer_question, [chat], [chat, conversation, question, ask],
                           **quiet, **reading)
        new_chat.click(backend.new_chat, None, [chat, conversation, article], queue=False, **quiet, **private)
        # Gradio finds gr.EventData and gr.Progress parameters by their annotation and default,
        # so these thin wrappers carry them.
        def open_article(event: gr.EventData) -> str:
            return backend.open_article(getattr(event, "_data", None))

        def ingest_uploads(files: list[str] | None, match: str, progress=gr.Progress()) -> tuple:
            return backend.ingest_uploads(files, progress, match)

        def remove_article(match: str, event: gr.EventData) -> tuple:
            return backend.remove_article(getattr(event, "_data", None), match)

        conversation.cite(open_article, None, article, show_progress="minimal", **reading)
        index_views = [index_status, article_list]
        find.change(backend.article_list, [find], [article_list], trigger_mode="always_last", **quiet, **reading)
        if not read_only:
            upload.upload(ingest_uploads, [upload, find], [status, *index_views], show_progress_on=status, **writing)
            article_list.remove(remove_article, [find], [status, *index_views], **quiet, **writing)
        app.load(backend.page_load, None, index_views, **quiet, **reading)
        gr.api(backend.ask_api, api_name="ask", concurrency_id=READ_QUEUE, concurrency_limit=1)
    app.backend = backend  # for ui.server (warm-up) and tests
    return app


def launch_options() -> dict[str, Any]:
    """launch() settings that keep the page offline and private."""
    return {"theme": offline_theme(), "css": CSS, "share": False, "footer_links": ["api"],
            "run_history": False, "enable_monitoring": False, "mcp_server": False, "ssr_mode": False,
            "pwa": False, "max_file_size": MAX_UPLOAD, "show_error": True}

