"""The README's library example runs as printed and prints each answer sentence with its own
passage's title and place in the file (the real model: what it prints is a quality claim)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def library_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("As a library:", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_two_commands_come_first():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Two commands\n\n```bash\n(.*?)```", text, flags=re.S).group(1)
    assert [line.split()[:2] for line in block.splitlines()] == [["make", "run"], ["make", "test"]]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_is_a_readers_length_and_has_no_placeholder_left():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 400
    assert not re.search(r"^[A-Z][A-Z -]+ TABLE$|TODO|TBD", text, flags=re.M)
    for link in re.findall(r"\]\(((?:docs|data)/[^)#]+)", text):  # every linked file exists
        assert (ROOT / link).exists(), link


def test_the_library_example_prints_each_sentence_with_its_passage(tmp_path):
    code = library_example()
    assert "/tmp/rag-readme-index" in code
    code = code.replace("/tmp/rag-readme-index", str(tmp_path / "index"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert 1 <= len(lines) <= 3
    for line in lines:  # "sentence -- title file, lines a–b (characters c–d)"
        sentence, _, cited = line.partition(" -- ")
        assert cited.startswith("How Sadr’s foes are trying to suck him back into Iraqi public life iraq-archive.txt, line")
        start, end = map(int, re.search(r"characters (\d+)–(\d+)\)$", cited).groups())
        passage = (ROOT / "data" / "sample" / "iraq-archive.txt").read_text(encoding="utf-8")[start:end]
        assert sentence in passage
    assert any("explicit threat" in line or "whoever was behind the video" in line for line in lines)
