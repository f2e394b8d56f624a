"""What the embedding model sees of a chunk, and the hash that names it: shared by ingest (which
embeds) and the stores (which reuse or copy vectors by that hash, e.g. `rag migrate`)."""

from __future__ import annotations

import hashlib

from rag.types import Chunk, Document


def embedding_text(document: Document, chunk: Chunk, title_in_embedding: bool) -> str:
    """What the model sees for a chunk: the article title gives a passage its context."""
    if title_in_embedding and document.title and document.title != document.doc_id:
        return f"{document.title}\n{chunk.text}"
    return chunk.text


def embed_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
