"""The question path imports no torch, transformers, sentence-transformers or Gradio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["torch", "transformers", "sentence_transformers", "gradio", "onnx"]
PROBE = """
import json, sys
from rag.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def run_in_fresh_python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def heavy_modules(done: subprocess.CompletedProcess) -> list[str]:
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.model
def test_rag_ask_imports_nothing_heavy(tmp_path):
    index = tmp_path / "index"
    Engine(Settings(), index).ingest([ROOT / "data" / "sample"])  # the default, onnx backend
    done = run_in_fresh_python("ask", "why did Sadr cancel his itikaf?", "--index", str(index), "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["passages"] and not answer["abstained"]
    assert heavy_modules(done) == []


def test_rag_help_and_stats_of_no_index_import_nothing_heavy(tmp_path):
    assert heavy_modules(run_in_fresh_python("--help")) == []
    assert heavy_modules(run_in_fresh_python("stats", "--index", str(tmp_path / "none"))) == []
