"""A folder of everyday formats through `rag ingest` and `rag ask` (CLI runner, fake embedder):
the seven readable files are read, the two others named with their reasons, and a question
about each article is answered at rank 1 with its title and source."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import main
from tests.ingest.formats import atom, make_docx, make_epub, make_pdf, rss

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def build_folder(folder: Path) -> None:
    """One article per format, each on its own subject, plus a picture and a broken PDF."""
    folder.mkdir()
    make_pdf(folder / "cranes.pdf", [
        ["Harbour cranes return to Port Talbrey", "",
         "The port authority said the two new gantry cranes were built by an inter-",
         "national consortium and arrived on Tuesday after a long voyage from",
         "the shipyard in Rostock. The old cranes had rusted beyond repair."],
        ["The harbour master said the gantry cranes will lift the first containers",
         "in March, once the rails along the eastern quay have been replaced.",
         "Dockers' unions welcomed the decision to keep the quay open at night."],
    ], author="Harbour Gazette", header="THE HARBOUR GAZETTE - PORT SUPPLEMENT", footer="Page {n} of {total}")
    make_docx(folder / "frost.docx", "Orchard growers count the frost damage",
              ["Apricot growers in the Arnesse valley said the late April frost destroyed "
               "half of the blossom on their trees.",
               "Insurers will send assessors to every orchard next week."],
              table=[["Orchard", "Blossom lost"], ["Hillside", "55%"], ["Riverside", "40%"]],
              author="Valley Courier")
    make_epub(folder / "lighthouse.epub", "Letters from the Lighthouse", "Mara Quill", [
        ("The keeper arrives", ["The new lighthouse keeper came on the supply boat with "
                                "twelve crates of lamp oil and a tabby cat."]),
        ("Storm season", ["In October the autumn gales closed the lighthouse landing for nine days, "
                          "and the keeper rationed his biscuits."]),
    ])
    (folder / "glacier.rss").write_text(rss("Glacier Watch Daily", [{
        "title": "Ice shelf loses a slab the size of a city", "link": "https://glacier.example/slab",
        "date": "Tue, 03 Mar 2026 08:15:00 +0000",
        "html": "<p>Satellite images showed an iceberg of 840 square kilometres calving from "
                "the Brunt ice shelf.</p><p>Glaciologists had watched the crack widen for years.</p>"}]))
    (folder / "bees.atom").write_text(atom("Beekeepers' Bulletin", [{
        "title": "Hives survive the cold winter", "link": "https://bees.example/hives",
        "date": "2026-02-01T10:00:00Z",
        "html": "<p>Nine in ten beehives in the northern uplands survived the frozen winter, "
                "the beekeepers' association reported, thanks to sugar fondant feeding.</p>"}]))
    (folder / "cafe-tax.txt").write_bytes((
        "---\ntitle: Café owners protest the terrace levy\nsource: Old Town Herald\n---\n"
        "The council’s “temporary” terrace levy costs café owners €40 a month per table — "
        "owners on Marktgasse said they would close their terraces in protest.\n").encode("cp1252"))
    (folder / "tram.txt").write_bytes((
        "---\ntitle: Airport tram line approved\nsource: Metro Daily\n---\n"
        "The regional assembly approved the tram line to Vellmar airport; the first trams "
        "will run in September 2028 and the fare will match a bus ticket.\n").encode("utf-16"))
    (folder / "photo.png").write_bytes(PNG)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n%broken download\n1 0 obj\n<<")


QUESTIONS = [  # question, title, source, file name
    ("When will the gantry cranes lift the first containers on the eastern quay?",
     "Harbour cranes return to Port Talbrey", "Harbour Gazette", "cranes.pdf"),
    ("How much of the apricot blossom did the late April frost destroy?",
     "Orchard growers count the frost damage", "Valley Courier", "frost.docx"),
    ("How long did the autumn gales close the lighthouse landing?",
     "Letters from the Lighthouse: Storm season", "Mara Quill", "lighthouse.epub"),
    ("How large was the iceberg calving from the Brunt ice shelf?",
     "Ice shelf loses a slab the size of a city", "Glacier Watch Daily", "glacier.rss"),
    ("How many beehives survived the frozen winter in the northern uplands?",
     "Hives survive the cold winter", "Beekeepers' Bulletin", "bees.atom"),
    ("How much does the terrace levy cost café owners per table?",
     "Café owners protest the terrace levy", "Old Town Herald", "cafe-tax.txt"),
    ("When will the trams to Vellmar airport run?",
     "Airport tram line approved", "Metro Daily", "tram.txt"),
]


@pytest.fixture
def cli(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, [*args, "--index", str(tmp_path / "index"), "--config", str(config)])

    return run


def test_every_format_is_read_named_or_refused_and_answers_cite_it(cli, tmp_path):
    folder = tmp_path / "articles"
    build_folder(folder)
    result = cli("ingest", "--json", str(folder))
    assert result.exit_code == 1, result.output  # the broken PDF failed; the others are indexed
    report = json.loads(result.output)
    assert sorted(Path(p).name for p in report["files_added"]) == sorted(q[3] for q in QUESTIONS)
    assert [(Path(f["path"]).name, f["error"]) for f in report["failures"]] == [
        ("broken.pdf", "is not a readable PDF (Stream has ended unexpectedly)")]
    assert [(Path(f["path"]).name, f["error"]) for f in report["files_unsupported"]] == [
        ("photo.png", "unsupported type .png")]
    assert report["warnings"] == ["cafe-tax.txt: read as windows-1252"]

    for question, title, source, name in QUESTIONS:
        answer = json.loads(cli("ask", "--json", question).output)
        citation = answer["passages"][0]["citation"]
        assert (citation["title"], citation["source"], Path(citation["path"]).name) == (title, source, name), question
        if name == "cranes.pdf":
            assert citation["file"]["page"] == 2 and citation["file"]["start"] is None


def test_a_passage_from_page_two_cites_page_two(cli, tmp_path):
    folder = tmp_path / "articles"
    build_folder(folder)
    cli("ingest", str(folder))
    answer = json.loads(cli("ask", "--json", QUESTIONS[0][0]).output)
    first = answer["passages"][0]
    assert "containers in March" in first["text"]
    assert (first["citation"]["file"]["page"], first["text"][:30]) == (2, "The harbour master said the ga")


def test_the_summary_counts_read_failed_and_skipped(cli, tmp_path):
    folder = tmp_path / "articles"
    build_folder(folder)
    out = cli("ingest", str(folder)).output
    assert "files: 7 added, 0 updated, 0 unchanged, 0 removed, 1 failed, 1 skipped" in out
    assert "is not a readable PDF" in out and "photo.png: unsupported type .png" in out


def test_a_folder_with_nothing_readable_says_so_and_fails(cli, tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "photo.png").write_bytes(PNG)
    shutil.copy(folder / "photo.png", folder / "scan.jpg")
    result = cli("ingest", str(folder))
    assert result.exit_code == 1
    assert "nothing readable in the given paths (0 failed, 2 skipped)" in result.output
    assert "scan.jpg: unsupported type .jpg" in result.output
