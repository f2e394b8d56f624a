"""JSON Lines are streamed: no size limit, flat memory, a bad line is a warning with its number."""

import json
import tracemalloc

import pytest

from rag.ingest.readers import ReadError, ReadLimits, iter_documents


def test_bad_lines_are_warnings_naming_the_line(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"\n".join([
        b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "First.", "title": "One"}).encode(),
        b"{broken",
        "caf\xe9".encode("latin-1"),
        json.dumps({"text": "Third."}).encode(),
        json.dumps({"id": "a", "text": "Again."}).encode(),
    ]))
    warnings = []
    documents = list(iter_documents(path, warnings.append))
    assert [(d.doc_id, d.title, d.text) for d in documents] == [("a", "One", "First."), ("export-4", "export-4", "Third.")]
    assert warnings == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes); skipped",
        "line 3: not UTF-8 (byte 3); skipped",
        "line 5: id 'a' used twice; skipped",
    ]


def test_a_file_over_the_size_limit_is_read_line_by_line_with_flat_memory(tmp_path):
    limits = ReadLimits(max_file_mb=1)
    path = tmp_path / "big.jsonl"
    body = "word " * 1000
    with path.open("w") as out:
        for n in range(2000):  # about 10 MB: ten times the limit
            out.write(json.dumps({"id": f"n{n}", "text": f"Article {n}. {body}"}) + "\n")
    assert path.stat().st_size > 9 * limits.max_file_bytes
    tracemalloc.start()
    count = 0
    for document in iter_documents(path, limits=limits):
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 2000
    # One line at a time; what grows is only the set of ids seen (for the duplicate check).
    assert peak < path.stat().st_size / 10


def test_other_formats_keep_the_size_limit(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("Title\n\n" + "words " * 200_000)
    with pytest.raises(ReadError, match=r"^is larger than ingest.max_file_mb \(1 MB\)$"):
        list(iter_documents(path, limits=ReadLimits(max_file_mb=1)))


def test_a_jsonl_file_without_articles_fails(tmp_path):
    path = tmp_path / "none.jsonl"
    path.write_text('{"title": "no text"}\n')
    with pytest.raises(ReadError, match="holds no article text"):
        list(iter_documents(path))
