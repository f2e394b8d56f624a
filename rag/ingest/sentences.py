"""Sentence and paragraph boundaries as character spans, so chunks keep exact offsets."""

from __future__ import annotations

import re

import regex

from rag.text import strip_span

# Abbreviations after which a full stop does not end a sentence (lowercased, without the dot).
_ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
no nos vol vols fig figs art sec ch pp para approx est inc ltd co corp dept univ ave blvd rd
jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
vs etc al e.g i.e u.s u.k u.n a.m p.m
""".split())

# A sentence ends at . ! ? (Arabic ؟, Urdu ۔, Devanagari ।) or an ellipsis, optionally followed by
# closing quotes/brackets, then whitespace, then something that can start a sentence: a capital
# of any script, a letter of a script without case (Arabic, Hebrew, Chinese...), a digit. The
# full-width ends of Chinese and Japanese (。！？) need no space after them.
_END = regex.compile(r"""(?:(?:[.!?؟۔।]+|…)["'”’)\]»]*(?=\s+["'“‘(\[«]?[\p{Lu}\p{Lt}\p{Lo}\p{N}])"""
                     r"""|[。！？]+["'”’)\]」』]*)""")
# Clauses, where an over-long sentence may be cut before its words are: ; and the Arabic comma
# and semicolon (Arabic prose runs long sentences on with them), each followed by a space.
_CLAUSE_END = regex.compile(r"[;،؛](?=\s)")
# Snippet fragments: search-result excerpts join unrelated bits with "...", "…" or "·".
_FRAGMENT_BREAK = re.compile(r"\s(?:\.\.\.|…|·)\s")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: runs of text separated by blank lines, stripped."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for brk in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, brk.start()))
        pos = brk.end()
    spans.append((pos, len(text)))
    return [s for s in (strip_span(text, a, b) for a, b in spans) if s[1] > s[0]]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end], stripped of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _END.finditer(text, start, end):
        if _is_abbreviation(text, pos, match.start()) or _is_initial(text, match.start()):
            continue
        spans.append((pos, match.end()))
        pos = match.end()
    spans.append((pos, end))
    return [s for s in (strip_span(text, a, b) for a, b in spans) if s[1] > s[0]]


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each clause of text[start:end] (see _CLAUSE_END), stripped."""
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _CLAUSE_END.finditer(text, start, end):
        spans.append((pos, match.end()))
        pos = match.end()
    spans.append((pos, end))
    return [s for s in (strip_span(text, a, b) for a, b in spans) if s[1] > s[0]]


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[sentence_start:dot])
    return bool(word) and word.group(1).lower().rstrip(".") in _ABBREVIATIONS


def _is_initial(text: str, dot: int) -> bool:
    """A single capital before the dot ("F.A. works", "George W. Bush") is an initial."""
    if text[dot] != ".":
        return False
    before = text[max(0, dot - 2):dot]
    return len(before) == 2 and before[1].isupper() and not before[0].isalnum()


def piece_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a passage, snippet fragments ("a ... b") split apart
    (fragments of three words or more; a sentence of none stays whole): the pieces whose tokens
    and vectors are stored at ingest, the sentences an answer is made of, and the numbered
    evidence sentences of a generated answer."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in paragraph_spans(text):
        for start, end in sentence_spans(text, p_start, p_end):
            parts, at = [], start
            for brk in _FRAGMENT_BREAK.finditer(text, start, end):
                parts.append((at, brk.start()))
                at = brk.end()
            parts.append((at, end))
            kept = [(a, b) for a, b in parts if len(text[a:b].split()) >= 3]
            spans.extend(kept if len(parts) > 1 and kept else [(start, end)])
    return spans or ([(0, len(text))] if text.strip() else [])


def passage_pieces(text: str) -> list[str]:
    """The sentences of a passage (`piece_spans`), as text."""
    return [text[a:b] for a, b in piece_spans(text)]
