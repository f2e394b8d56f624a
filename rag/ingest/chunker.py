"""Sentence-aware chunking that respects paragraphs and keeps exact character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.config import ChunkingSettings
from rag.ingest.sentences import paragraph_spans, sentence_spans
from rag.types import Chunk, Document

_WORD_GAP = re.compile(r"\s+")


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    words: int
    whole_paragraph: bool


def chunk_document(document: Document, settings: ChunkingSettings) -> list[Chunk]:
    """Cut a document into passages of at most `max_words` words.

    Short paragraphs are packed together; a paragraph longer than `max_words` is cut at
    sentence ends into windows that share `overlap_sentences` sentences. A sentence is only
    ever cut (at a word gap) when it alone is longer than `hard_max_words`. Paragraphs of two
    pages are never packed together, so a passage cites one page.
    """
    text = document.text
    blocks = _blocks(text, settings)
    chunks: list[Chunk] = []
    group: list[_Block] = []

    def flush() -> None:
        if group:
            start, end = group[0].start, group[-1].end
            chunks.append(Chunk(document.doc_id, len(chunks), start, end, text[start:end]))
            group.clear()

    page_starts = set(document.page_starts[1:])  # a passage never runs across a page break
    for block in blocks:
        fits = sum(b.words for b in group) + block.words <= settings.max_words
        if not (block.whole_paragraph and fits and all(b.whole_paragraph for b in group)) or block.start in page_starts:
            flush()
        group.append(block)
    flush()
    return chunks


def _blocks(text: str, settings: ChunkingSettings) -> list[_Block]:
    blocks: list[_Block] = []
    for p_start, p_end in paragraph_spans(text):
        words = _count_words(text[p_start:p_end])
        if words <= settings.max_words:
            blocks.append(_Block(p_start, p_end, words, True))
            continue
        sentences = [
            piece
            for s_start, s_end in sentence_spans(text, p_start, p_end)
            for piece in _split_long_sentence(text, s_start, s_end, settings.hard_max_words)
        ]
        blocks.extend(_windows(text, sentences, settings))
    return blocks


def _windows(text: str, sentences: list[tuple[int, int]], settings: ChunkingSettings) -> list[_Block]:
    """Consecutive sentence windows of at most max_words, overlapping by whole sentences."""
    counts = [_count_words(text[a:b]) for a, b in sentences]
    windows: list[_Block] = []
    first = 0
    while first < len(sentences):
        last, total = first, counts[first]
        while last + 1 < len(sentences) and total + counts[last + 1] <= settings.max_words:
            last += 1
            total += counts[last]
        windows.append(_Block(sentences[first][0], sentences[last][1], total, False))
        if last + 1 >= len(sentences):
            break
        first = max(first + 1, last + 1 - settings.overlap_sentences)
    return windows


def _split_long_sentence(text: str, start: int, end: int, hard_max: int) -> list[tuple[int, int]]:
    """The sentence itself, or pieces of at most `hard_max` words cut at word gaps."""
    gaps = [m for m in _WORD_GAP.finditer(text, start, end)]
    if len(gaps) + 1 <= hard_max:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for i in range(hard_max - 1, len(gaps), hard_max):
        pieces.append((piece_start, gaps[i].start()))
        piece_start = gaps[i].end()
    pieces.append((piece_start, end))
    return pieces


def _count_words(text: str) -> int:
    return len(text.split())
