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

# Downloads a text made on the server (an answer's Markdown or JSON) from the browser, and copies
# a text to the clipboard: the Clipboard API where the page may use it (this computer, HTTPS),
# else a selected text area and the copy command, else a prompt to copy it by hand.
DOWNLOAD_AND_COPY_JS = """
const downloadText = (name, type, text) => {
  const url = URL.createObjectURL(new Blob([text], {type: type + ';charset=utf-8'}));
  const link = document.createElement('a');
  link.href = url; link.download = name; link.style.display = 'none';
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
};
const copyText = async (text) => {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (error) { /* fall back */ }
  }
  const area = document.createElement('textarea');
  area.value = text; area.setAttribute('readonly', '');
  area.style.position = 'fixed'; area.style.top = '0'; area.style.opacity = '0';
  document.body.appendChild(area); area.select();
  let copied = false;
  try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
  area.remove();
  if (!copied) window.prompt('Copy the quote with Ctrl+C (Cmd+C on a Mac):', text);
  return copied;
};
"""

# Clicks on a [n] marker or a passage card send the citation to the server ('cite' event); a
# card's copy button copies its quote with the citation, an answer's buttons download it. After an
# update the latest question is scrolled to the top of the conversation.
CONVERSATION_JS = SCROLL_TO_MARK_JS + DOWNLOAD_AND_COPY_JS + """
const openCitation = (target) => {
  element.querySelectorAll('.card.active').forEach((card) => card.classList.remove('active'));
  const card = element.querySelector(
    `.card[data-turn="${target.dataset.turn}"][data-number="${target.dataset.number}"]`);
  if (card) {
    card.classList.add('active');
    const folded = card.closest('details');
    if (folded) folded.open = true;
  }
  const key = [target.dataset.doc, target.dataset.start, target.dataset.end].join('|');
  const shown = document.querySelector('#article-panel .article-panel');
  const mark = shown && shown.dataset.cited === key && shown.querySelector('mark.cited');
  if (mark) scrollToMark(shown, mark);  // already open: bring the passage back into view
  trigger('cite', {doc_id: target.dataset.doc, start: Number(target.dataset.start),
                   end: Number(target.dataset.end), number: Number(target.dataset.number)});
};
element.addEventListener('click', (event) => {
  const copy = event.target.closest('button.copy-quote');
  if (copy && element.contains(copy)) {
    event.preventDefault();
    event.stopPropagation();
    copyText(copy.dataset.quote).then((copied) => {
      copy.textContent = copied ? 'Copied' : 'Copy quote with citation';
      setTimeout(() => { copy.textContent = 'Copy quote with citation'; }, 2000);
    });
    return;
  }
  const exported = event.target.closest('button.export');
  if (exported && element.contains(exported)) {
    event.preventDefault();
    downloadText(exported.dataset.filename, exported.dataset.type, exported.dataset.content);
    return;
  }
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
// The input is enabled once the page has opened its chat (the first update): then it takes the
// focus, unless the reader has put it somewhere already, and the direction of what is typed.
let focused = false;
watch('value', () => {
  if (focused) return;
  focused = true;
  setTimeout(() => {
    const question = document.querySelector('#question textarea');
    if (!question) return;
    question.setAttribute('dir', 'auto');  // a question in Arabic is typed right to left
    const free = !document.activeElement || document.activeElement === document.body;
    if (!question.disabled && free) question.focus();
  }, 100);
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

# Pin toggles an article's pin ('pin' event). Remove asks for a second click, then sends the
# document id to the server ('remove' event).
ARTICLE_LIST_JS = """
element.addEventListener('click', (event) => {
  const pin = event.target.closest('button[data-pin]');
  if (pin && element.contains(pin)) {
    pin.disabled = true;
    trigger('pin', {doc_id: pin.dataset.pin, title: pin.dataset.title});
    return;
  }
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

# A kept conversation opens on a click ('open' event); its x asks for a second click, then
# deletes it ('delete' event).
CONVERSATION_LIST_JS = """
element.addEventListener('click', (event) => {
  const remove = event.target.closest('button[data-delete]');
  if (remove && element.contains(remove)) {
    if (remove.dataset.confirm !== 'yes') {
      element.querySelectorAll('button[data-confirm="yes"]').forEach((b) => {
        b.dataset.confirm = ''; b.textContent = '×';
      });
      remove.dataset.confirm = 'yes';
      remove.textContent = 'Delete?';
      return;
    }
    remove.disabled = true;
    trigger('delete', {id: remove.dataset.delete});
    return;
  }
  const open = event.target.closest('a[data-open]');
  if (open && element.contains(open)) {
    event.preventDefault();
    trigger('open', {id: open.dataset.open});
  }
});
"""

# A pinned article's x unpins it ('unpin' event).
FILTER_NOTE_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-unpin]');
  if (!button || !element.contains(button)) return;
  button.disabled = true;
  trigger('unpin', {doc_id: button.dataset.unpin});
});
"""

CSS = """
.writing { color: var(--body-text-color-subdued); font-style: italic; margin: 0 0 8px; }
.written-by { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0 0 6px; cursor: help; }
.answer-sentences.written li.quoted { list-style: none; margin-left: -1.2em; padding-left: 0.6em;
  border-left: 3px solid var(--border-color-accent-subdued); }
.quoted-label { font-size: 0.72em; text-transform: uppercase; letter-spacing: 0.05em; padding: 0 5px;
  border-radius: 4px; border: 1px solid var(--border-color-primary); color: var(--body-text-color-subdued);
  margin-right: 4px; }
.written-fallback { color: var(--body-text-color-subdued); font-size: 0.88em; margin: -4px 0 10px;
  padding-left: 10px; border-left: 3px solid #d97706; }
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
.article-list th:nth-child(5) { width: 18em; }
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
/* The three columns: kept conversations, the chat, the article panel. On a narrow screen the list
   of conversations goes last, under the chat and the article. */
#history-column { gap: 8px; }
#history-column, #conversation-list, .conversation-list, .conversation-list li { min-width: 0; }
.conversation-list { text-align: left; max-height: calc(100vh - 260px); overflow-y: auto; }
#filter-note:has(.filter-note.empty) { display: none; }
#filter-options { gap: 8px; align-items: center; }
@media (max-width: 900px) { #history-column { order: 3; } }
.conversation-list ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 4px; }
.conversation-list li.saved { padding: 6px 8px; border-radius: 8px; border: 1px solid transparent; }
.conversation-list li.saved:hover { background: var(--background-fill-secondary); }
.conversation-list li.current { border-color: var(--color-accent); background: var(--color-accent-soft); }
.saved-head { display: flex; gap: 6px; align-items: flex-start; }
.saved-head a.open { flex: 1; min-width: 0; display: block; text-align: left; color: var(--body-text-color);
  text-decoration: none;
  font-weight: 600; font-size: 0.92em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.saved-when, .conversation-list .note { font-size: 0.8em; color: var(--body-text-color-subdued); }
.conversation-list .note { margin: 4px 2px; }
.conversation-list .note.error { color: #dc2626; }
.conversation-list button.delete { border: none; background: none; cursor: pointer; padding: 0 4px;
  color: var(--body-text-color-subdued); font: inherit; line-height: 1.2; border-radius: 4px; }
.conversation-list button.delete:hover { color: #dc2626; }
.conversation-list button.delete[data-confirm="yes"] { color: #fff; background: #dc2626; font-size: 0.8em; }
.conversation-export { font-size: 0.78em; margin-top: 4px; white-space: nowrap; }
.conversation-export a { color: var(--color-accent); }
#filters { gap: 6px; align-items: center; }
#filters input, #filters textarea { font-size: 0.9em; }
.filter-note { font-size: 0.88em; }
.filter-note.empty { display: none; }
.filter-note .pinned { display: flex; flex-wrap: wrap; gap: 4px 6px; align-items: center; }
.pinned-label { color: var(--body-text-color-subdued); }
.chip { display: inline-flex; align-items: center; gap: 2px; max-width: 24em; padding: 1px 4px 1px 9px;
  border-radius: 999px; border: 1px solid var(--border-color-accent-subdued); background: var(--color-accent-soft); }
.chip-title { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; min-width: 0; }
.chip button.unpin { border: none; background: none; cursor: pointer; font: inherit; padding: 0 4px;
  color: var(--body-text-color-subdued); }
.chip button.unpin:hover { color: #dc2626; }
.filter-problem { color: #dc2626; margin-top: 2px; }
.asked-under { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.followup { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 6px; cursor: help; }
.answer-note { margin: -4px 0 12px; padding: 8px 12px; border-radius: 8px; font-size: 0.93em;
  background: var(--background-fill-secondary); border-left: 4px solid #64748b; }
.answer-tools { display: flex; gap: 6px; justify-content: flex-end; margin-top: 8px; }
.answer-tools button, .card button.copy-quote { padding: 1px 10px; border-radius: 6px; cursor: pointer;
  font: inherit; font-size: 0.8em; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); color: var(--body-text-color-subdued); }
.answer-tools button:hover, .card button.copy-quote:hover { color: var(--color-accent);
  border-color: var(--color-accent); }
.card-foot { display: flex; gap: 8px; align-items: flex-end; justify-content: space-between; margin-top: 7px; }
.card-foot .evidence { margin-top: 0; }
.card button.copy-quote { white-space: nowrap; flex-shrink: 0; }
/* Gradio colours every element inside its HTML blocks: the <bdi> around a source, a date or key
   words keeps the colour of its line. */
#conversation .card-source bdi, #conversation .terms bdi, #article-panel .article-meta bdi { color: inherit; }
.card.context { border-style: dashed; }
.card-context { font-size: 0.8em; color: var(--body-text-color-subdued); font-style: italic; margin: 0 0 6px; }
.badge.context { border-color: #64748b; }
.closeness { border-bottom: 1px dotted currentColor; cursor: help; }
details.more-passages { margin-top: 10px; }
details.more-passages summary, details.why summary { cursor: pointer; color: var(--body-text-color-subdued); }
details.more-passages summary { margin-bottom: 8px; }
details.why { margin-top: 4px; font-size: 0.9em; }
.article-list button.pin { padding: 2px 10px; border-radius: 6px; cursor: pointer; font: inherit; font-size: 0.95em;
  margin-right: 6px; border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); }
.article-list button.pin[aria-pressed="true"] { border-color: var(--color-accent); color: var(--color-accent);
  background: var(--color-accent-soft); }
/* The API page lists an MCP tab whatever the server does; this server runs no MCP. */
li.snippet:has(img[src*="mcp"]) { display: none !important; }
"""
