"""`rag bench --scale`: it builds its synthetic index and reports every number it promises
(plumbing only: the fake embedder, a tiny scale, and no assertion on any timing)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rag.bench.scale import PooledEmbedder, sentence_pool, write_corpus
from rag.cli import main

PROMISED = ("passages", "add_one_article_s", "add_one_article_cpu_s", "add_one_article_bytes_written",
            "remove_one_article_s", "remove_one_article_bytes_written", "query_p50_ms", "query_p95_ms",
            "query_cpu_p50_ms", "ingest_peak_rss_mb", "query_rss_mb", "cold_ask_s", "ann_recall_at_10_questions",
            # a filtered question: one source, and one source within one month
            "query_one_source_p50_ms", "query_one_source_cpu_p50_ms", "query_one_source_vs_unfiltered",
            "query_one_source_passages_min", "query_source_and_month_p50_ms", "query_source_and_month_vs_unfiltered",
            "query_source_and_month_passages_min")


def test_the_synthetic_corpus_is_made_of_real_sentences(tmp_path):
    pool = sentence_pool()
    articles = write_corpus(tmp_path / "c.jsonl", 10, pool)
    lines = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert articles == len(lines) == 3
    assert sum(len(a["text"].split("\n\n")) for a in lines) == 10
    assert all(len(p.split()) >= 80 for a in lines for p in a["text"].split("\n\n"))


def test_pooled_vectors_are_unit_and_shared_sentences_make_them_close():
    import numpy as np

    sentences = ["Sadr cancelled his itikaf.", "The video was a threat.", "Basra harbour reopened."]
    vectors = np.eye(3, 8, dtype=np.float32)
    embedder = PooledEmbedder("m", sentences, vectors)
    out = embedder.embed(["Sadr cancelled his itikaf. The video was a threat.", "Basra harbour reopened."])
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert out[0][:2] @ out[0][:2] > 0.95 and abs(float(out[0] @ out[1])) < 0.2


def test_bench_scale_reports_every_number(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    result = CliRunner().invoke(main, ["bench", "--scale", "400", "--workdir", str(tmp_path / "work"),
                                       "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    missing = [key for key in PROMISED if key not in data]
    assert not missing, data
    assert data["passages"] >= 400 and data["add_one_article_bytes_written"] > 0
    assert isinstance(data["query_rss_mb"], float) and isinstance(data["cold_ask_s"], float), data
    # the filter applies inside the search: one source of 20 (20 passages here) still gives k = 5
    assert data["query_one_source_passages_min"] == 5, data
