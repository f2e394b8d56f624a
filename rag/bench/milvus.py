"""Numbers for docs/scale-out.md, printed, never asserted: what a question costs on a Milvus
store (requests and their time), the bytes a passage takes, and the server-side `hybrid_search`
(RRF or weighted) against the project's own fusion and rerank, on a question set.

    python -m rag.bench.milvus --config milvus.yaml --questions data/eval/rgb/questions-dev.jsonl

The config names the Milvus store (`store.backend: milvus`); the index must be built already.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import defaultdict

import numpy as np

READS = ("generation", "refresh", "info", "search_dense", "search_keyword", "keyword_scores", "term_idf",
         "chunks", "vectors", "pieces", "neighbours", "document")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def instrument(store) -> dict:
    """Wrap the store's read methods to count calls and their wall time."""
    stats: dict = defaultdict(lambda: [0, 0.0])
    for name in READS:
        method = getattr(store, name, None)
        if method is None:
            continue

        def timed(*args, _method=method, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                stats[_name][0] += 1
                stats[_name][1] += time.perf_counter() - started

        setattr(store, name, timed)
    return stats


def count_requests(store) -> dict:
    """Wrap the store's client so each gRPC request (query, search) is counted and timed."""
    counts = {"requests": 0, "seconds": 0.0}
    with store._guard() as client:
        for name in ("query", "search", "query_iterator"):
            method = getattr(client, name)

            def timed(*args, _method=method, **kwargs):
                started = time.perf_counter()
                try:
                    return _method(*args, **kwargs)
                finally:
                    counts["requests"] += 1
                    counts["seconds"] += time.perf_counter() - started

            setattr(client, name, timed)
    return counts


def server_hybrid(store, vector: np.ndarray, terms: list[str], k: int, depth: int, ranker) -> list[str]:
    """Texts of the top k of Milvus's own hybrid_search (dense + BM25, fused on the server)."""
    from pymilvus import AnnSearchRequest

    from rag.index.milvus_schema import encode_token

    state = store._load()
    visible = store._visible(state)
    requests = [AnnSearchRequest(data=[vector.astype(np.float32).tolist()], anns_field="vector",
                                 param={"metric_type": "IP"}, limit=depth, expr=visible)]
    encoded = " ".join(dict.fromkeys(encode_token(t) for t in terms))
    if encoded:
        requests.append(AnnSearchRequest(data=[encoded], anns_field="sparse", param={"metric_type": "BM25"},
                                         limit=depth, expr=visible))
    with store._guard() as client:
        hits = client.hybrid_search(f"{state['data']}_chunks", requests, ranker, limit=k, output_fields=["text"],
                                    timeout=store.timeout)[0]
    return [h["entity"]["text"] for h in hits]


def bytes_per_passage(store, sample: int = 300) -> dict:
    """Average stored bytes of one passage, field by field (what a Milvus segment holds raw)."""
    state = store._load()
    rows = store._query(f"{state['data']}_chunks", f"chunk_id >= 0 and {store._visible(state)}",
                        ["text", "keywords", "pieces", "piece_vectors", "title", "source", "path", "url",
                         "date", "doc_id", "embed_hash", "source_key"])[:sample]
    size = lambda value: len(str(value).encode("utf-8"))  # noqa: E731
    out = {
        "vector": 4 * state["dimension"],
        "text": np.mean([size(r["text"]) for r in rows]),
        "keywords": np.mean([size(r["keywords"]) for r in rows]),
        "bm25_sparse": np.mean([8 * len(set(r["keywords"].split())) for r in rows]),
        "pieces": np.mean([size(r["pieces"]) + size(r["piece_vectors"]) for r in rows]),
        "citation_fields": np.mean([sum(size(r[f]) for f in ("title", "source", "path", "url", "date", "doc_id",
                                                              "embed_hash")) + 8 * 10 for r in rows]),
        "filter_fields": np.mean([size(r["source_key"]) + 8 for r in rows]),  # source_key, date_key
    }
    docs = store.documents()
    article_bytes = sum(size(store.document(d.doc_id).text) for d in docs[:50]) / max(1, sum(d.chunks for d in docs[:50]))
    out["article_text_share"] = article_bytes
    out = {k: round(float(v)) for k, v in out.items()}
    out["total"] = sum(out.values())
    return out


def main() -> None:
    from pymilvus import RRFRanker, WeightedRanker

    from rag.config import load_settings
    from rag.engine import Engine
    from rag.evaluate.questions import load_questions
    from rag.text import answer_found

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--index", default=".index/milvus-lock", help="folder for the engine's lock only")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    settings = load_settings(args.config)
    engine = Engine(settings, args.index)
    engine.warm_up()
    store = engine.store()
    calls = instrument(store)
    requests = count_requests(store)
    questions = [q for q in load_questions(args.questions) if q.answers and not q.history]
    depth, weight = settings.retrieval.candidates, settings.retrieval.dense_weight
    rankers = {"server_rrf": RRFRanker(settings.retrieval.rrf_k),
               "server_weighted": WeightedRanker(weight, 1.0 - weight)}
    found = defaultdict(int)
    seconds = defaultdict(float)
    cpu_started = _cpu()
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question, k=args.k)
        seconds["client_fusion"] += time.perf_counter() - started
        found["client_fusion"] += any(answer_found(q.answers, p.text) for p in answer.passages[:args.k])
    cpu = _cpu() - cpu_started
    rpcs = dict(requests)
    per_question = {name: {"calls": round(n / len(questions), 2), "ms": round(1000 * s / max(n, 1), 1)}
                    for name, (n, s) in sorted(calls.items())}
    for q in questions:
        vector = engine.embedder.embed([q.question])[0]
        terms = engine.query_terms(store, q.question).flat  # as the engine asks: every indexed language
        for name, ranker in rankers.items():
            started = time.perf_counter()
            texts = server_hybrid(store, vector, terms, args.k, depth, ranker)
            seconds[name] += time.perf_counter() - started
            found[name] += any(answer_found(q.answers, t) for t in texts)
    report = {
        "questions": len(questions), "store": store.location, "passages": store.info().chunks,
        "answered_at_k": dict(found), "k": args.k,
        "ms_per_question": {name: round(1000 * s / len(questions)) for name, s in seconds.items()},
        "client_cpu_ms_per_question": round(1000 * cpu / len(questions)),
        "grpc_requests_per_question": round(rpcs["requests"] / len(questions), 1),
        "grpc_ms_per_question": round(1000 * rpcs["seconds"] / len(questions)),
        "store_calls_per_question": per_question,
        "bytes_per_passage": bytes_per_passage(store),
    }
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
