"""`rag bench`: ingest, re-ingest and question latency, and memory, measured in one run.

Numbers only, never pass/fail: shared machines are noisy, so compare ratios from one run.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rag.config import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CORPUS = ROOT / "data" / "sample"
DEFAULT_QUESTIONS = ROOT / "data" / "eval" / "seed-dev.jsonl"


def run_bench(settings: Settings, corpus: Path | None = None, questions: Path | None = None) -> dict:
    """Time a cold ingest, an unchanged re-ingest, a one-file change and every question."""
    from embeddings import make_embedder
    from rag.engine import Engine

    corpus = Path(corpus or DEFAULT_CORPUS)
    question_texts = _questions(Path(questions or DEFAULT_QUESTIONS))
    results: dict = {"corpus": str(corpus), "questions": len(question_texts)}
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        work = Path(tmp) / "corpus"
        if corpus.is_dir():
            shutil.copytree(corpus, work)
        else:
            work.mkdir()
            shutil.copy2(corpus, work / corpus.name)
        index = Path(tmp) / "index"

        embedder = make_embedder(settings.embedding)
        started = time.perf_counter()
        embedder.embed(["warm up"])
        results["model_load_s"] = _seconds(started)

        engine = Engine(settings, index, embedder=embedder)
        started = time.perf_counter()
        first = engine.ingest([work])
        results["ingest_s"] = _seconds(started)
        results["documents"] = engine.stats()["documents"]
        results["chunks"] = first.chunks_added
        results["chunks_per_s"] = round(first.chunks_embedded / max(results["ingest_s"], 1e-9), 1)

        started = time.perf_counter()
        again = engine.ingest([work])
        results["reingest_unchanged_ms"] = _milliseconds(started)
        results["reingest_unchanged_embedded"] = again.chunks_embedded

        # Edit one word of one article: only the chunk holding it should be embedded again.
        changed = sorted(p for p in work.rglob("*") if p.is_file())[0]
        text = changed.read_text(encoding="utf-8")
        middle = text.index(" the ", len(text) // 2)  # inside an article, past any heading
        changed.write_text(text[:middle] + " THE " + text[middle + 5:], encoding="utf-8")
        started = time.perf_counter()
        update = engine.ingest([work])
        results["reingest_one_word_changed_ms"] = _milliseconds(started)
        results["reingest_one_word_changed_embedded"] = update.chunks_embedded

        for mode in ("keyword", "dense", "hybrid"):
            engine.ask(question_texts[0], mode=mode)  # first query loads the index
            timings = []
            for question in question_texts:
                started = time.perf_counter()
                engine.ask(question, mode=mode)
                timings.append((time.perf_counter() - started) * 1000)
            results[f"ask_{mode}_ms_median"] = round(statistics.median(timings), 1)
            results[f"ask_{mode}_ms_p95"] = round(_percentile(timings, 95), 1)

        results["index_bytes"] = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["unchanged_reingest_speedup"] = round(results["ingest_s"] * 1000 / max(results["reingest_unchanged_ms"], 0.1))
    return results


def format_bench(results: dict) -> str:
    return "\n".join(f"{key:>36}: {value}" for key, value in results.items())


def _questions(path: Path) -> list[str]:
    if path.suffix == ".jsonl":
        return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _seconds(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _milliseconds(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]
