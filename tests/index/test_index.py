"""The local index: round trip, build-settings checks, idempotent and crash-safe updates (fake embedder)."""

import json
import shutil
from pathlib import Path

import pytest

from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from rag.errors import IndexMismatchError, IndexMissingError, IndexProblem
from rag.index.local import LocalStore
from tests.conftest import FAKE_SETTINGS, SAMPLE


def engine_at(index: Path, settings=FAKE_SETTINGS, embedder=None) -> Engine:
    return Engine(settings, index, embedder=embedder or FakeEmbedder(64))


def test_ingest_then_load_round_trip(fake_engine, sample_copy):
    report = fake_engine.ingest([sample_copy])
    assert (report.documents_added, report.chunks_added, report.chunks_embedded) == (5, 72, 72)
    reopened = engine_at(fake_engine.index_dir)
    store = reopened.store()
    assert reopened.stats()["documents"] == 5 and store.check() == []
    ids = store.chunk_ids_of(d.doc_id for d in store.documents())
    assert len(ids) == 72 and len(store.search_keyword(["sadr"], 100)[0]) > 0
    stored = store.chunks(ids)
    for item in stored.values():
        document = store.document(item.chunk.doc_id)
        assert document.text[item.chunk.start:item.chunk.end] == item.chunk.text
    # the same vectors come back: each chunk is its own nearest neighbour
    some = ids[:5]
    for chunk_id, vector in zip(some, store.vectors(some)):
        assert store.search_dense(vector, 1)[0] == [chunk_id]


def test_reingesting_unchanged_files_embeds_nothing(tmp_path, sample_copy):
    embedder = FakeEmbedder(64)
    engine = engine_at(tmp_path / "index", embedder=embedder)
    engine.ingest([sample_copy])
    calls = embedder.calls
    report = engine.ingest([sample_copy])
    assert embedder.calls == calls
    assert (report.chunks_embedded, report.documents_added, len(report.files_skipped)) == (0, 0, 1)
    assert engine.stats()["generation"] == 1  # nothing was rewritten


def test_changed_file_replaces_its_chunks_and_reuses_unchanged_vectors(tmp_path, sample_copy):
    embedder = FakeEmbedder(64)
    engine = engine_at(tmp_path / "index", embedder=embedder)
    engine.ingest([sample_copy])
    archive = sample_copy / SAMPLE.name
    archive.write_text(archive.read_text().replace("He cancelled his itikaf", "He called off his itikaf"))
    before = embedder.texts_embedded
    report = engine.ingest([sample_copy])
    assert report.files_updated == (str(archive.resolve()),)
    assert (report.documents_removed, report.documents_added) == (5, 5)
    assert embedder.texts_embedded - before == report.chunks_embedded == 1
    answer = engine.ask("called off his itikaf", mode="keyword")
    assert "He called off his itikaf" in answer.passages[0].text
    assert all("He cancelled his itikaf" not in p.text for p in answer.passages)
    assert engine.stats()["chunks"] == 72


def test_file_deleted_from_an_ingested_folder_is_removed(fake_engine, sample_copy):
    extra = sample_copy / "extra.txt"
    extra.write_text("Dates harvest\n\nBasra palm groves had a record dates harvest.")
    fake_engine.ingest([sample_copy])
    assert fake_engine.stats()["documents"] == 6
    extra.unlink()
    report = fake_engine.ingest([sample_copy])
    assert report.files_removed == (str(extra.resolve()),)
    assert fake_engine.stats()["documents"] == 5
    assert all(d.doc_id != "extra" for d in fake_engine.documents())


def test_a_bad_update_keeps_what_was_indexed(fake_engine, tmp_path):
    article = tmp_path / "note.txt"
    article.write_text("Dates harvest\n\nBasra palm groves had a record dates harvest.")
    fake_engine.ingest([article])
    article.write_bytes(b"\x89PNG broken \x00 bytes")
    report = fake_engine.ingest([article])
    assert report.failures[0].path == str(article.resolve()) and "binary" in report.failures[0].error
    assert [d.doc_id for d in fake_engine.documents()] == ["note"]


def test_crash_while_embedding_leaves_the_previous_index_intact(tmp_path, sample_copy):
    class Exploding(FakeEmbedder):
        def embed(self, texts):
            raise KeyboardInterrupt("power cut")

    index = tmp_path / "index"
    engine_at(index).ingest([sample_copy])
    (sample_copy / "new.txt").write_text("Title\n\nSomething new about Kirkuk oil.")
    with pytest.raises(KeyboardInterrupt):
        engine_at(index, embedder=Exploding(64)).ingest([sample_copy])
    assert sorted(p.name for p in index.iterdir()) == [".lock", "d000001", "index.json"]
    assert engine_at(index).stats()["documents"] == 5
    report = engine_at(index).ingest([sample_copy])
    assert report.files_added == (str((sample_copy / "new.txt").resolve()),)


def test_manifest_mismatch_says_what_to_run(fake_engine, sample_copy):
    fake_engine.ingest([sample_copy])
    other = FAKE_SETTINGS.with_updates(chunking={"max_words": 50})
    with pytest.raises(IndexMismatchError, match=r"chunking: index has .*max_words\": 110.*rag ingest --rebuild"):
        engine_at(fake_engine.index_dir, settings=other).ask("anything")
    with pytest.raises(IndexMismatchError, match="model: index has \"fake-hashed-bow-64\", config asks for \"fake-hashed-bow-32\""):
        engine_at(fake_engine.index_dir, embedder=FakeEmbedder(32)).ingest([sample_copy])


def test_rebuild_applies_new_settings_to_the_files_already_indexed(fake_engine, sample_copy):
    fake_engine.ingest([sample_copy])
    other = FAKE_SETTINGS.with_updates(chunking={"max_words": 50})
    report = engine_at(fake_engine.index_dir, settings=other).ingest([], rebuild=True)
    assert report.documents_added == 5 and report.chunks_added > 72
    assert engine_at(fake_engine.index_dir, settings=other).stats()["chunking"]["max_words"] == 50


def test_old_format_is_refused_with_advice_that_works(tmp_path, sample_copy):
    index = tmp_path / "index"
    (index / "g000003").mkdir(parents=True)  # what format 2 left: a manifest and generation folders
    (index / "manifest.json").write_text(json.dumps({
        "schema_version": 2, "generation": 3, "files": {str((sample_copy / SAMPLE.name).resolve()): {}}}))
    with pytest.raises(IndexMismatchError, match="older format.*rag ingest --rebuild --index"):
        engine_at(index).ask("anything")
    # the advice works: a rebuild with no paths finds the files in the old manifest
    report = engine_at(index).ingest([], rebuild=True)
    assert (report.documents_added, report.chunks_added) == (5, 72)
    assert sorted(p.name for p in index.iterdir()) == [".lock", "d000001", "index.json"]
    assert engine_at(index).stats()["chunks"] == 72


def test_an_ingest_into_an_old_format_index_rebuilds_it_with_the_files_it_listed(tmp_path, sample_copy):
    # What `make run` does after an upgrade: `rag ingest data/sample` into the default index.
    index = tmp_path / "index"
    (index / "g000003").mkdir(parents=True)
    listed = sample_copy / SAMPLE.name
    (index / "manifest.json").write_text(json.dumps({
        "schema_version": 2, "generation": 3, "files": {str(listed.resolve()): {}}}))
    added = tmp_path / "more" / "bridge.txt"
    added.parent.mkdir()
    added.write_text("Bridge closed\n\nThe mayor closed the old bridge because engineers found cracks in it.\n")
    report = engine_at(index).ingest([added.parent])
    assert sorted(Path(f).name for f in report.files_added) == sorted([SAMPLE.name, "bridge.txt"])
    assert any("older format: rebuilt from the 1 file(s) it listed" in w for w in report.warnings)
    assert sorted(p.name for p in index.iterdir()) == [".lock", "d000001", "index.json"]
    assert engine_at(index).stats()["documents"] == 6
    # The next ingest is an ordinary one.
    again = engine_at(index).ingest([added.parent])
    assert again.files_skipped and not again.warnings


def test_rebuild_with_nothing_to_rebuild_from_says_so(tmp_path):
    with pytest.raises(IndexProblem, match="nothing to rebuild .*rag ingest --rebuild PATH"):
        engine_at(tmp_path / "index").ingest([], rebuild=True)


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissingError, match="no index at .* yet: run `rag ingest PATH"):
        engine_at(tmp_path / "nothing").ask("question?")


def test_remove_a_document(fake_engine, sample_copy):
    fake_engine.ingest([sample_copy])
    assert fake_engine.remove(["iraq-archive-5", "nope"]) == ["iraq-archive-5"]
    assert [d.doc_id for d in fake_engine.documents()] == [f"iraq-archive-{n}" for n in range(1, 5)]
    assert all(p.citation.doc_id != "iraq-archive-5" for p in fake_engine.ask("Sadr itikaf", mode="keyword").passages)
    assert fake_engine.stats()["chunks"] == 72 - 27


def test_same_document_id_from_two_files_is_kept_apart(fake_engine, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "story.txt").write_text(f"Story {folder}\n\nText of story {folder}.")
    report = fake_engine.ingest([tmp_path / "a", tmp_path / "b"])
    ids = sorted(d.doc_id for d in fake_engine.documents())
    assert ids[0] == "story" and ids[1].startswith("story-") and len(report.warnings) == 1


def test_engine_sees_a_generation_written_by_another_engine(fake_engine, sample_copy, tmp_path):
    fake_engine.ingest([sample_copy])
    assert fake_engine.stats()["documents"] == 5
    other = engine_at(fake_engine.index_dir)
    (tmp_path / "n.txt").write_text("Kirkuk oil\n\nKirkuk oil exports resumed in March.")
    other.ingest([tmp_path / "n.txt"])
    assert "Kirkuk oil exports resumed" in fake_engine.ask("Kirkuk oil exports", mode="keyword").passages[0].text


def test_citations_point_at_the_exact_characters_and_lines_of_the_file(fake_engine, sample_copy, tmp_path):
    article = tmp_path / "note.md"
    article.write_text("---\ntitle: Dates\n---\n\nBasra palm groves had a record harvest.\n\nExports rose.\n")
    fake_engine.ingest([sample_copy, article])
    for question in ("Sadr cancelled his itikaf", "UNITAD digitization courts", "record harvest Basra"):
        for passage in fake_engine.ask(question, k=3).passages:
            position = passage.citation.file
            raw = Path(passage.citation.path).read_text(encoding="utf-8")
            assert raw[position.start:position.end] == passage.text
            lines = raw.split("\n")[position.line_start - 1:position.line_end]
            assert passage.text.startswith(lines[0].strip()) and passage.text.endswith(lines[-1].strip())
    harvest = fake_engine.ask("record harvest Basra", k=1).passages[0].citation
    assert (harvest.file.line_start, harvest.file.line_end) == (5, 7)  # both short paragraphs, packed
    assert harvest.location() == "note.md, lines 5–7 (characters 22–76)"
    assert isinstance(fake_engine.store(), LocalStore)


def test_extracted_text_has_no_file_position(fake_engine, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Mosul</title></head><body><p>Mosul rebuilds its old city.</p></body></html>")
    fake_engine.ingest([page])
    citation = fake_engine.ask("Mosul old city").passages[0].citation
    assert citation.file is None and citation.location() == "page.html, characters 0–28 of the article"


def test_a_reader_follows_a_rebuild_made_by_another_process(fake_engine, sample_copy, tmp_path):
    fake_engine.ingest([sample_copy])
    assert "He cancelled his itikaf" in fake_engine.ask("Sadr cancelled itikaf", mode="keyword").passages[0].text
    old_folder = fake_engine.store().folder
    (sample_copy / "n.txt").write_text("Kirkuk oil\n\nKirkuk oil exports resumed in March.")
    engine_at(fake_engine.index_dir).ingest([sample_copy], rebuild=True)  # a new data folder replaces the old
    assert not old_folder.exists()
    answer = fake_engine.ask("Kirkuk oil exports", mode="keyword")  # the same reader, still running
    assert "Kirkuk oil exports resumed" in answer.passages[0].text
    assert fake_engine.store().folder != old_folder and fake_engine.stats()["documents"] == 6
