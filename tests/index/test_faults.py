"""Faults of the local index: each a clear message naming the file and the repair, nothing lost.

Missing and corrupt files, a full disk (a real 3 MB tmpfs), kill -9 during an ingest, readers in
other processes while a writer commits, and a writer waiting for the lock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings.fake import FakeEmbedder
from rag.cli import main
from rag.engine import Engine
from rag.errors import IndexDamagedError, IndexProblem
from rag.index.layout import write_lock
from tests.conftest import FAKE_SETTINGS, ROOT, SAMPLE

FAKE_CONFIG = "embedding:\n  backend: fake\n  dimension: 64\n"


def engine_at(index: Path) -> Engine:
    return Engine(FAKE_SETTINGS, index, embedder=FakeEmbedder(64))


def data_folder(index: Path) -> Path:
    return index / json.loads((index / "index.json").read_text())["data"]


@pytest.fixture
def built(tmp_path: Path, sample_copy: Path) -> Path:
    index = tmp_path / "index"
    engine_at(index).ingest([sample_copy])
    return index


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(FAKE_CONFIG)
    return path


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_missing_store_is_never_recreated_empty(built, sample_copy, config):
    (data_folder(built) / "store.sqlite").unlink()
    for command in (["stats"], ["docs"], ["ask", "Sadr itikaf"], ["ingest", str(sample_copy)]):
        code, output = cli(*command, "--index", str(built), "--config", str(config))
        assert code == 1, command
        assert "store.sqlite is missing" in output and "rag ingest --rebuild PATH" in output, command
    assert not (data_folder(built) / "store.sqlite").exists()
    # the advice works
    code, output = cli("ingest", "--rebuild", str(sample_copy), "--index", str(built), "--config", str(config))
    assert code == 0, output
    assert engine_at(built).stats()["chunks"] == 72


def test_a_corrupt_store_is_reported_not_a_traceback(built, config):
    store = data_folder(built) / "store.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    code, output = cli("ask", "Sadr itikaf", "--index", str(built), "--config", str(config))
    assert code == 1 and "store.sqlite is damaged" in output and "Traceback" not in output


@pytest.mark.parametrize("damage", ["delete", "garble"])
def test_a_damaged_keyword_index_is_repaired_from_the_record(built, config, damage):
    [keyword] = list(data_folder(built).glob("keyword-*"))
    if damage == "delete":
        shutil.rmtree(keyword)
    else:
        for file in keyword.iterdir():
            if file.is_file() and file.name != ".tantivy-writer.lock":
                file.write_bytes(b"\x00garbage" * 10)
    code, output = cli("stats", "--index", str(built), "--config", str(config))
    assert code == 1 and "keyword" in output and "rag check --repair" in output
    embedder = FakeEmbedder(64)
    engine = Engine(FAKE_SETTINGS, built, embedder=embedder)
    assert any("rebuilt the keyword index (72 passages)" in line for line in engine.check(repair=True))
    assert embedder.texts_embedded == 0  # nothing embedded again
    assert engine.check() == []
    assert "He cancelled his itikaf" in engine.ask("Sadr cancelled itikaf", mode="keyword").passages[0].text


def test_a_corrupt_vector_file_is_reported_and_repaired(built, config):
    engine_at(built).check(repair=True)  # saves the vector index to a file
    [saved] = list(data_folder(built).glob("dense-g*.faiss"))
    saved.write_bytes(saved.read_bytes()[:100])
    code, output = cli("ask", "Sadr itikaf", "--index", str(built), "--config", str(config))
    assert code == 1 and saved.name in output and "rag check --repair" in output
    code, output = cli("check", "--repair", "--index", str(built), "--config", str(config))
    assert code == 0 and "rebuilt the vector index (72 passages)" in output
    code, output = cli("check", "--index", str(built), "--config", str(config))
    assert code == 0 and "healthy" in output


def test_counts_that_disagree_make_stats_unhealthy(built, config):
    import sqlite3

    db = sqlite3.connect(data_folder(built) / "store.sqlite")
    db.execute("DELETE FROM chunks WHERE chunk_id IN (SELECT chunk_id FROM chunks LIMIT 3)")  # behind the index's back
    db.commit()
    db.close()
    code, output = cli("stats", "--json", "--index", str(built), "--config", str(config))
    data = json.loads(output)
    assert code == 1 and data["healthy"] is False and data["problems"]


def test_a_waiting_writer_says_so(built, sample_copy):
    said: list[str] = []
    with write_lock(built):
        waiter = threading.Thread(target=lambda: [said.append(m) for m in ()] or _ingest_with_message(built, sample_copy, said))
        waiter.start()
        time.sleep(0.5)
        assert any("waiting for the index lock" in m for m in said)
    waiter.join(timeout=30)


def _ingest_with_message(index: Path, sample_copy: Path, said: list[str]) -> None:
    with write_lock(index, waiting=said.append):
        pass


def test_a_read_only_article_file_does_not_block_later_ingests(tmp_path, sample_copy):
    index = tmp_path / "index"
    archive = sample_copy / SAMPLE.name
    archive.chmod(0o444)
    engine_at(index).ingest([sample_copy])
    extra = sample_copy / "extra.txt"
    extra.write_text("Dates harvest\n\nBasra palm groves had a record dates harvest.")
    extra.chmod(0o444)
    report = engine_at(index).ingest([sample_copy])
    assert report.files_added == (str(extra.resolve()),) and engine_at(index).stats()["documents"] == 6


# a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 3 MB tmpfs (CI runs as root, so mounting works; anything else fails loudly)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as out:
        out.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_keeps_the_previous_state_and_recovers(small_disk, sample_copy, tmp_path):
    index = small_disk / "index"
    engine_at(index).ingest([sample_copy])
    before = engine_at(index).ask("Sadr cancelled itikaf").passages[0].text
    big = tmp_path / "more"
    big.mkdir()
    for n in range(40):
        (big / f"a{n}.txt").write_text(f"Story {n}\n\n" + " ".join(f"word{n}x{i} harvest Basra" for i in range(400)))
    filler = _fill(small_disk, leave=64 * 1024)
    with pytest.raises(IndexProblem, match="no space left") as failure:
        engine_at(index).ingest([big])
    assert str(failure.value).count("no space left") == 1
    reader = engine_at(index)
    assert reader.ask("Sadr cancelled itikaf").passages[0].text == before  # the previous state answers
    assert not [p for p in index.rglob("*") if p.name.endswith(".tmp")]
    filler.unlink()
    report = engine_at(index).ingest([big])
    assert not report.failures
    stats = engine_at(index).stats()
    assert stats["healthy"] and stats["documents"] == 45


# kill -9 and concurrent readers (real processes) -----------------------------------------------


def _rag(*args: str, config: Path) -> list[str]:
    return [sys.executable, "-m", "rag.cli", *args, "--config", str(config)]


def test_kill_9_during_ingest_leaves_an_index_that_answers_and_a_rerun_matches_a_fresh_build(tmp_path, config):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(SAMPLE, corpus / SAMPLE.name)
    rgb = ROOT / "data" / "eval" / "rgb" / "corpus.jsonl"
    shutil.copy2(rgb, corpus / rgb.name)
    fresh = tmp_path / "fresh"
    subprocess.run(_rag("ingest", str(corpus), "--index", str(fresh), config=config), check=True,
                   capture_output=True, cwd=ROOT)
    expected = json.loads(subprocess.run(_rag("stats", "--json", "--index", str(fresh), config=config),
                                         capture_output=True, text=True, cwd=ROOT).stdout)
    index = tmp_path / "index"
    subprocess.run(_rag("ingest", str(corpus / SAMPLE.name), "--index", str(index), config=config),
                   check=True, capture_output=True, cwd=ROOT)
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.0):
        writer = subprocess.Popen(_rag("ingest", str(corpus), "--index", str(index), config=config),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        asked = subprocess.run(_rag("ask", "Sadr cancelled itikaf", "--json", "--index", str(index), config=config),
                               capture_output=True, text=True, cwd=ROOT)
        assert asked.returncode == 0, asked.stderr
        assert json.loads(asked.stdout)["passages"]
    subprocess.run(_rag("ingest", str(corpus), "--index", str(index), config=config), check=True,
                   capture_output=True, cwd=ROOT)
    after = json.loads(subprocess.run(_rag("stats", "--json", "--index", str(index), config=config),
                                      capture_output=True, text=True, cwd=ROOT).stdout)
    assert (after["documents"], after["chunks"], after["files"]) == \
        (expected["documents"], expected["chunks"], expected["files"])
    assert after["healthy"], after["problems"]


READER = """
import os, sys, traceback
from pathlib import Path
from embeddings.fake import FakeEmbedder
from rag.engine import Engine
from tests.conftest import FAKE_SETTINGS
index, done, reuse = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "reuse"
asks = failures = 0
engine = None
while asks < 5 or not done.exists():
    asks += 1
    try:
        if engine is None or not reuse:
            engine = Engine(FAKE_SETTINGS, index, embedder=FakeEmbedder(64))
        assert engine.ask("Sadr cancelled itikaf", mode="hybrid").passages
    except Exception as exc:
        failures += 1
        traceback.print_exc()
    (done.parent / f"reader-{os.getpid()}").touch()
print(asks, failures)
"""


def test_readers_in_other_processes_never_fail_while_a_writer_commits(built, tmp_path):
    """Readers in other processes (a new Engine per question, or one kept open) keep asking while
    the writer makes a fixed number of commits."""
    articles = tmp_path / "changing"
    articles.mkdir()
    done = tmp_path / "writer-done"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(built), str(done), how], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for how in ("fresh", "fresh", "reuse", "reuse")]
    try:
        engine = engine_at(built)
        while len(list(tmp_path.glob("reader-*"))) < len(readers) and all(r.poll() is None for r in readers):
            time.sleep(0.05)  # every reader has answered once: the commits below overlap their asks
        for n in range(20):
            for old in articles.iterdir():
                old.unlink()
            (articles / f"n{n}.txt").write_text(f"Note {n}\n\nKirkuk oil exports number {n} resumed.")
            engine.ingest([articles])
            if n % 5 == 0:
                engine.check(repair=True)  # re-saves the vector file too: readers must not trip on it
    finally:
        done.touch()
        results = [r.communicate(timeout=300) for r in readers]
    for out, err in results:
        asks, failures = map(int, out.split())
        assert asks >= 5 and failures == 0, err
