"""rag: offline question answering over news articles, answering with cited passages.

    from rag import Engine, load_settings
    engine = Engine(load_settings(), "path/to/index")
    engine.ingest(["articles/"])
    answer = engine.ask("why did Sadr cancel his itikaf?")
"""

from rag.offline import enforce_offline

enforce_offline()

__all__ = ["Engine", "Settings", "load_settings", "Answer", "Citation", "Passage", "Where"]


def __getattr__(name: str):
    # Resolved on first use so that `import rag` (and `rag --help`) stays light.
    if name == "Engine":
        from rag.engine import Engine

        return Engine
    if name in ("Settings", "load_settings"):
        from rag import config

        return getattr(config, name)
    if name in ("Answer", "Citation", "Passage", "Where"):
        from rag import types

        return getattr(types, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
