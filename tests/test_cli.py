"""The CLI end to end in a temp dir (fake embedder through a config file): the public contract."""

import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import main
from tests.conftest import SAMPLE, make_cli


@pytest.fixture
def cli(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    return make_cli(config, tmp_path / "index")


def test_ingest_ask_stats_round_trip(cli):
    out = cli("ingest", str(SAMPLE)).output
    assert "files: 1 added" in out and "documents: 5 added" in out and "chunks: 72 added, 72 embedded" in out
    assert "1 unchanged" in cli("ingest", str(SAMPLE)).output

    answer = json.loads(cli("ask", "--json", "Sadr cancelled his itikaf").output)
    assert set(answer) >= {"question", "abstained", "passages", "answer"}
    first = answer["passages"][0]
    assert set(first) == {"rank", "text", "score", "citation"}
    assert set(first["citation"]) >= {"doc_id", "title", "source", "path", "start", "end"}
    assert first["rank"] == 1 and isinstance(first["score"], float)
    assert first["citation"]["source"] == "Middle East Eye"

    stats = json.loads(cli("stats", "--json").output)
    assert (stats["documents"], stats["chunks"], stats["model"]) == (5, 72, "fake-hashed-bow-64")
    assert stats["languages"] == {"en": 5}
    assert re.search(r"^languages: +en=5$", cli("stats").output, flags=re.M)


def test_ask_file_prints_one_json_object_per_line_in_order(cli, tmp_path):
    cli("ingest", str(SAMPLE))
    questions = tmp_path / "q.txt"
    questions.write_text("UNITAD digitization courts\n\nWagner Black Cross ribbon\n")
    lines = cli("ask", "--json", "--k", "2", "--file", str(questions)).output.strip().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [p["question"] for p in parsed] == ["UNITAD digitization courts", "Wagner Black Cross ribbon"]
    assert all(len(p["passages"]) == 2 for p in parsed)


def test_human_readable_answer_shows_citations(cli):
    cli("ingest", str(SAMPLE))
    out = cli("ask", "Sadr cancelled his itikaf").output
    assert "[1] Middle East Eye — How Sadr’s foes" in out and "characters" in out


def test_docs_and_remove(cli):
    cli("ingest", str(SAMPLE))
    assert "5 articles" in cli("docs").output
    assert "removed 1 article(s)" in cli("remove", "iraq-archive-2").output
    assert [d["doc_id"] for d in json.loads(cli("docs", "--json").output)] == [
        "iraq-archive-1", "iraq-archive-3", "iraq-archive-4", "iraq-archive-5"]
    result = cli("remove", "no-such-id", ok=False)
    assert result.exit_code == 1 and "not in the index: no-such-id" in result.output


def test_docs_can_be_matched_and_limited(cli):
    cli("ingest", str(SAMPLE))
    matched = json.loads(cli("docs", "--json", "--match", "middle EAST eye").output)
    assert matched and all(d["source"] == "Middle East Eye" for d in matched)
    everything = json.loads(cli("docs", "--json").output)
    assert len(matched) < len(everything) == 5
    assert [d["doc_id"] for d in json.loads(cli("docs", "--json", "--limit", "2").output)] == \
        [d["doc_id"] for d in everything[:2]]
    out = cli("docs", "--limit", "2").output
    assert "(2 of 5 shown: --limit or --match to see others)" in out
    assert "0 articles" in cli("docs", "--match", "no such words anywhere").output
    assert cli("docs", "--limit", "0", ok=False).exit_code == 2


def test_asking_before_ingesting_says_what_to_run(cli):
    result = cli("ask", "anything?", ok=False)
    assert result.exit_code == 1 and "no index at" in result.output and "rag ingest" in result.output


def test_failed_files_are_reported_and_flagged_in_the_exit_code(cli, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"\x00binary")
    result = cli("ingest", str(SAMPLE), str(tmp_path / "bad.txt"), ok=False)
    assert result.exit_code == 1 and "failed: " in result.output and "binary" in result.output
    assert json.loads(cli("stats", "--json").output)["documents"] == 5


def test_bad_config_is_a_clear_error(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("retrieval:\n  mode: telepathy\n")
    result = CliRunner().invoke(main, ["stats", "--config", str(config), "--index", str(tmp_path)])
    assert result.exit_code == 1 and "retrieval.mode" in result.output


def test_help_lists_every_command():
    out = CliRunner().invoke(main, ["--help"]).output
    for command in ("ingest", "ask", "stats", "eval", "serve", "bench", "docs", "remove"):
        assert command in out


VOCABULARY = ("pumps salinity farmers budget contractors dates fishermen schools tankers pipelines drought rainfall "
              "reservoirs dams turbines villages tribes ministers engineers tenders loans courts clinics cholera "
              "buffaloes marshes reeds palms wheat barley rice tomatoes onions melons trucks ferries bridges roads "
              "lorries generators cables meters tariffs subsidies protests elections councils governors police "
              "militias borders refugees camps teachers nurses doctors students").split()


def test_ask_filters_by_source_month_and_article(cli, tmp_path):
    """The issue's contract: --source (repeatable), --since/--until, --doc (repeatable), --undated."""
    folder = tmp_path / "dated"
    folder.mkdir()
    articles = [("un-may", "UN News", "2024-05-14"), ("un-june", "UN News", "2024-06-02"),
                ("mee-may", "Middle East Eye", "2024-05-20"), ("un-undated", "UN News", "")]
    with (folder / "news.jsonl").open("w") as out:
        for doc_id, source, date in articles:
            picks = [random.Random(f"{doc_id}{n}").sample(VOCABULARY, 14) for n in range(16)]
            text = "\n\n".join(f"Basra water council on canal repairs: {' '.join(w[:7])}. Then {' '.join(w[7:])}."
                                 for w in picks)
            out.write(json.dumps({"id": doc_id, "title": doc_id, "source": source, "date": date, "text": text}) + "\n")
    cli("ingest", str(folder))

    def asked(*options):
        answer = json.loads(cli("ask", "Basra water council canal repairs", "--json", "--k", "3", *options).output)
        return {p["citation"]["doc_id"] for p in answer["passages"]}, len(answer["passages"])

    assert asked("--source", "UN News", "--since", "2024-05", "--until", "2024-05") == ({"un-may"}, 3)
    assert asked("--source", "un news", "--source", "Middle East Eye", "--since", "2024-05",
                 "--until", "2024-05")[0] == {"un-may", "mee-may"}
    assert asked("--source", "UN News", "--since", "2024-05", "--undated", "include")[0] == {
        "un-may", "un-june", "un-undated"}
    assert asked("--doc", "un-june", "--doc", "mee-may")[0] == {"un-june", "mee-may"}
    text = cli("ask", "Basra water council canal repairs", "--source", "UN News", "--until", "2024-05").output
    assert "un-may" in text and "un-june" not in text and "mee-may" not in text
    bad = cli("ask", "Basra", "--since", "May the fourth", "--json", ok=False)
    assert bad.exit_code == 1 and "since" in json.loads(bad.output)["error"]
