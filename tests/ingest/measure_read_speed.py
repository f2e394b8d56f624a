"""Reading speed and memory of each reader on generated files. Prints numbers; asserts nothing.

    .venv/bin/python -m tests.ingest.measure_read_speed
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

from rag.ingest.readers import iter_documents
from tests.ingest.formats import make_docx, make_epub, make_pdf, rss

SENTENCE = "The harbour authority said the new cranes would lift containers from the eastern quay in March."


def _files(folder: Path) -> dict[str, Path]:
    pages = [[f"Page {p} line {i}: {SENTENCE[i % 30:][:70]}" for i in range(45)] for p in range(100)]
    files = {
        "pdf, 100 pages": make_pdf(folder / "a.pdf", pages, title="T", header="GAZETTE", footer="Page {n}"),
        "docx, 1000 paragraphs": make_docx(folder / "a.docx", "T", [SENTENCE] * 1000, table=[["a", "b"]] * 50),
        "epub, 50 chapters": make_epub(folder / "a.epub", "Book", "Author", [(f"C{n}", [SENTENCE] * 40) for n in range(50)]),
    }
    (folder / "a.rss").write_text(rss("Feed", [{"title": f"T{n}", "link": "https://x.example/", "html": f"<p>{SENTENCE}</p>" * 10}
                                               for n in range(500)]))
    files["rss, 500 items"] = folder / "a.rss"
    (folder / "a.txt").write_bytes(("Title\n\n" + ("Café – “quoted” " + SENTENCE + "\n") * 40000).encode("cp1252"))
    files["txt cp1252, 4.4 MB"] = folder / "a.txt"
    with (folder / "a.jsonl").open("w") as out:
        for n in range(200000):
            out.write(json.dumps({"id": f"n{n}", "text": SENTENCE * 5}) + "\n")
    files["jsonl, 200k lines"] = folder / "a.jsonl"
    return files


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(tmp))
        print(f"{'file':24} {'MB':>6} {'docs':>7} {'wall s':>7} {'cpu s':>7} {'max RSS MB':>11}")
        for label, path in files.items():
            wall, cpu = time.perf_counter(), time.process_time()
            count = sum(1 for _ in iter_documents(path))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{label:24} {path.stat().st_size / 1e6:6.1f} {count:7} {wall:7.2f} {cpu:7.2f} {rss_mb:11.0f}")


if __name__ == "__main__":
    main()
