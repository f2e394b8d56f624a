"""Where an index lives: the store interface (base), its backends (local: SQLite record + FAISS +
tantivy; milvus) picked by the registry, and the keyword tokens every backend uses (sparse)."""
