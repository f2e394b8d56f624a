import json
from pathlib import Path

import pytest

from rag.ingest.readers import ReadError, find_files, read_documents


def read(path: Path):
    return read_documents(path, path.read_bytes())


def test_txt_first_short_line_is_the_title(tmp_path):
    f = tmp_path / "story.txt"
    f.write_text("Floods in Basra\n\nWater rose overnight. Thousands left.\n")
    (d,) = read(f).documents
    assert (d.doc_id, d.title, d.text) == ("story", "Floods in Basra", "Water rose overnight. Thousands left.")
    assert f.read_text()[d.offset:d.offset + len(d.text)] == d.text


def test_front_matter_gives_title_source_url_date(tmp_path):
    f = tmp_path / "a.md"
    f.write_text("---\ntitle: Dam talks\nsource: Local Paper\nurl: http://x.example/a\ndate: 2023-05-01\n---\n"
                 "# Ignored heading? no: it is body\n\nBody text here.\n")
    (d,) = read(f).documents
    assert (d.title, d.source, d.url, d.date) == ("Dam talks", "Local Paper", "http://x.example/a", "2023-05-01")
    assert d.text.startswith("# Ignored heading")


def test_markdown_heading_is_the_title(tmp_path):
    f = tmp_path / "b.md"
    f.write_text("# Oil exports rise\n\nExports rose 5 per cent.\n")
    (d,) = read(f).documents
    assert (d.title, d.text) == ("Oil exports rise", "Exports rose 5 per cent.")


def test_html_keeps_main_text_and_drops_scripts_and_navigation(tmp_path):
    f = tmp_path / "c.html"
    f.write_text("""<html><head><title>Ignored</title>
      <meta property="og:title" content="Mosul rebuilds">
      <meta property="og:site_name" content="Wire Service">
      <meta property="article:published_time" content="2023-06-01">
      <script>var tracking = 1;</script><style>p {color: red}</style></head>
      <body><nav><a href="/">Home</a> Menu</nav><header>Site header</header>
      <article><h1>Mosul rebuilds</h1><p>The old city is being <b>rebuilt</b>.</p>
      <ul><li>Item one</li></ul><p>Second paragraph.</p></article>
      <aside>Related links</aside><footer>Copyright</footer></body></html>""")
    (d,) = read(f).documents
    assert (d.title, d.source, d.date, d.offset) == ("Mosul rebuilds", "Wire Service", "2023-06-01", None)
    assert d.text == "The old city is being rebuilt .\n\nItem one\n\nSecond paragraph."


def test_jsonl_reads_ids_and_metadata_and_reports_bad_lines(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "x1", "text": "First article.", "title": "One", "source": "S1"}),
        "{not json",
        json.dumps({"title": "no text"}),
        json.dumps({"text": "Second article."}),
        json.dumps({"id": "x1", "text": "Duplicate id."}),
    ]))
    result = read(f)
    assert [(d.doc_id, d.title, d.source, d.text) for d in result.documents] == [
        ("x1", "One", "S1", "First article."), ("d-4", "d-4", "", "Second article.")]
    assert [w.split(":")[0] for w in result.warnings] == ["line 2", "line 3", "line 5"]


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01binary", "binary"),
    (b"\xff\xfe\x00\xd8", "utf-16"),  # a UTF-16 BOM, then half a surrogate pair
    (b"   \n\n ", "no article text"),
])
def test_bad_files_give_clear_errors(tmp_path, content, message):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(ReadError, match=message):
        read(f)


def test_find_files_recurses_skips_hidden_and_reports_problems(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.txt", "sub/b.md", "sub/c.html", ".hidden/d.txt", "e.pdf", "g.png", "sub/noext", ".h.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "f.bmp").write_text("x")
    files, problems, skipped = find_files([tmp_path, tmp_path / "f.bmp", tmp_path / "missing.txt"])
    assert [p.name for p in files] == ["a.txt", "e.pdf", "sub/b.md"[4:], "c.html"]
    assert [(Path(p).name, msg.split(";")[0]) for p, msg in problems] == [
        ("f.bmp", "unsupported type .bmp"), ("missing.txt", "no such file or folder")]
    assert [(Path(p).name, msg) for p, msg in skipped] == [
        ("g.png", "unsupported type .png"), ("noext", "unsupported type (no extension)")]
