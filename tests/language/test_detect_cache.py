"""The language model is unpacked once into the cache folder and memory-mapped from there."""

import numpy as np

from rag.language import detect


def test_the_model_is_unpacked_once_then_mapped_and_the_old_copy_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_NEWS_CACHE", str(tmp_path))
    (tmp_path / "language").mkdir()
    stale = tmp_path / "language" / "py3langid-0.4.0.npz"
    stale.write_bytes(b"the previous release's copy")
    detect._identifier.cache_clear()
    try:
        assert detect.detect_language("Le président a déclaré que la France soutiendrait l'Irak.")[0] == "fr"
        folder = next((tmp_path / "language").glob("py3langid-*"))
        assert (folder / "complete").is_file() and not stale.exists()
        assert isinstance(detect._identifier().nb_ptc, np.memmap)  # mapped, not read whole
        detect._identifier.cache_clear()
        assert detect.detect_among("Wer hat das Spiel gewonnen?", ["de", "en", "fr"], "en") == "de"
    finally:
        detect._identifier.cache_clear()


def test_an_unwritable_cache_still_detects(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("RAG_NEWS_CACHE", str(blocked))
    detect._identifier.cache_clear()
    try:
        assert detect.detect_language("Путин заявил, что переговоры продолжатся в Стамбуле.")[0] == "ru"
    finally:
        detect._identifier.cache_clear()
