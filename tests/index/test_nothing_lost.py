"""Nothing lost: the faults an adversarial test found in the local index, each reproduced.

A lost index.json, an article removed and ingested again, a crash in the middle of a long JSON
Lines file (kill -9 at 20 moments), a garbled keyword file (a Rust panic), a garbled record, a
lost write-ahead log, a keyword index left behind by a crash, a killed writer's temporary files,
and control characters in names reaching the terminal.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings.fake import FakeEmbedder
from rag.cli import main
from rag.engine import Engine
from rag.errors import IndexDamagedError
from tests.conftest import FAKE_SETTINGS, ROOT

FAKE_CONFIG = "embedding:\n  backend: fake\n  dimension: 64\n"


def engine_at(index: Path) -> Engine:
    return Engine(FAKE_SETTINGS, index, embedder=FakeEmbedder(64))


def data_folder(index: Path) -> Path:
    return index / json.loads((index / "index.json").read_text())["data"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(FAKE_CONFIG)
    return path


@pytest.fixture
def built(tmp_path: Path, sample_copy: Path) -> Path:
    index = tmp_path / "index"
    engine_at(index).ingest([sample_copy])
    return index


def rag(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# a lost pointer ----------------------------------------------------------------------------------


def test_a_lost_index_json_is_damage_every_command_reports_and_repair_restores(built, sample_copy, config, tmp_path):
    folder = data_folder(built)
    (built / "index.json").unlink()
    where = ("--index", str(built), "--config", str(config))
    code, output = rag("stats", "--json", *where)
    stats = json.loads(output)
    assert code == 1 and stats["healthy"] is False and stats["exists"] is True
    assert "index.json is missing" in stats["problems"][0] and "rag check --repair" in stats["problems"][0]
    other = tmp_path / "other.txt"
    other.write_text("Dates\n\nBasra palm groves had a record dates harvest.")
    for command in (["ingest", str(other)], ["ingest", "--rebuild", str(other)], ["ask", "Sadr itikaf"],
                    ["docs"], ["remove", "iraq-archive-1"], ["check"]):
        code, output = rag(*command, *where)
        assert code == 1 and "index.json is missing" in output and "rag check --repair" in output, command
    assert [p.name for p in built.iterdir() if p.name.startswith("d")] == [folder.name]  # nothing deleted
    code, output = rag("check", "--repair", *where)
    assert code == 0 and f"pointed it at {folder.name}" in output and "healthy" in output
    stats = engine_at(built).stats()
    assert (stats["documents"], stats["chunks"], stats["healthy"]) == (5, 72, True)


def test_an_interrupted_first_build_is_a_leftover_not_an_index(tmp_path, sample_copy):
    index = tmp_path / "index"
    index.mkdir()
    (index / "d000001").mkdir()
    (index / "d000001" / "BUILDING").write_text("")
    engine_at(index).ingest([sample_copy])
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("d")) == ["d000002"]
    assert engine_at(index).stats()["documents"] == 5


def test_a_rebuild_removes_only_what_the_index_outgrew(built, sample_copy):
    first = data_folder(built)
    stray = built / "d000009"  # complete, newer than the pointer's: not known to be a leftover
    stray.mkdir()
    engine_at(built).ingest([sample_copy], rebuild=True)
    names = sorted(p.name for p in built.iterdir() if p.name.startswith("d"))
    assert first.name not in names and "d000009" in names and len(names) == 2


# a removed article comes back ------------------------------------------------------------------


def test_an_article_removed_comes_back_when_its_file_is_ingested_again(built, sample_copy, config):
    where = ("--index", str(built), "--config", str(config))
    code, output = rag("remove", "iraq-archive-2", *where)
    assert code == 0
    assert engine_at(built).document_info("iraq-archive-2") is None
    code, output = rag("ingest", str(sample_copy), *where)
    assert code == 0 and "1 updated" in output
    assert engine_at(built).document_info("iraq-archive-2") is not None
    assert engine_at(built).stats()["documents"] == 5


def test_a_file_whose_articles_are_all_removed_is_forgotten_and_comes_back(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "lighthouse.md").write_text("# The lighthouse\n\nThe keeper lit the lamp at dusk every day.")
    (folder / "harvest.md").write_text("# Harvest\n\nBasra palm groves had a record dates harvest.")
    index = tmp_path / "index"
    engine_at(index).ingest([folder])
    assert engine_at(index).stats()["files"] == 2
    assert engine_at(index).remove(["lighthouse"]) == ["lighthouse"]
    assert engine_at(index).stats()["files"] == 1  # the file's record went with its last article
    report = engine_at(index).ingest([folder])
    assert report.files_added == (str((folder / "lighthouse.md").resolve()),) and not report.files_updated
    assert engine_at(index).document("lighthouse") is not None


# a crash in the middle of a long JSON Lines file -----------------------------------------------


def _big_jsonl(path: Path, count: int = 4500) -> Path:
    rng = random.Random(7)
    words = "oil water Basra Kirkuk dam river council minister report harvest school market price".split()
    with path.open("w") as out:
        for i in range(count):
            text = " ".join(rng.choice(words) for _ in range(60)) + f". Story number {i}."
            out.write(json.dumps({"id": f"big{i:05d}", "title": f"Story {i}", "text": text}) + "\n")
    return path


WRITER = """
import sys
from pathlib import Path
from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from tests.conftest import FAKE_SETTINGS
engine = Engine(FAKE_SETTINGS, Path(sys.argv[1]), embedder=FakeEmbedder(64))
print("ready", flush=True)
engine.ingest([Path(sys.argv[2])])
print("done", flush=True)
"""


def test_kill_9_at_20_moments_of_a_long_jsonl_ingest_never_duplicates(tmp_path):
    big = _big_jsonl(tmp_path / "big.jsonl")
    fresh = tmp_path / "fresh"
    started = time.perf_counter()
    engine_at(fresh).ingest([big])
    took = time.perf_counter() - started
    expected = engine_at(fresh).stats()
    assert expected["documents"] == 4500
    for moment in range(20):
        index = tmp_path / f"index-{moment}"
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(index), str(big)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(took * (moment + 0.5) / 20)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        report = engine_at(index).ingest([big])
        assert not any("already used" in w for w in report.warnings), moment
        stats = engine_at(index).stats()
        assert (stats["documents"], stats["chunks"], stats["files"], stats["healthy"]) == \
            (expected["documents"], expected["chunks"], expected["files"], True), (moment, stats["problems"])


def test_an_error_after_a_partial_batch_leaves_the_file_to_be_read_again(tmp_path, monkeypatch):
    big = _big_jsonl(tmp_path / "big.jsonl")
    index = tmp_path / "index"
    from rag.index.local import LocalStore

    real_apply, calls = LocalStore.apply, []

    def failing_apply(self, change, build, dimension):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_apply(self, change, build, dimension)

    monkeypatch.setattr(LocalStore, "apply", failing_apply)
    with pytest.raises(OSError):
        engine_at(index).ingest([big])
    monkeypatch.setattr(LocalStore, "apply", real_apply)
    assert engine_at(index).stats()["documents"] == 2000  # the first part was written
    report = engine_at(index).ingest([big])
    assert report.files_updated == (str(big.resolve()),) and not report.warnings
    assert engine_at(index).stats()["documents"] == 4500


# damage the checks must see --------------------------------------------------------------------


def _garble(path: Path, at: int, size: int = 4096) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(3)
    for i in range(at, min(len(data), at + size)):
        data[i] = rng.randrange(256)
    path.write_bytes(bytes(data))


def test_a_garbled_keyword_file_is_one_line_everywhere_and_check_finds_it(built, config):
    [keyword] = list(data_folder(built).glob("keyword-*"))
    [term] = list(keyword.glob("*.term"))
    _garble(term, term.stat().st_size // 2)  # the term dictionary: a Rust panic on lookup
    where = ("--index", str(built), "--config", str(config))
    code, output = rag("check", *where)
    assert code == 1 and term.name in output and "rag check --repair" in output
    for mode in ("keyword", "hybrid"):
        result = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "Sadr cancelled itikaf", "--mode", mode,
                                 "--json", *where], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr
        assert "rag check --repair" in json.loads(result.stdout)["error"]
    code, output = rag("check", "--repair", *where)
    assert code == 0 and "healthy" in output
    assert engine_at(built).ask("Sadr cancelled itikaf", mode="keyword").passages


def test_a_garbled_record_is_found_by_check_and_reported_by_every_reader(built, config, tmp_path):
    engine_at(built).check(repair=True)  # everything checkpointed into store.sqlite
    pages = (data_folder(built) / "store.sqlite").stat().st_size // 4096
    errors = 0
    for page in range(1, pages):  # page 0 holds the schema: "not a database" is tested elsewhere
        copy = tmp_path / f"copy-{page}"
        shutil.copytree(built, copy)
        _garble(data_folder(copy) / "store.sqlite", page * 4096)
        where = ("--index", str(copy), "--config", str(config))
        code, output = rag("check", *where)
        assert code == 1 and "store.sqlite is damaged" in output, page
        for command in (["docs", "--json"], ["ask", "Sadr cancelled itikaf", "--json"], ["stats", "--json"]):
            result = CliRunner().invoke(main, [*command, *where])
            assert result.exception is None or isinstance(result.exception, SystemExit), (page, command)
            answer = json.loads(result.output)
            if "error" in answer:
                errors += 1
                assert "store.sqlite is damaged" in answer["error"] and "rag ingest --rebuild" in answer["error"]
    assert errors  # some garbled page was read by a command, and said so


UNCHECKPOINTED_WRITER = """
import os, sys
from pathlib import Path
from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from rag.index.records import Records
from tests.conftest import FAKE_SETTINGS
Records.checkpoint = lambda self: None  # as if killed before copying the log into store.sqlite
Engine(FAKE_SETTINGS, Path(sys.argv[1]), embedder=FakeEmbedder(64)).ingest([Path(sys.argv[2])])
"""
# A running server: its connection keeps the log from being folded in when the writer closes.
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("SELECT COUNT(*) FROM documents").fetchall()
print("open", flush=True)
time.sleep(600)
"""


def test_a_lost_write_ahead_log_is_reported_not_called_healthy(built, tmp_path, config):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "dates.txt").write_text("Dates\n\nBasra palm groves had a record dates harvest.")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_folder(built) / "store.sqlite")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        subprocess.run([sys.executable, "-c", UNCHECKPOINTED_WRITER, str(built), str(extra)], cwd=ROOT, check=True)
        wal = data_folder(built) / "store.sqlite-wal"
        assert wal.stat().st_size > 0
        wal.unlink()
    finally:
        holder.kill()
        holder.wait()
    where = ("--index", str(built), "--config", str(config))
    code, output = rag("check", *where)
    assert code == 1 and "lost its last 1 write(s)" in output and "rag check --repair" in output
    code, output = rag("ingest", str(extra), *where)  # never written over: the evidence stays
    assert code == 1 and "lost its last" in output
    code, output = rag("check", "--repair", *where)
    assert code == 0 and "lost its last 1 write(s)" in output and "rag ingest" in output
    code, output = rag("ingest", str(extra), *where)
    assert code == 0 and "1 added" in output


def test_the_write_ahead_log_is_emptied_into_the_record_after_an_ingest(built, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "dates.txt").write_text("Dates\n\nBasra palm groves had a record dates harvest.")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_folder(built) / "store.sqlite")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        engine_at(built).ingest([extra])
        (data_folder(built) / "store.sqlite-wal").unlink()  # what the log held is in store.sqlite already
    finally:
        holder.kill()
        holder.wait()
    stats = engine_at(built).stats()
    assert stats["documents"] == 6 and stats["healthy"], stats["problems"]


# a keyword index left behind by a crash ----------------------------------------------------------


def _crash_before_the_keyword_commit(index: Path, folder: Path, monkeypatch) -> None:
    from rag.index.keyword import KeywordIndex

    def crash(self, generation, removed, added):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(KeywordIndex, "update", crash)
        with pytest.raises(Exception, match="keyword index could not be updated"):
            engine_at(index).ingest([folder])


def _keyword_generation(index: Path) -> int:
    from rag.index.keyword import KeywordIndex

    return KeywordIndex.open(data_folder(index)).generation


def _record_generation(index: Path) -> int:
    db = sqlite3.connect(data_folder(index) / "store.sqlite")
    try:
        return int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    finally:
        db.close()


def test_any_next_ingest_catches_the_keyword_index_up(built, tmp_path, sample_copy, monkeypatch):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "dates.txt").write_text("Dates\n\nBasra palm groves had a record dates harvest.")
    _crash_before_the_keyword_commit(built, extra, monkeypatch)
    assert _keyword_generation(built) < _record_generation(built)  # (a reader would catch up too)
    report = engine_at(built).ingest([sample_copy])  # changes nothing
    assert report.files_skipped and not report.files_added
    assert engine_at(built).stats()["healthy"] is True
    assert "record dates harvest" in engine_at(built).ask("record dates harvest", mode="keyword").passages[0].text


def test_a_reader_catches_the_keyword_index_up_when_no_writer_is_at_work(built, tmp_path, monkeypatch):
    reader = engine_at(built)
    reader.ask("Sadr cancelled itikaf")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "dates.txt").write_text("Dates\n\nBasra palm groves had a record dates harvest.")
    _crash_before_the_keyword_commit(built, extra, monkeypatch)
    assert _keyword_generation(built) < _record_generation(built)
    assert "record dates harvest" in reader.ask("record dates harvest", mode="keyword").passages[0].text
    assert engine_at(built).stats()["healthy"] is True


def test_a_killed_writers_temporary_files_are_removed_by_the_next_ingest(built, sample_copy):
    folder = data_folder(built)
    leftover = folder / ".dense-g000009-flat.faiss.12345.tmp"
    leftover.write_bytes(b"half a file")
    engine_at(built).ingest([sample_copy])
    assert not leftover.exists()


# what reaches the terminal ---------------------------------------------------------------------


def test_control_characters_in_names_and_titles_are_escaped_on_the_terminal(tmp_path, config):
    folder = tmp_path / "articles"
    folder.mkdir()
    name = "evil\x1b]0;owned\x07\rfiles: 1 added.md"
    (folder / name).write_text("# Title \x1b[31mred\x1b[0m \u202egnp.exe\n\nBasra palm groves had a record dates harvest.")
    where = ("--index", str(tmp_path / "index"), "--config", str(config))
    code, output = rag("ingest", str(folder), *where)
    assert code == 0 and "\x1b" not in output and "\r" not in output
    code, output = rag("docs", *where)
    assert "\\x1b[31mred" in output and "\\u202e" in output and "\x1b" not in output
    code, output = rag("ask", "record dates harvest", *where)
    assert "\x1b" not in output and "\u202e" not in output


def test_a_line_break_in_a_name_or_title_cannot_forge_a_line(tmp_path, config):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "photo\nfiles: 9 added.png").write_bytes(b"not an article")
    (folder / "feed.jsonl").write_text('{"id": "a1", "title": "Dates\\nfiles: 7 added", "text": "Basra palm groves had '
                                       'a record dates harvest this year."}\n')
    where = ("--index", str(tmp_path / "index"), "--config", str(config))
    code, output = rag("ingest", str(folder), *where)
    assert code == 0 and "photo\\nfiles: 9 added.png" in output
    assert not any(line.startswith("files: 9") for line in output.splitlines())
    for command in (("docs",), ("ask", "record dates harvest")):
        code, output = rag(*command, *where)
        assert "Dates\\nfiles: 7 added" in output, output
        assert not any(line.startswith("files: 7") for line in output.splitlines())


def test_damage_is_never_taken_for_an_empty_index(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "d000003").mkdir()  # complete (no BUILDING mark), no pointer
    (index / "d000003" / "store.sqlite").write_bytes(b"")
    with pytest.raises(IndexDamagedError, match="index.json is missing"):
        engine_at(index).ingest([tmp_path])


def test_check_full_finds_vectors_that_no_longer_match_the_record(built, config):
    """A vector file whole in form but holding the wrong vectors passes the cheap check; `--full`
    compares every stored vector and finds it, and `--repair` rebuilds it."""
    import faiss
    import numpy as np

    path = next(data_folder(built).glob("dense-*.faiss"))
    index = faiss.read_index(str(path))
    ids = faiss.vector_to_array(index.id_map).astype("int64")
    vectors = index.index.reconstruct_n(0, index.ntotal)
    swapped = faiss.IndexIDMap2(faiss.IndexFlatIP(index.d))
    swapped.add_with_ids(np.roll(vectors, 1, axis=0), ids)  # each id now holds its neighbour's vector
    faiss.write_index(swapped, str(path))
    where = ("--index", str(built), "--config", str(config))
    assert rag("check", *where)[0] == 0
    code, output = rag("check", "--full", "--json", *where)
    problems = json.loads(output)["problems"]
    assert code == 1 and len(problems) == 1 and "as their own nearest neighbour" in problems[0], output
    assert rag("check", "--repair", *where)[0] == 0
    assert rag("check", "--full", *where)[0] == 0


def test_a_folder_holding_a_name_that_is_not_utf8_is_ingested_but_that_file(tmp_path, config):
    import os

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("Cafe owners in Basra reopened after the floods.")
    (folder / "dates.txt").write_text("Dates\n\nBasra palm groves had a record dates harvest this year.")
    where = ("--index", str(tmp_path / "index"), "--config", str(config))
    code, output = rag("ingest", str(folder), *where)
    assert code == 0 and "files: 1 added" in output and "1 skipped" in output, output
    assert "caf\\xe9.txt" in output and "not valid UTF-8" in output
    code, output = rag("ask", "record dates harvest", "--json", *where)
    assert json.loads(output)["passages"][0]["citation"]["title"] == "Dates"
