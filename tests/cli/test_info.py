"""`rag docs` and `rag stats` as people read them, and `rag ask`'s usage messages."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rag.cli import main
from rag.cli.info import format_documents, format_stats, format_value, plural
from rag.types import DocumentInfo
from tests.conftest import make_cli


def test_docs_are_aligned_columns_with_singular_and_plural_counts():
    infos = [DocumentInfo("iraq-archive-1", "How Sadr’s foes", "Middle East Eye", "/x/iraq.txt", 14),
             DocumentInfo("honey", "Arctic honey", "", "/x/honey.txt", 1)]
    assert format_documents(infos).splitlines() == [
        "iraq-archive-1  Middle East Eye  14 chunks  How Sadr’s foes",
        "honey           -                 1 chunk   Arctic honey",
        "2 articles, 15 chunks",
    ]
    assert format_documents([]) == "0 articles, 0 chunks"
    assert (plural(1, "article"), plural(0, "article"), plural(2, "chunk")) == ("1 article", "0 articles", "2 chunks")


def test_stats_are_lines_with_nested_settings_spelled_out():
    data = {"documents": 5, "chunks": 72, "model": "all-MiniLM-L6-v2", "exists": True,
            "chunking": {"max_words": 110, "overlap_sentences": 1, "hard_max_words": 160},
            "retrieval_mode": "hybrid", "url": ""}
    assert format_stats(data).splitlines() == [
        "documents:      5",
        "chunks:         72",
        "model:          all-MiniLM-L6-v2",
        "exists:         yes",
        "chunking:       max_words=110, overlap_sentences=1, hard_max_words=160",
        "retrieval_mode: hybrid",
        "url:            -",
    ]
    assert format_value({"a": {"b": 1}, "c": [1, 2], "d": None}) == "a=b=1, c=1, 2, d=-"
    assert "{" not in format_stats(data) and "True" not in format_stats(data)


def test_ask_without_a_question_says_what_to_give():
    result = CliRunner().invoke(main, ["ask"])
    assert result.exit_code == 2
    assert "give a QUESTION or --file FILE (one question per line)" in result.output
    assert "not both" not in result.output


def test_ask_with_both_a_question_and_a_file_says_not_both(tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("who?\n")
    result = CliRunner().invoke(main, ["ask", "who?", "--file", str(questions)])
    assert result.exit_code == 2 and "not both" in result.output


def test_docs_with_match_and_limit_show_a_page_and_how_many_match(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    articles = tmp_path / "articles.jsonl"
    articles.write_text("\n".join(json.dumps({"id": f"a{n}", "title": title, "source": "Wire", "text": "Some news."})
                                  for n, title in enumerate(["Die Straße", "STRASSE 2", "Oil", "strasse three"])))
    cli = make_cli(config, tmp_path / "index")
    cli("ingest", str(articles))
    assert cli("docs", "--match", "  Strasse ", "--limit", "2").output.splitlines() == [
        "a0  Wire  1 chunk  Die Straße",
        "a1  Wire  1 chunk  STRASSE 2",
        "2 articles, 2 chunks",
        "(2 of 3 shown: --limit or --match to see others)",
    ]
    assert "shown" not in cli("docs", "--match", "strasse", "--limit", "3").output
    assert [d["doc_id"] for d in json.loads(cli("docs", "--json", "--match", "STRASSE", "--limit", "2").output)] == [
        "a0", "a1"]
    assert [d["doc_id"] for d in json.loads(cli("docs", "--json", "--match", "%").output)] == []
