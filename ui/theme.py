"""Look and behaviour of the page: a theme with system fonts only (nothing fetched from outside),
the CSS, and the small scripts the HTML components run in the browser."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import gradio as gr

# Plain strings reach the CSS unquoted, so generic names like system-ui keep their meaning.
SYSTEM_FONTS = ["system-ui", "-apple-system", "'Segoe UI'", "Roboto", "'Noto Sans'",
                "'Liberation Sans'", "Arial", "sans-serif"]
SYSTEM_MONO_FONTS = ["ui-monospace", "'SFMono-Regular'", "'DejaVu Sans Mono'", "Menlo", "Consolas",
                     "monospace"]


def offline_theme() -> "gr.themes.Base":
    """Gradio's default look with system fonts: no web font is requested, not even locally."""
    import gradio as gr

    return gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate",
                             font=SYSTEM_FONTS, font_mono=SYSTEM_MONO_FONTS)


# Scrolls the article panel so the highlighted passage sits below its sticky title. On narrow
# screens the panel is stacked under the chat, out of sight: the window is scrolled to the panel
# (title at the top, passage under it). On wide screens the window moves only if the passage is
# out of sight.
SCROLL_TO_MARK_JS = """
const scrollToMark = (panel, mark) => {
  const head = panel.querySelector('.article-head');
  panel.scrollTop = mark.offsetTop - Math.max(panel.clientHeight / 4, (head ? head.offsetHeight : 0) + 16);
  const chat = document.querySelector('#conversation');
  const stacked = chat && panel.getBoundingClientRect().left < chat.getBoundingClientRect().right - 1;
  const box = mark.getBoundingClientRect();
  if (stacked) panel.scrollIntoView({block: 'start'});
  else if (box.top < 0 || box.top > window.innerHeight - 40) mark.scrollIntoView({block: 'center'});
};
"""

# Clicks on a [n] marker or a passage card send the citation to the server ('cite' event);
# after an update the latest question is scrolled to the top of the conversation.
CONVERSATION_JS = SCROLL_TO_MARK_JS + """
const openCitation = (target) => {
  element.querySelectorAll('.card.active').forEach((card) => card.classList.remove('active'));
  const card = element.querySelector(
    `.card[data-turn="${target.dataset.turn}"][data-rank="${target.dataset.rank}"]`);
  if (card) card.classList.add('active');
  const key = [target.dataset.doc, target.dataset.start, target.dataset.end].join('|');
  const shown = document.querySelector('#article-panel .article-panel');
  const mark = shown && shown.dataset.cited === key && shown.querySelector('mark.cited');
  if (mark) scrollToMark(shown, mark);  // already open: bring the passage back into view
  trigger('cite', {doc_id: target.dataset.doc, start: Number(target.dataset.start),
                   end: Number(target.dataset.end), rank: Number(target.dataset.rank)});
};
element.addEventListener('click', (event) => {
  const target = event.target.closest('[data-doc]');
  if (!target || !element.contains(target)) return;
  if (target.classList.contains('card') && String(window.getSelection()).length > 0) return;
  event.preventDefault();
  openCitation(target);
});
element.addEventListener('keydown', (event) => {
  const target = event.target;
  if ((event.key === 'Enter' || event.key === ' ') && target.matches && target.matches('.card[data-doc]')) {
    event.preventDefault();
    openCitation(target);
  }
});
watch('value', () => {
  const box = element.querySelector('.conversation');
  const turns = element.querySelectorAll('.turn');
  if (box && turns.length) box.scrollTop = turns[turns.length - 1].offsetTop - 8;
});
"""

# A newly shown article scrolls its highlighted passage into view.
ARTICLE_PANEL_JS = SCROLL_TO_MARK_JS + """
watch('value', () => {
  const panel = element.querySelector('.article-panel');
  const mark = element.querySelector('mark.cited');
  if (panel && mark) scrollToMark(panel, mark);
});
"""

# Remove asks for a second click, then sends the document id to the server ('remove' event).
ARTICLE_LIST_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-remove]');
  if (!button || !element.contains(button)) return;
  if (button.dataset.confirm !== 'yes') {
    element.querySelectorAll('button[data-confirm="yes"]').forEach((b) => {
      b.dataset.confirm = ''; b.textContent = 'Remove';
    });
    button.dataset.confirm = 'yes';
    button.textContent = 'Click again to remove';
    return;
  }
  button.disabled = true;
  button.textContent = 'Removing…';
  trigger('remove', {doc_id: button.dataset.remove});
});
"""

CSS = """
.gradio-container { max-width: 1500px !important; }
#page-header h1 { font-size: 1.45rem; margin: 0.2rem 0 0.1rem; }
#page-header p { margin: 0; color: var(--body-text-color-subdued); }
.conversation { position: relative; max-height: calc(100vh - 390px); min-height: 320px;
  overflow-y: auto; padding: 4px 8px 4px 2px; }
.index-status { padding: 8px 12px; border-radius: 8px; color: var(--body-text-color-subdued);
  background: var(--background-fill-secondary); font-size: 0.92em; }
.index-status.empty-index { color: var(--body-text-color); border-left: 4px solid #d97706;
  padding: 14px 16px; font-size: 1em; }
.chat-placeholder { color: var(--body-text-color-subdued); padding: 40px 8px; text-align: center; }
.notice, .searching { padding: 12px 14px; border-radius: 10px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.notice { border-left: 4px solid #d97706; }
.searching { color: var(--body-text-color-subdued); font-style: italic; }
.turn { margin: 0 0 22px; }
.question { margin: 0 0 10px auto; width: fit-content; max-width: 80%; padding: 9px 14px;
  border-radius: 14px 14px 2px 14px; background: var(--color-accent-soft);
  border: 1px solid var(--border-color-accent-subdued); font-weight: 600; white-space: pre-wrap; }
.reply { padding: 2px 2px 0; }
.searched-as { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 6px; }
.answer-sentences { margin: 0 0 12px; padding-left: 1.2em; line-height: 1.55; }
.answer-sentences li { margin-bottom: 6px; }
a.marker { font-weight: 700; text-decoration: none; color: var(--color-accent);
  padding: 0 2px; border-radius: 4px; }
a.marker:hover { background: var(--color-accent-soft); }
.sources-label { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.06em;
  color: var(--body-text-color-subdued); margin: 4px 0 6px; }
.cards { display: grid; gap: 10px; }
.card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  background: var(--background-fill-primary); cursor: pointer; transition: border-color 0.15s; }
.card:hover, .card:focus { border-color: var(--color-accent); outline: none; }
.card.active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.card-head { font-weight: 600; display: -webkit-box; -webkit-box-orient: vertical;
  -webkit-line-clamp: 2; line-clamp: 2; overflow: hidden; }
.card-number { color: var(--color-accent); margin-right: 2px; }
.card-source { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 1px 0 0; }
.card-where { font-size: 0.78em; color: var(--body-text-color-subdued); margin: 0 0 6px; }
.card-text { white-space: pre-wrap; line-height: 1.45; font-size: 0.93em; }
.card-text b.answer-hit { font-weight: 600; background: var(--color-accent-soft); }
.evidence { margin-top: 7px; font-size: 0.8em; color: var(--body-text-color-subdued); }
.badge { display: inline-block; padding: 0 7px; border-radius: 999px;
  border: 1px solid var(--border-color-primary); }
.badge.best { border-color: #16a34a; color: #15803d; }
.similarity { border-bottom: 1px dotted currentColor; cursor: help; }
.abstained { padding: 12px 14px; border-radius: 10px; border-left: 4px solid #d97706;
  background: var(--background-fill-secondary); }
.abstained .reason { margin-top: 4px; color: var(--body-text-color-subdued); }
details.closest { margin-top: 10px; }
details.closest summary { cursor: pointer; color: var(--body-text-color-subdued); margin-bottom: 8px; }
#article-panel { position: sticky; top: 8px; }
.article-panel { position: relative; max-height: calc(100vh - 200px); min-height: 320px; overflow-y: auto;
  border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 0 16px 14px;
  background: var(--background-fill-secondary); }
.article-panel.placeholder { padding: 14px 16px; }
.article-head { position: sticky; top: 0; z-index: 1; padding: 12px 0 8px;
  background: var(--background-fill-secondary); border-bottom: 1px solid var(--border-color-primary); }
.article-panel.placeholder { color: var(--body-text-color-subdued); }
.article-title { font-size: 1.15em; font-weight: 700; line-height: 1.3; }
.article-meta, .article-where { font-size: 0.85em; color: var(--body-text-color-subdued); }
.article-text { white-space: pre-wrap; line-height: 1.55; margin-top: 10px; }
mark.cited { background: #fde68a; color: #111827; border-radius: 3px; padding: 1px 0;
  box-shadow: 0 0 0 2px #fde68a; }
.article-list table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
.article-list th, .article-list td { text-align: left; padding: 6px 8px;
  border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.article-list table, .article-list thead, .article-list tbody, .article-list tr, .article-list th,
.article-list td { border-left: none !important; border-right: none !important; }
.article-list td.num { text-align: right; }
/* Column widths fixed by the header, not the content: asking to confirm a removal ("Click again
   to remove") moves no column, and long titles are cut with "…" (the full title is the tooltip). */
.article-list table { table-layout: fixed; }
.article-list th:nth-child(2) { width: 18%; }
.article-list th:nth-child(3) { width: 6.5em; }
.article-list th:nth-child(4) { width: 20%; }
.article-list th:nth-child(5) { width: 13em; }
.article-list td.title { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.article-list td.actions { white-space: nowrap; text-align: right; }
@media (max-width: 720px) {  /* narrow screens: the title and its Remove button */
  .article-list th:nth-child(n+2):nth-child(-n+4), .article-list td:nth-child(n+2):nth-child(-n+4) { display: none; }
}
.upload-help { color: var(--body-text-color-subdued); font-size: 0.9em; padding: 6px 4px; }
/* On a narrow screen the help goes under the Upload button rather than squeezed beside it. */
.block:has(.upload-help) { min-width: min(300px, 100%) !important; }
.article-list td.file { color: var(--body-text-color-subdued); word-break: break-all; }
.article-list .summary { margin-bottom: 6px; color: var(--body-text-color-subdued); }
.article-list button.remove { padding: 2px 10px; border-radius: 6px; cursor: pointer; font: inherit;
  font-size: 0.95em;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); }
.article-list button.remove[data-confirm="yes"] { border-color: #dc2626; color: #dc2626; }
.ingest-report { margin: 4px 0; padding-left: 1.2em; }
.ingest-report .error, .status.error { color: #dc2626; }
.ingest-report .warning { color: #b45309; }
.status { margin: 4px 0; }
/* The API page lists an MCP tab whatever the server does; this server runs no MCP. */
li.snippet:has(img[src*="mcp"]) { display: none !important; }
"""
