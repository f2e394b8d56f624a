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
        started, cpu = time.perf_counter(), time.process_time()
        first = engine.ingest([work])
        results["ingest_s"] = _seconds(started)
        results["ingest_cpu_s"] = round(time.process_time() - cpu, 3)
        results["documents"] = engine.stats()["documents"]
        results["chunks"] = first.chunks_added
        results["chunks_per_s"] = round(first.chunks_embedded / max(results["ingest_s"], 1e-9), 1)
        results.update(_ingest_vs_encode(settings, embedder, work, first.chunks_embedded,
                                         results["ingest_s"], results["ingest_cpu_s"]))

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
        results["cold_ask_s"] = _cold_ask(settings, index, Path(tmp))
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["unchanged_reingest_speedup"] = round(results["ingest_s"] * 1000 / max(results["reingest_unchanged_ms"], 0.1))
    return results


def _ingest_vs_encode(settings: Settings, embedder, corpus: Path, embedded: int, wall: float, cpu: float) -> dict:
    """Ingest throughput (passages embedded per second, all of ingest counted) against the bare
    backend's encode throughput on exactly the texts ingest embedded, in the same run."""
    from rag.bench.throughput import measure_throughput
    from rag.ingest.chunker import chunk_document
    from rag.embedding_text import embedding_text
    from rag.ingest.readers import find_files, iter_documents

    texts = [embedding_text(d, c, settings.retrieval.title_in_embedding)
             for path in find_files([corpus])[0] for d in iter_documents(path)
             for c in chunk_document(d, settings.chunking)]
    encode = measure_throughput(embedder, texts)
    ingest_per_s = embedded / max(wall, 1e-9)
    return {"ingest_passages_per_s": round(ingest_per_s, 1),
            "ingest_passages_per_cpu_s": round(embedded / max(cpu, 1e-9), 1),
            "encode_passages_per_s": encode["passages_per_s"],
            "encode_passages_per_cpu_s": encode["passages_per_cpu_s"],
            "ingest_vs_encode": round(ingest_per_s / max(encode["passages_per_s"], 1e-9), 3),
            "ingest_vs_encode_cpu": round((embedded / max(cpu, 1e-9)) / max(encode["passages_per_cpu_s"], 1e-9), 3)}


def _cold_ask(settings: Settings, index: Path, work: Path) -> float:
    """Wall seconds of a one-shot `rag ask` in a new process (imports, model and index load)."""
    import subprocess
    import sys

    import yaml

    config = work / "bench-config.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump()))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "ask", "why did Sadr cancel his itikaf?", "--json",
                    "--index", str(index), "--config", str(config)], capture_output=True, check=True, cwd=ROOT)
    return round(time.perf_counter() - started, 2)


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
