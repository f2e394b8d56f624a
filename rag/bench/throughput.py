"""Embedding speed, measured: passages per wall-second and per CPU-second, and query latency.

`measure_throughput(embedder, texts)` is what `rag bench` calls. Run this module to compare the
backends on the RGB corpus and on a synthetic corpus of ~400-word articles:

    .venv/bin/python -m rag.bench.throughput [--articles 550] [--backends onnx sentence-transformers]

CPU seconds count every thread of the process (`time.process_time`), so they do not depend on
what else the machine is doing; wall seconds do. Nothing here asserts anything.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
INGEST_BATCH = 64  # what rag ingest hands the embedder at a time (rag/index/build.py EMBED_BATCH)


def measure_throughput(embedder, texts: list[str], batch: int = INGEST_BATCH) -> dict:
    """Embed `texts` in ingest-sized calls (after a warm-up call) and time it.

    Returns passages, wall_s, cpu_s, passages_per_s (wall) and passages_per_cpu_s.
    """
    embedder.embed(texts[:2] or ["warm up"])  # model load and first-call costs are not throughput
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        embedder.embed(texts[start:start + batch])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"passages": len(texts), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "passages_per_s": round(len(texts) / max(wall, 1e-9), 1),
            "passages_per_cpu_s": round(len(texts) / max(cpu, 1e-9), 1)}


def measure_query_latency(embedder, queries: list[str], repeat: int = 3) -> dict:
    """Milliseconds to embed one query on its own (median and p95, wall and CPU)."""
    embedder.embed(["warm up"])
    walls, cpus = [], []
    for _ in range(repeat):
        for query in queries:
            wall, cpu = time.perf_counter(), time.process_time()
            embedder.embed([query])
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return {"queries": len(walls), "median_ms": round(statistics.median(walls), 2),
            "p95_ms": round(walls[int(0.95 * (len(walls) - 1))], 2),
            "cpu_median_ms": round(statistics.median(cpus), 2)}


def synthetic_articles(count: int = 350, words: int = 400, seed: int = 0) -> list[dict]:
    """`count` articles of ~`words` words made by recombining the bundled corpora's sentences.

    Sentences are cut (rag.ingest.sentences) from every article of data/sample and every RGB
    snippet, shuffled with `seed`, and dealt out in paragraphs of 3-5 sentences until an article
    reaches `words` words. Titles are the first eight words of the first sentence. The result
    reads like news prose of realistic sentence lengths; it is not meant to make sense.
    """
    sentences = _bundled_sentences()
    rng = random.Random(seed)
    rng.shuffle(sentences)
    articles, pos = [], 0
    for n in range(count):
        paragraphs, total = [], 0
        while total < words:
            size = rng.randint(3, 5)
            paragraph = [sentences[(pos + i) % len(sentences)] for i in range(size)]
            pos += size
            paragraphs.append(" ".join(paragraph))
            total += sum(len(s.split()) for s in paragraph)
        title = " ".join(paragraphs[0].split()[:8]).rstrip(".,;:")
        articles.append({"id": f"synthetic-{n:04d}", "title": title, "source": "synthetic",
                         "text": "\n\n".join(paragraphs)})
    return articles


def write_synthetic_corpus(path: Path, count: int = 350, words: int = 400, seed: int = 0) -> Path:
    """The synthetic articles as a .jsonl file that `rag ingest` reads (for `rag bench --corpus`)."""
    with open(path, "w", encoding="utf-8") as out:
        for article in synthetic_articles(count, words, seed):
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    return path


def ingest_texts(path: Path) -> list[str]:
    """The texts ingest would embed for a file or folder: every chunk, title in front."""
    from rag.config import Settings
    from rag.ingest.chunker import chunk_document
    from rag.ingest.readers import find_files, iter_documents

    settings = Settings()
    texts = []
    for file in find_files([Path(path)])[0]:
        for document in iter_documents(file):
            for chunk in chunk_document(document, settings.chunking):
                title = settings.retrieval.title_in_embedding and document.title and document.title != document.doc_id
                texts.append(f"{document.title}\n{chunk.text}" if title else chunk.text)
    return texts


def _bundled_sentences() -> list[str]:
    from rag.ingest.readers import iter_documents
    from rag.ingest.sentences import sentence_spans

    sources = sorted((ROOT / "data" / "sample").rglob("*.txt")) + [ROOT / "data" / "eval" / "rgb" / "corpus.jsonl"]
    sentences = []
    for file in sources:
        for document in iter_documents(file):
            text = document.text
            for start, end in sentence_spans(text):
                sentence = " ".join(text[start:end].split())
                if 4 <= len(sentence.split()) <= 60 and "..." not in sentence:
                    sentences.append(sentence)
    return sentences


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["onnx", "sentence-transformers"])
    parser.add_argument("--articles", type=int, default=350, help="synthetic articles (~6 passages each)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import tempfile

    from embeddings import make_embedder
    from rag.config import EmbeddingSettings
    from rag.offline import enforce_offline

    enforce_offline()
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = ingest_texts(write_synthetic_corpus(Path(tmp) / "synthetic.jsonl", args.articles))
    corpora = {"rgb": ingest_texts(ROOT / "data" / "eval" / "rgb" / "corpus.jsonl"), "synthetic": synthetic}
    queries = [json.loads(line)["question"] for line in
               (ROOT / "data" / "eval" / "rgb" / "questions-dev.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()][:20]
    results = {}
    for backend in args.backends:
        embedder = make_embedder(EmbeddingSettings(backend=backend))
        wall, cpu = time.perf_counter(), time.process_time()
        embedder.embed(["warm up"])
        row = {"name": embedder.name, "load_s": round(time.perf_counter() - wall, 2),
               "load_cpu_s": round(time.process_time() - cpu, 2),
               "query": measure_query_latency(embedder, queries)}
        for corpus, texts in corpora.items():
            row[corpus] = measure_throughput(embedder, texts)
        results[backend] = row
        if not args.json:
            print(f"{embedder.name}: load {row['load_s']} s ({row['load_cpu_s']} CPU s); one query "
                  f"{row['query']['median_ms']} ms median, {row['query']['cpu_median_ms']} CPU ms", flush=True)
            for corpus in corpora:
                r = row[corpus]
                print(f"  {corpus:9} {r['passages']:5} passages: {r['passages_per_s']:7.1f}/wall-s "
                      f"{r['passages_per_cpu_s']:7.1f}/CPU-s ({r['wall_s']} s, {r['cpu_s']} CPU s)", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
