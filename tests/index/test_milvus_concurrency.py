"""Readers never fail while a writer commits to the same Milvus collections (real Milvus Lite)."""

from __future__ import annotations

import shutil
import threading

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from tests.conftest import FAKE_SETTINGS, SAMPLE

SADR = "why did Sadr cancel his itikaf?"


def test_questions_while_a_writer_replaces_articles(tmp_path, milvus_uri):
    settings = FAKE_SETTINGS.with_updates(store={"backend": "milvus", "uri": milvus_uri, "collection": "busy"})
    folder = tmp_path / "articles"
    folder.mkdir()
    archive = folder / SAMPLE.name
    shutil.copy2(SAMPLE, archive)
    writer = Engine(settings, tmp_path / "index", embedder=FakeEmbedder(64))
    writer.ingest([folder])
    original = archive.read_text(encoding="utf-8")
    errors: list[BaseException] = []
    answers: list[int] = []
    writing = threading.Event()
    writing.set()

    def write() -> None:
        try:
            for round_ in range(4):  # each round replaces all five articles (the file changed)
                archive.write_text(original.replace("cancelled his itikaf", f"cancelled his itikaf ({round_})"),
                                   encoding="utf-8")
                report = writer.ingest([folder])
                assert report.documents_added == 5 and report.documents_removed == 5
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            writing.clear()

    def read() -> None:
        reader = Engine(settings, tmp_path / "index", embedder=FakeEmbedder(64))
        try:
            while writing.is_set():
                answer = reader.ask(SADR)
                assert answer.passages and not answer.abstained
                assert any("cancelled his itikaf" in p.text for p in answer.passages)
                answers.append(len(answer.passages))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(answers) >= 4
    stats = writer.stats()
    assert (stats["documents"], stats["chunks"], stats["healthy"]) == (5, 72, True)
