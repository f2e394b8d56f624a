"""Hostile files are refused with flat memory: each is read in a child process, which reports its
peak memory (VmHWM: the high-water mark of its own memory since exec; ru_maxrss would count the
forking test process, whose size it inherits). The files are written in blocks, never held by
the test either.

Before the `ingest:` caps, a 1.1 MB .docx whose picture inflates to 1.1 GB made python-docx hold
2.35 GB; a document.xml inflating to 1.1 GB was refused after 42 s and 2.35 GB; a 200 MB JSON
Lines line passed 10 GB. The bound asserted, 1 GB, is far from both the noise and those numbers.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import rag
from tests.ingest.formats import make_docx, make_epub

ROOT = Path(rag.__file__).resolve().parent.parent
PEAK_BOUND_KB = 1024 * 1024  # 1 GB
INFLATED = 1100  # MB a bomb member inflates to
PARAGRAPHS = b"<p>word</p>" * ((1 << 20) // 11)  # 1 MB of the shortest paragraphs
CHILD = """
import json, re, sys
from pathlib import Path
from rag.ingest.readers import ReadError, iter_documents

warnings, documents, error = [], [], ""
try:
    documents = [d.doc_id for d in iter_documents(Path(sys.argv[1]), warnings.append)]
except ReadError as exc:
    error = str(exc)
print(json.dumps({"documents": documents, "warnings": warnings, "error": error,
                  "peak_kb": int(re.search(r"VmHWM:\\s*(\\d+) kB", Path("/proc/self/status").read_text()).group(1))}))
"""


def read_in_child(path: Path) -> dict:
    """What iter_documents makes of `path` in a fresh interpreter, and that process's peak RSS (KB)."""
    def cap_address_space():  # a regression fails with MemoryError rather than taking the machine's memory
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=cap_address_space, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def replace_member(path: Path, name: str, blocks) -> None:
    """Rewrite the zip at `path` with member `name` streamed from `blocks` (deflated at level 9: a
    gigabyte of repeats shrinks to about a megabyte), every other member as it was."""
    source = path.with_suffix(".orig")
    path.rename(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as new:
        for info in old.infolist():
            if info.filename == name:
                with new.open(name, "w") as member:
                    for block in blocks:
                        member.write(block)
            else:
                new.writestr(info.filename, old.read(info))
    source.unlink()


def docx_with_picture(path: Path) -> Path:
    import io

    import docx
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(picture, "PNG")
    word = docx.Document()
    word.add_paragraph("The harbour reopened on Monday after the storm.")
    word.add_picture(picture)
    word.save(str(path))
    return path


def test_a_word_picture_inflating_to_a_gigabyte_is_refused_with_flat_memory(tmp_path):
    path = docx_with_picture(tmp_path / "picture-bomb.docx")
    replace_member(path, "word/media/image1.png", (b"\0" * (1 << 20) for _ in range(INFLATED)))
    assert path.stat().st_size < 2 << 20
    result = read_in_child(path)
    assert (result["documents"], result["error"]) == (
        [], "word/media/image1.png inflates past ingest.max_member_mb (64 MB): refused")
    assert result["peak_kb"] < PEAK_BOUND_KB


def test_a_word_document_xml_inflating_to_a_gigabyte_is_refused_with_flat_memory(tmp_path):
    path = make_docx(tmp_path / "text-bomb.docx", "Heading", ["Body."])
    with zipfile.ZipFile(path) as archive:
        head, _ = archive.read("word/document.xml").split(b"<w:body>")
    paragraphs = b"<w:p><w:r><w:t>word</w:t></w:r></w:p>" * ((1 << 20) // 37)
    replace_member(path, "word/document.xml", [head + b"<w:body>", *(paragraphs for _ in range(INFLATED)),
                                               b"</w:body></w:document>"])
    assert path.stat().st_size < 4 << 20
    result = read_in_child(path)
    assert (result["documents"], result["error"]) == (
        [], "word/document.xml inflates past ingest.max_member_mb (64 MB): refused")
    assert result["peak_kb"] < PEAK_BOUND_KB


def test_a_word_body_of_text_just_under_the_member_cap_is_refused_before_python_docx_parses_it(tmp_path):
    path = make_docx(tmp_path / "long.docx", "Heading", ["Body."])
    with zipfile.ZipFile(path) as archive:
        head, _ = archive.read("word/document.xml").split(b"<w:body>")
    paragraphs = b"<w:p><w:r><w:t>word</w:t></w:r></w:p>" * ((1 << 20) // 37)
    replace_member(path, "word/document.xml", [head + b"<w:body>", *(paragraphs for _ in range(60)),
                                               b"</w:body></w:document>"])
    result = read_in_child(path)
    assert (result["documents"], result["error"]) == (
        [], "its text is longer than ingest.max_article_chars (2,000,000 characters)")
    # python-docx's tree of this 60 MB body alone peaked at 1,050 MB (and took 400 s to walk).
    assert result["peak_kb"] < PEAK_BOUND_KB / 2


def test_an_epub_chapter_of_short_paragraphs_under_the_member_cap_is_refused_before_it_is_parsed(tmp_path):
    path = make_epub(tmp_path / "long.epub", "Book", "A", [("One", ["First."]), ("Two", ["Second."])])
    start = b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>'
    replace_member(path, "OEBPS/chapter2.xhtml", [start, *(PARAGRAPHS for _ in range(60)), b"</body></html>"])
    result = read_in_child(path)
    assert (result["documents"], result["error"]) == (
        [], "chapter 2 (OEBPS/chapter2.xhtml) is longer than ingest.max_article_chars (2,000,000 characters)")
    # BeautifulSoup held 692 MB, and took 57 s, for a tenth of this chapter.
    assert result["peak_kb"] < PEAK_BOUND_KB / 2


def test_a_web_page_of_short_paragraphs_under_the_file_cap_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "long.html"
    with path.open("wb") as out:
        out.write(b"<html><head><title>T</title></head><body><article>")
        for _ in range(20):
            out.write(PARAGRAPHS)
        out.write(b"</article></body></html>")
    result = read_in_child(path)
    assert (result["documents"], result["error"]) == (
        [], "its text is longer than ingest.max_article_chars (2,000,000 characters)")
    assert result["peak_kb"] < PEAK_BOUND_KB / 2  # trafilatura did not finish this page in 15 minutes


def test_a_200_mb_jsonl_line_is_skipped_with_flat_memory_and_the_other_lines_read(tmp_path):
    path = tmp_path / "one-word.jsonl"
    with path.open("wb") as out:
        out.write(json.dumps({"id": "first", "text": "The harbour reopened."}).encode() + b"\n")
        out.write(b'{"id": "huge", "text": "')
        for _ in range(200):
            out.write(b"word" * (1 << 18))  # 1 MB of one repeated word, no space
        out.write(b'"}\n' + json.dumps({"id": "last", "text": "The ferry runs again."}).encode() + b"\n")
    assert path.stat().st_size > 200 << 20
    result = read_in_child(path)
    assert (result["documents"], result["error"]) == (["first", "last"], "")
    assert result["warnings"] == [("line 2 is longer than 24,065,536 bytes, more than an article of "
                                   "ingest.max_article_chars (2,000,000 characters) can take; skipped")]
    assert result["peak_kb"] < PEAK_BOUND_KB
