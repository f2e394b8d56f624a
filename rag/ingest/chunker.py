"""Sentence-aware chunking that respects paragraphs, keeps exact character offsets and fits the
embedding model's window in every script.

A passage is limited in words (`max_words`, for readable passages) and in the model's own tokens
(`max_tokens`): in English the word limit binds (110 words are about 155 MiniLM wordpieces), in
Arabic or Chinese, where a word is several tokens or there are no spaces, the token limit does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from rag.config import ChunkingSettings
from rag.ingest.sentences import clause_spans, paragraph_spans, sentence_spans
from rag.text import strip_span
from rag.types import Chunk, Document

_WORD_GAP = re.compile(r"\s+")
TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    words: int
    tokens: int
    whole_paragraph: bool


def chunk_document(document: Document, settings: ChunkingSettings, count_tokens: TokenCounter | None = None,
                   max_tokens: int | None = None) -> list[Chunk]:
    """Cut a document into passages of at most `max_words` words and `max_tokens` model tokens
    (`count_tokens`: the embedder's count, None counts words as tokens; `max_tokens`: this
    document's budget, e.g. the model's window less its title, else `settings.max_tokens`).

    Short paragraphs are packed together; a longer paragraph is cut at sentence ends into
    windows that share `overlap_sentences` sentences. A sentence is only ever cut when it alone
    is over a limit (`hard_max_words`, `max_tokens`): at clause marks (; ، ؛), else at word
    gaps, else (a script without spaces) between characters. Paragraphs of two pages are never
    packed together, so a passage cites one page.
    """
    count = count_tokens or (lambda text: len(text.split()))
    if max_tokens is not None:
        settings = settings.model_copy(update={"max_tokens": max(1, min(max_tokens, settings.max_tokens))})
    text = document.text
    blocks = _blocks(text, settings, count)
    chunks: list[Chunk] = []
    group: list[_Block] = []

    def flush() -> None:
        if group:
            start, end = group[0].start, group[-1].end
            chunks.append(Chunk(document.doc_id, len(chunks), start, end, text[start:end]))
            group.clear()

    page_starts = set(document.page_starts[1:])  # a passage never runs across a page break
    for block in blocks:
        fits = (sum(b.words for b in group) + block.words <= settings.max_words
                and sum(b.tokens for b in group) + block.tokens <= settings.max_tokens)
        if not (block.whole_paragraph and fits and all(b.whole_paragraph for b in group)) or block.start in page_starts:
            flush()
        group.append(block)
    flush()
    return chunks


def _blocks(text: str, settings: ChunkingSettings, count: TokenCounter) -> list[_Block]:
    blocks: list[_Block] = []
    for p_start, p_end in paragraph_spans(text):
        words = _count_words(text[p_start:p_end])
        tokens = count(text[p_start:p_end]) if words <= settings.max_words else settings.max_tokens + 1
        if words <= settings.max_words and tokens <= settings.max_tokens:
            blocks.append(_Block(p_start, p_end, words, tokens, True))
            continue
        sentences = [
            piece
            for s_start, s_end in sentence_spans(text, p_start, p_end)
            for piece in _split_long_sentence(text, s_start, s_end, settings, count)
        ]
        blocks.extend(_windows(text, sentences, settings, count))
    return blocks


def _windows(text: str, sentences: list[tuple[int, int]], settings: ChunkingSettings,
             count: TokenCounter) -> list[_Block]:
    """Consecutive sentence windows within both limits, overlapping by whole sentences."""
    words = [_count_words(text[a:b]) for a, b in sentences]
    tokens = [count(text[a:b]) for a, b in sentences]
    windows: list[_Block] = []
    first = 0
    while first < len(sentences):
        last, total_words, total_tokens = first, words[first], tokens[first]
        while (last + 1 < len(sentences) and total_words + words[last + 1] <= settings.max_words
               and total_tokens + tokens[last + 1] <= settings.max_tokens):
            last += 1
            total_words += words[last]
            total_tokens += tokens[last]
        windows.append(_Block(sentences[first][0], sentences[last][1], total_words, total_tokens, False))
        if last + 1 >= len(sentences):
            break
        first = max(first + 1, last + 1 - settings.overlap_sentences)
    return windows


def _split_long_sentence(text: str, start: int, end: int, settings: ChunkingSettings,
                         count: TokenCounter) -> list[tuple[int, int]]:
    """The sentence itself, or pieces within both limits: cut at clause marks, then at word
    gaps, then between characters (the last resort of a script without spaces)."""
    if _fits(text, start, end, settings, count):
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for a, b in clause_spans(text, start, end):
        if _fits(text, a, b, settings, count):
            pieces.append((a, b))
            continue
        cuts = [m.start() for m in _WORD_GAP.finditer(text, a, b)]
        pieces += _greedy(text, a, b, cuts or list(range(a + 1, b)), settings, count)
    return _merged(text, pieces, settings, count)


def _fits(text: str, start: int, end: int, settings: ChunkingSettings, count: TokenCounter) -> bool:
    piece = text[start:end]
    return _count_words(piece) <= settings.hard_max_words and count(piece) <= settings.max_tokens


def _greedy(text: str, start: int, end: int, cuts: list[int], settings: ChunkingSettings,
            count: TokenCounter) -> list[tuple[int, int]]:
    """Pieces of text[start:end] cut at some of `cuts` (ascending positions), each the longest
    that fits (found by bisection: a few counts a piece)."""
    pieces: list[tuple[int, int]] = []
    at = start
    candidates = [c for c in cuts if start < c < end] + [end]
    while at < end:
        usable = [c for c in candidates if c > at]
        low, high = 0, len(usable) - 1
        if _fits(text, at, usable[high], settings, count):
            low = high
        else:
            while low < high:  # the last cut whose piece fits; the first if none does
                middle = (low + high + 1) // 2
                if _fits(text, at, usable[middle], settings, count):
                    low = middle
                else:
                    high = middle - 1
        piece_end = usable[low]
        a, b = strip_span(text, at, piece_end)
        if b > a:
            pieces.append((a, b))
        at = piece_end
    return pieces


def _merged(text: str, pieces: list[tuple[int, int]], settings: ChunkingSettings,
            count: TokenCounter) -> list[tuple[int, int]]:
    """Consecutive pieces joined again while the join still fits (clauses are often short)."""
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        if merged and _fits(text, merged[-1][0], b, settings, count):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _count_words(text: str) -> int:
    return len(text.split())
