"""The Engine across threads: questions are answered while another thread ingests."""

import threading
from pathlib import Path

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from tests.conftest import FAKE_SETTINGS, SAMPLE


class GatedEmbedder(FakeEmbedder):
    """Holds any batch mentioning "glacier" until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(64)
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def embed(self, texts):
        if any("glacier" in t.lower() for t in texts):
            self.waiting.set()
            assert self.gate.wait(timeout=30), "the test never opened the gate"
        return super().embed(texts)


def test_questions_are_answered_while_another_thread_ingests(tmp_path: Path):
    embedder = GatedEmbedder()
    engine = Engine(FAKE_SETTINGS, tmp_path / "index", embedder=embedder)
    engine.ingest([SAMPLE])
    article = tmp_path / "glacier.txt"
    article.write_text("Glacier retreat\n\nThe Aletsch glacier lost forty metres this summer.")
    ingest = threading.Thread(target=engine.ingest, args=([article],))
    ingest.start()
    try:
        assert embedder.waiting.wait(timeout=30)  # the ingest is now stuck inside embedding
        answer = engine.ask("Sadr cancelled his itikaf")  # must not wait for the ingest
        assert "He cancelled his itikaf" in answer.passages[0].text
        assert ingest.is_alive()
    finally:
        embedder.gate.set()
        ingest.join(timeout=30)
    assert engine.stats()["documents"] == 6
    assert "Aletsch" in engine.ask("Aletsch glacier retreat").passages[0].text


def test_warm_up_loads_the_index_and_works_before_any_ingest(tmp_path: Path):
    engine = Engine(FAKE_SETTINGS, tmp_path / "index", embedder=FakeEmbedder(64))
    engine.warm_up()  # no index yet: only the model
    engine.ingest([SAMPLE])
    engine.warm_up()
    assert engine._reader is not None and engine._reader.info().documents == 5
