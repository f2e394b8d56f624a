"""The measuring helpers `rag bench` calls: what they count, not how fast anything is."""

from __future__ import annotations

from embeddings.fake import FakeEmbedder
from rag.bench.throughput import (INGEST_BATCH, ingest_texts, measure_query_latency, measure_throughput,
                                   synthetic_articles, write_synthetic_corpus)


def test_measure_throughput_embeds_every_text_in_ingest_batches():
    embedder = FakeEmbedder(16)
    texts = [f"passage number {i}" for i in range(150)]
    result = measure_throughput(embedder, texts)
    assert embedder.calls == 1 + -(-150 // INGEST_BATCH)  # the warm-up call, then 3 batches
    assert embedder.texts_embedded == 2 + 150
    assert result["passages"] == 150
    assert set(result) == {"passages", "wall_s", "cpu_s", "passages_per_s", "passages_per_cpu_s"}
    assert result["passages_per_s"] > 0 and result["passages_per_cpu_s"] > 0


def test_query_latency_counts_each_query_alone():
    embedder = FakeEmbedder(16)
    result = measure_query_latency(embedder, ["a", "b", "c"], repeat=2)
    assert result["queries"] == 6 and embedder.calls == 7
    assert 0 <= result["median_ms"] <= result["p95_ms"]


def test_synthetic_articles_are_deterministic_400_word_recombinations(tmp_path):
    articles = synthetic_articles(count=20, words=400, seed=3)
    assert articles == synthetic_articles(count=20, words=400, seed=3)
    assert articles != synthetic_articles(count=20, words=400, seed=4)
    lengths = [len(a["text"].split()) for a in articles]
    assert len(articles) == 20 and min(lengths) >= 400 and max(lengths) < 700
    assert all(a["title"] and "\n\n" in a["text"] for a in articles)
    texts = ingest_texts(write_synthetic_corpus(tmp_path / "synthetic.jsonl", count=20, seed=3))
    assert 20 * 3 <= len(texts) <= 20 * 8  # ~400 words in passages of at most 110
    assert texts[0].startswith(articles[0]["title"] + "\n")
