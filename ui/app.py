"""The chat UI: layout and wiring. The handlers are ChatBackend's (ui/backend.py); what the page
shows is made in ui/handlers.py and its neighbours.

No `from __future__ import annotations` here: gr.api reads the API function's type hints at
runtime to describe the endpoint.
"""

import logging
from typing import TYPE_CHECKING, Any

from rag.offline import enforce_offline
from ui import handlers
from ui.backend import ChatBackend
from ui.collections import Collections
from ui.filters import render_filter_note
from ui.theme import (ARTICLE_LIST_JS, ARTICLE_PANEL_JS, CONVERSATION_JS, CONVERSATION_LIST_JS, CSS, FILTER_NOTE_JS,
                      offline_theme)

if TYPE_CHECKING:
    import gradio as gr

    from rag.engine import Engine

log = logging.getLogger(__name__)

# Questions (and opening articles, the API) run one at a time; so do uploads and removals, but a
# question does not wait for an upload: the engine answers from the index it has meanwhile.
READ_QUEUE = "read"
WRITE_QUEUE = "write"
MAX_UPLOAD = "50mb"  # ui/server.py sets the configured ui.max_upload_mb instead

__all__ = ["ChatBackend", "build_app", "launch_options"]


def build_app(source: "Engine | Collections", read_only: bool = False) -> "gr.Blocks":
    """The page: the kept conversations, the chat with its filter row, and the article panel in
    one tab; upload and the article list (with pins) in another. `source`: one Engine or the
    server's collections (a picker chooses among several). `read_only`: no conversations are
    kept, and the Articles tab only lists (no upload, no remove, and no events for them).

    Nothing about kept conversations or articles is in the page as built (the page's config is
    served before any event runs): the page's load event fills it in."""
    enforce_offline()  # before gradio is imported: no analytics
    import gradio as gr

    backend = ChatBackend(source, read_only)
    collections = backend.collections
    private = {"api_visibility": "private"}
    reading = {"concurrency_id": READ_QUEUE, "concurrency_limit": 1, **private}
    writing = {"concurrency_id": WRITE_QUEUE, "concurrency_limit": 1, **private}
    quiet = {"show_progress": "hidden"}
    # Gradio's own copies of uploads are dropped after an hour: the uploads folder keeps ours.
    with gr.Blocks(title="Ask your news articles", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        chat = gr.State(())
        conversation_id = gr.State(None)
        pinned = gr.State(())
        gr.HTML('<h1>Ask your news articles</h1><p>Answers are passages copied from your articles, '
                "each cited. Everything runs on this computer.</p>", elem_id="page-header", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="chat-row"):
                    with gr.Column(scale=1, min_width=220, elem_id="history-column"):
                        collection = gr.Dropdown(choices=collections.names, value=collections.default.name,
                                                 label="Collection", elem_id="collection",
                                                 visible=len(collections) > 1, interactive=True)
                        new_chat = gr.Button("New chat", elem_id="new-chat", size="md")
                        conversation_list = gr.HTML("", elem_id="conversation-list", js_on_load=CONVERSATION_LIST_JS)
                    with gr.Column(scale=3, min_width=420):
                        index_status = gr.HTML("", elem_id="index-status", js_on_load=None)
                        with gr.Row(elem_id="filters", equal_height=True):
                            sources = gr.Dropdown(choices=[], value=[], multiselect=True, label="Sources (none: all)",
                                                  allow_custom_value=True, scale=4, min_width=180,
                                                  elem_id="filter-sources")
                            since = gr.Textbox(label="Since", placeholder="2024-05", max_lines=1, scale=2,
                                               min_width=110, elem_id="filter-since")
                            until = gr.Textbox(label="Until", placeholder="2024-05-31", max_lines=1, scale=2,
                                               min_width=110, elem_id="filter-until")
                        with gr.Row(elem_id="filter-options", equal_height=True):
                            undated = gr.Checkbox(label="include undated articles", value=False, container=False,
                                                  scale=4, elem_id="filter-undated")
                            clear = gr.Button("Clear filters", size="sm", scale=0, min_width=120,
                                              elem_id="clear-filters")
                        llm = collections.default.engine.settings.llm
                        write = gr.Checkbox(
                            label=(f"Let my model ({llm.model or 'llm.model'}) write the answer, every sentence checked"
                                   if llm.base_url else "Let my model write the answer (set llm.base_url in config.yaml)"),
                            value=bool(llm.base_url) and collections.default.engine.generates(), container=False,
                            interactive=bool(llm.base_url), elem_id="write-answer")
                        filter_note = gr.HTML(render_filter_note(()), elem_id="filter-note", js_on_load=FILTER_NOTE_JS)
                        conversation = gr.HTML(handlers.render_conversation(()), elem_id="conversation",
                                               js_on_load=CONVERSATION_JS)
                        with gr.Row():
                            # disabled until the page's load event has opened the chat (see page_load)
                            question = gr.Textbox(show_label=False, placeholder="Ask a question about your articles…",
                                                  elem_id="question", scale=8, max_lines=4, interactive=False)
                            ask = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask",
                                            interactive=False)
                    with gr.Column(scale=2, min_width=360):
                        article = gr.HTML(handlers.render_article_placeholder(), elem_id="article-panel",
                                          js_on_load=ARTICLE_PANEL_JS)
            with gr.Tab("Articles", id="articles"):
                with gr.Row(equal_height=True):
                    upload = gr.UploadButton("Upload articles", file_count="multiple", variant="primary",
                                             file_types=list(handlers.SUPPORTED_SUFFIXES), elem_id="upload",
                                             scale=0, min_width=200, visible=not read_only)
                    gr.HTML(handlers.render_upload_help(backend.uploads_dir if len(collections) == 1 else None),
                            js_on_load=None, visible=not read_only)
                status = gr.HTML("", elem_id="articles-status", js_on_load=None)
                with gr.Row(equal_height=True):
                    find = gr.Textbox(show_label=False, elem_id="article-find", max_lines=1, container=False, scale=8,
                                      placeholder="Find an article: words of its title, source or file")
                    pin_matching = gr.Button("Pin all matching", size="sm", scale=0, min_width=160,
                                             elem_id="pin-matching")
                article_list = gr.HTML("", elem_id="article-list", js_on_load=ARTICLE_LIST_JS,
                                       elem_classes=["read-only"] if read_only else None)

        chat_view = [chat, conversation_id, conversation, conversation_list]
        filter_view = [sources, since, until, undated, pinned, filter_note]
        index_views = [index_status, article_list]
        filter_inputs = [sources, since, until, undated, pinned]

        # No Gradio spinners or timers over the chat, the input or the status line: the pending
        # turn says "Searching the articles…" and the input is disabled until the answer is in.
        answering = []
        for trigger in (question.submit, ask.click):
            answering.append(trigger(backend.submit_question, [question, chat, collection, conversation_id],
                                     [question, chat, conversation, ask, article, conversation_id],
                                     queue=False, **quiet, **private
                                     ).then(backend.answer_question,
                                            [chat, conversation_id, collection, *filter_inputs, write],
                                            [*chat_view, question, ask], **quiet, **reading))
        for trigger in (question.submit, ask.click):  # a new question stops the model writing the last answer
            trigger(None, None, None, cancels=answering, queue=False, **private)
        new_chat.click(backend.new_chat, [collection], [*chat_view, article], queue=False, **quiet, **private)

        # Gradio finds gr.EventData and gr.Progress parameters by their annotation and default,
        # so these thin wrappers carry them.
        def open_article(collection: str, event: gr.EventData) -> str:
            return backend.open_article(getattr(event, "_data", None), collection)

        def open_conversation(collection: str, event: gr.EventData) -> tuple:
            return backend.open_conversation(getattr(event, "_data", None), collection)

        def delete_conversation(collection: str, current: Any, chat: Any, event: gr.EventData) -> tuple:
            return backend.delete_conversation(getattr(event, "_data", None), collection, current, chat)

        def toggle_pin(pinned: Any, collection: str, match: str, event: gr.EventData) -> tuple:
            return backend.toggle_pin(getattr(event, "_data", None), pinned, collection, match)

        def ingest_uploads(files: list[str] | None, match: str, collection: str, pinned: Any,
                           progress=gr.Progress()) -> tuple:
            return backend.ingest_uploads(files, progress, match, collection, pinned)

        def remove_article(match: str, collection: str, pinned: Any, event: gr.EventData) -> tuple:
            return backend.remove_article(getattr(event, "_data", None), match, collection, pinned)

        conversation.cite(open_article, [collection], article, show_progress="minimal", **reading)
        conversation_list.open(open_conversation, [collection], [*chat_view, article, *filter_view], **quiet, **reading)
        conversation_list.delete(delete_conversation, [collection, conversation_id, chat], [*chat_view, article],
                                 **quiet, **reading)
        collection.input(backend.switch_collection, [collection, find],
                         [*chat_view, article, *filter_view, *index_views], **quiet, **reading)

        for field in (since, until):
            for event in (field.blur, field.submit):
                event(backend.check_filter, [since, until, pinned], [filter_note], queue=False, **quiet, **private)
        clear.click(backend.clear_filters, [collection, find], [*filter_view, article_list], queue=False,
                    **quiet, **private)
        filter_note.unpin(toggle_pin, [pinned, collection, find], [pinned, filter_note, article_list],
                          **quiet, **reading)
        article_list.pin(toggle_pin, [pinned, collection, find], [pinned, filter_note, article_list],
                         **quiet, **reading)
        pin_matching.click(backend.pin_matching, [find, pinned, collection],
                           [pinned, filter_note, article_list, status], **quiet, **reading)
        find.change(backend.article_list, [find, collection, pinned], [article_list], trigger_mode="always_last",
                    **quiet, **reading)
        if not read_only:
            upload.upload(ingest_uploads, [upload, find, collection, pinned], [status, *index_views, sources],
                          show_progress_on=status, **writing)
            article_list.remove(remove_article, [find, collection, pinned],
                                [status, *index_views, sources, pinned, filter_note], **quiet, **writing)
        app.load(backend.page_load, None, [collection, *chat_view, article, *filter_view, *index_views, question, ask],
                 queue=False, **quiet, **private)
        gr.api(backend.ask_api, api_name="ask", concurrency_id=READ_QUEUE, concurrency_limit=1)
    app.backend = backend  # for ui.server (warm-up) and tests
    return app


def launch_options() -> dict[str, Any]:
    """launch() settings that keep the page offline and private."""
    return {"theme": offline_theme(), "css": CSS, "share": False, "footer_links": ["api"],
            "run_history": False, "enable_monitoring": False, "mcp_server": False, "ssr_mode": False,
            "pwa": False, "max_file_size": MAX_UPLOAD, "show_error": True}

