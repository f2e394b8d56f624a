"""rag: offline question answering over news articles, answering with cited passages."""

from rag.offline import enforce_offline

enforce_offline()

from rag.config import Settings, load_settings  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.types import Answer, Citation, Passage  # noqa: E402

__all__ = ["Engine", "Settings", "load_settings", "Answer", "Citation", "Passage"]
