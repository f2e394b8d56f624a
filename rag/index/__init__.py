"""The index folder: chunk store (SQLite), dense vectors (FAISS), keyword index (bm25s), manifest."""
