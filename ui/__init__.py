"""The browser chat UI over rag.engine.Engine: `rag serve` or `python -m ui`."""
