import pytest

from rag.config import ChunkingSettings
from rag.ingest.chunker import chunk_document
from rag.ingest.readers import read_documents
from rag.ingest.sentences import paragraph_spans, sentence_spans
from rag.types import Document
from tests.conftest import SAMPLE


def sample_docs():
    return read_documents(SAMPLE, SAMPLE.read_bytes()).documents


def doc(text):
    return Document("d", text, "T", "S", "/x.txt")


def test_offsets_are_exact_for_every_chunk_of_the_sample():
    for document in sample_docs():
        chunks = chunk_document(document, ChunkingSettings())
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert document.text[chunk.start:chunk.end] == chunk.text
            assert chunk.doc_id == document.doc_id


def test_chunks_never_start_or_end_inside_a_sentence():
    settings = ChunkingSettings(max_words=40, overlap_sentences=1)
    for document in sample_docs():
        spans = [s for a, b in paragraph_spans(document.text) for s in sentence_spans(document.text, a, b)]
        bounds = {a for a, _ in spans} | {b for _, b in spans}
        for chunk in chunk_document(document, settings):
            assert chunk.start in bounds and chunk.end in bounds
            assert len(chunk.text.split()) <= 40 or len(sentence_spans(chunk.text)) == 1


def test_short_paragraphs_are_packed_and_long_ones_windowed_with_overlap():
    text = "A b c.\n\nD e f.\n\n" + " ".join(f"Sentence number {i} here." for i in range(10))
    chunks = chunk_document(doc(text), ChunkingSettings(max_words=12, overlap_sentences=1))
    assert chunks[0].text == "A b c.\n\nD e f."
    windows = [c.text for c in chunks[1:]]
    assert windows[0] == "Sentence number 0 here. Sentence number 1 here. Sentence number 2 here."
    assert windows[1].startswith("Sentence number 2 here.")  # one sentence of overlap
    assert windows[-1].endswith("Sentence number 9 here.")


def test_a_sentence_longer_than_the_hard_limit_is_cut_at_word_gaps():
    text = " ".join(["word"] * 25) + "."
    chunks = chunk_document(doc(text), ChunkingSettings(max_words=10, hard_max_words=10, overlap_sentences=0))
    assert [len(c.text.split()) for c in chunks] == [10, 10, 5]
    assert all(text[c.start:c.end] == c.text for c in chunks)


@pytest.mark.model
def test_default_chunks_fit_the_model_window_with_title(real_engine):
    embedder = real_engine.embedder
    for document in sample_docs():
        for chunk in chunk_document(document, ChunkingSettings()):
            assert embedder.count_tokens(f"{document.title}\n{chunk.text}") <= embedder.max_tokens
