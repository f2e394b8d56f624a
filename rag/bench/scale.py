"""`rag bench --scale N`: a synthetic index of N passages, and what a write and a question cost.

The passages are real news sentences (the bundled sample and RGB corpora) recombined at
random into ~90-word paragraphs, four to an article, so the keyword index sees a real
vocabulary. Bulk vectors are cheap but shaped like real ones: each distinct sentence is
embedded once with the real model, and a passage's vector is the normalised sum of its
sentences' vectors plus a little noise (so passages cluster as real ones do). The question path
is the real one: the configured model embeds the question, then search, fusion, rerank and the
extractive answer.

The bulk ingest runs in a child process (its peak RSS is `ingest_peak_rss_mb`); everything else
is measured in this process, warm, except `cold_ask_s` (a fresh `rag ask`) and `query_rss_mb`
(a fresh process asking questions).
"""

from __future__ import annotations

import json
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.bench import _cold_ask
from rag.config import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = (ROOT / "data" / "sample" / "iraq-archive.txt", ROOT / "data" / "eval" / "rgb" / "corpus.jsonl")
QUESTIONS = (ROOT / "data" / "eval" / "seed-dev.jsonl", ROOT / "data" / "eval" / "rgb" / "questions-dev.jsonl")
PASSAGES_PER_ARTICLE = 4
SOURCE_COUNT = 20  # articles spread over 20 sources and 60 months (2020-2024), for filtered questions
# Filtered questions: one source (5% of the passages: the selector inside the search) and one
# source in one month (0.08%: a few hundred passages, searched exactly).
FILTERS = {"query_one_source": {"sources": ("source-03",)},
           "query_source_and_month": {"sources": ("source-03",), "since": "2023-05", "until": "2023-05"}}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentence_pool() -> list[str]:
    """Distinct sentences of the bundled corpora (at least 5 words each)."""
    texts = [SOURCES[0].read_text(encoding="utf-8")]
    texts += [json.loads(line)["text"] for line in SOURCES[1].read_text(encoding="utf-8").splitlines() if line.strip()]
    pool = {s.strip() for t in texts for s in _SENTENCE_END.split(t.replace("\n", " ")) if len(s.split()) >= 5}
    return sorted(pool)


def write_corpus(path: Path, passages: int, pool: list[str], seed: int = 0) -> int:
    """A JSON Lines file of articles holding `passages` paragraphs in all; returns articles."""
    rng = random.Random(seed)
    articles = (passages + PASSAGES_PER_ARTICLE - 1) // PASSAGES_PER_ARTICLE
    with path.open("w", encoding="utf-8") as out:
        for n in range(articles):
            paragraphs = []
            for _ in range(min(PASSAGES_PER_ARTICLE, passages - n * PASSAGES_PER_ARTICLE)):
                words, sentences = 0, []
                while words < 80:
                    sentence = rng.choice(pool)
                    sentences.append(sentence)
                    words += len(sentence.split())
                paragraphs.append(" ".join(sentences))
            month = n // SOURCE_COUNT % 60
            out.write(json.dumps({"id": f"bulk{n:07d}", "title": f"Bulk article {n}",
                                  "source": f"source-{n % SOURCE_COUNT:02d}",
                                  "date": f"{2020 + month // 12}-{month % 12 + 1:02d}-{n % 28 + 1:02d}",
                                  "text": "\n\n".join(paragraphs)}) + "\n")
    return articles


class PooledEmbedder:
    """Cheap vectors for bulk passages: the sum of real vectors of the pool sentences a text
    holds, plus noise, normalised. Reports the real model's name and dimension."""

    def __init__(self, name: str, sentences: list[str], vectors: np.ndarray) -> None:
        self.name = name
        self.dimension = int(vectors.shape[1])
        self.max_tokens = 256
        self._row = {s: i for i, s in enumerate(sentences)}
        self._vectors = vectors
        self._rng = np.random.default_rng(0)

    def count_tokens(self, text: str) -> int:
        return int(len(text.split()) * 1.3)

    def embed_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """As a real model pools sentence vectors from the passage's pass: here, each span's own."""
        return self.embed(texts), [self.embed([t[a:b] for a, b in s]) for t, s in zip(texts, spans)]

    def embed(self, texts: list[str]) -> np.ndarray:
        out = self._rng.normal(0.0, 0.05, (len(texts), self.dimension)).astype(np.float32)
        for row, text in enumerate(texts):
            for sentence in _SENTENCE_END.split(text.replace("\n", " ")):
                index = self._row.get(sentence.strip())
                if index is not None:
                    out[row] += self._vectors[index]
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def run_scale_bench(settings: Settings, passages: int, workdir: Path | None = None) -> dict:
    """Build (or reuse, in `workdir`) an index of `passages` passages and measure it."""
    from embeddings import make_embedder
    from rag.engine import Engine

    own = workdir is None
    work = Path(workdir or tempfile.mkdtemp(prefix="rag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    index = work / f"index-{passages}"
    results: dict = {"passages": passages, "index": str(index)}
    embedder = make_embedder(settings.embedding)
    embedder.embed(["warm up"])
    try:
        if not (index / "index.json").is_file():
            results.update(_bulk_ingest(settings, embedder, work, index, passages))
        engine = Engine(settings, index, embedder=embedder)
        results["passages"] = engine.stats()["chunks"]
        questions = _questions()
        results.update(_time_questions(engine, questions))
        results.update(_ann_recall(engine, questions))
        results.update(_time_one_article(engine, work))
        for key, measure in (("query_rss_mb", lambda: _child_query_rss(settings, index, questions[:10])),
                             ("cold_ask_s", lambda: _cold_ask(settings, index, work))):
            try:
                results[key] = measure()
            except subprocess.CalledProcessError as exc:  # a number missing, the others kept
                results[key] = f"failed: {(exc.stderr or b'')[-300:]!r}"
        results["index_bytes"] = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return results


def _bulk_ingest(settings: Settings, embedder, work: Path, index: Path, passages: int) -> dict:
    pool = sentence_pool()
    vectors = embedder.embed(pool)
    np.save(work / "pool-vectors.npy", vectors)
    (work / "pool.json").write_text(json.dumps({"name": embedder.name, "sentences": pool}))
    corpus = work / f"corpus-{passages}"
    corpus.mkdir(exist_ok=True)
    started = time.perf_counter()
    articles = write_corpus(corpus / "bulk.jsonl", passages, pool)
    made = time.perf_counter() - started
    child = subprocess.run(
        [sys.executable, "-m", "rag.bench.scale", "ingest", str(work), str(corpus), str(index),
         settings.model_dump_json()], capture_output=True, text=True, cwd=ROOT)
    if child.returncode != 0:
        raise RuntimeError(f"bulk ingest failed: {child.stderr[-2000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    return {"articles": articles, "corpus_write_s": round(made, 1), **report}


def _child_ingest(work: Path, corpus: Path, index: Path, settings_json: str) -> None:
    """In a child process: ingest the corpus with pooled vectors; print wall, CPU and peak RSS."""
    from rag.engine import Engine

    settings = Settings.model_validate_json(settings_json)
    pool = json.loads((work / "pool.json").read_text())
    embedder = PooledEmbedder(pool["name"], pool["sentences"], np.load(work / "pool-vectors.npy"))
    started, cpu = time.perf_counter(), time.process_time()
    report = Engine(settings, index, embedder=embedder).ingest([corpus])
    print(json.dumps({
        "ingest_s": round(time.perf_counter() - started, 1), "ingest_cpu_s": round(time.process_time() - cpu, 1),
        "ingest_chunks": report.chunks_added,
        "ingest_peak_rss_mb": peak_rss_mb(),
    }))


def _questions() -> list[str]:
    return [json.loads(line)["question"] for path in QUESTIONS
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _time_questions(engine, questions: list[str]) -> dict:
    started = time.perf_counter()
    engine.ask(questions[0])  # loads the index: the vector index is read or built here
    load = time.perf_counter() - started
    wall, cpu = [], []
    for question in questions:
        w, c = time.perf_counter(), time.process_time()
        engine.ask(question)
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    results = {"index_load_s": round(load, 2), "query_p50_ms": round(statistics.median(wall), 1),
               "query_p95_ms": round(_percentile(wall, 95), 1), "query_cpu_p50_ms": round(statistics.median(cpu), 1),
               "questions_timed": len(questions)}
    from rag.types import Where

    for name, fields in FILTERS.items():
        where, walls, cpus, found = Where(**fields), [], [], []
        for question in questions:
            w, c = time.perf_counter(), time.process_time()
            answer = engine.ask(question, where=where)
            walls.append((time.perf_counter() - w) * 1000)
            cpus.append((time.process_time() - c) * 1000)
            found.append(len(answer.passages))
        results[f"{name}_p50_ms"] = round(statistics.median(walls), 1)
        results[f"{name}_cpu_p50_ms"] = round(statistics.median(cpus), 1)
        results[f"{name}_vs_unfiltered"] = round(statistics.median(walls) / results["query_p50_ms"], 2)
        results[f"{name}_passages_min"] = min(found)  # k (5) whenever the filter holds that many
    return results


def _ann_recall(engine, questions: list[str], k: int = 10) -> dict:
    """Recall@k of the vector index against exact search over the stored vectors: for the
    questions (real model vectors) and for 200 stored passages used as queries (synthetic)."""
    store = engine.store()
    dense = store._ready()[1]  # the bench may look inside: it measures the index itself
    if not dense.approximate:
        return {"ann": "exact (flat)", "ann_recall_at_10_questions": 1.0, "ann_recall_at_10_passages": 1.0}
    batches = list(store.records.iter_vectors(batch=50_000))
    all_ids = np.concatenate([ids for ids, _ in batches])
    everything = np.vstack([vectors for _, vectors in batches])
    rng = np.random.default_rng(1)
    passages = everything[rng.choice(len(everything), size=min(200, len(everything)), replace=False)]
    out = {"ann": f"IVF{dense.nlist},SQ8 nprobe {dense.nprobe}"}
    for name, queries in (("questions", engine.embedder.embed(questions)), ("passages", passages)):
        found = 0
        for query in queries:
            exact = set(all_ids[np.argpartition(-(everything @ query), k)[:k]].tolist())
            found += len(exact & set(dense.search(query, k)[0]))
        out[f"ann_recall_at_10_{name}"] = round(found / (k * len(queries)), 4)
    return out


def _time_one_article(engine, work: Path) -> dict:
    """Add one three-passage article, then remove it: wall, CPU and bytes written for each."""
    article = work / "one-article" / "harbour.txt"
    article.parent.mkdir(exist_ok=True)
    article.write_text(
        "Basra harbour reopens\n\n"
        "The port of Umm Qasr near Basra reopened its northern quay on Monday after dredging work "
        "that lasted eleven months, the port authority said in a statement.\n\n"
        "Officials said the quay can now take container ships of up to 60,000 tonnes, twice the size "
        "it handled before, and that customs clearance would move to a single window.\n\n"
        "Traders in Basra welcomed the reopening but warned that road links to Baghdad remain slow "
        "and that trucks often wait two days at checkpoints.\n", encoding="utf-8")
    out: dict = {}
    for name, action in (("add_one_article", lambda: engine.ingest([article])),
                         ("remove_one_article", lambda: engine.remove(["harbour"]))):
        written, w, c = _bytes_written(), time.perf_counter(), time.process_time()
        action()
        out[f"{name}_s"] = round(time.perf_counter() - w, 3)
        out[f"{name}_cpu_s"] = round(time.process_time() - c, 3)
        out[f"{name}_bytes_written"] = _bytes_written() - written
    engine.ask("When did the northern quay of Umm Qasr reopen?")  # the next question catches up
    return out


def _bytes_written() -> int:
    """Bytes this process has written (write calls, page cache included)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


_QUERY_CHILD = """
import json, sys
from rag.bench.scale import peak_rss_mb
from rag.config import Settings
from rag.engine import Engine
engine = Engine(Settings.model_validate_json(sys.argv[1]), sys.argv[2])
for q in json.loads(sys.argv[3]):
    engine.ask(q)
print(peak_rss_mb())
"""


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, it does not carry a
    parent's peak over into a child started with fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child_query_rss(settings: Settings, index: Path, questions: list[str]) -> float:
    child = subprocess.run([sys.executable, "-c", _QUERY_CHILD, settings.model_dump_json(), str(index),
                            json.dumps(questions)], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(child.stdout.strip().splitlines()[-1])


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


if __name__ == "__main__" and sys.argv[1:2] == ["ingest"]:
    _child_ingest(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5])
