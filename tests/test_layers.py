"""Data flows one way (files → documents → chunks → index → retrieval → answer → CLI / UI / REST):
each layer imports only from below it, and the thin layers reach the index only through the Engine.
Read from the source (module-level and function-level imports alike), so a shortcut fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ui", "embeddings")


def imports_of(package: str) -> dict[str, set[str]]:
    """Module path → the project modules it imports anywhere in its source."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = {n for n in names if n.split(".")[0] in PACKAGES}
    return found


FORBIDDEN = {
    # the store knows nothing of readers, retrieval, answers or the layers above
    "rag/index": ("rag.ingest", "rag.retrieve", "rag.answer", "rag.generate", "rag.engine", "rag.cli",
                  "rag.evaluate", "rag.bench", "ui"),
    # answers are built from hits, not by reaching back into retrieval or the store
    "rag/answer": ("rag.retrieve", "rag.index", "rag.engine", "rag.cli", "ui"),
    "rag/retrieve": ("rag.answer", "rag.generate", "rag.engine", "rag.cli", "ui"),
    "rag/ingest": ("rag.retrieve", "rag.answer", "rag.generate", "rag.engine", "rag.cli", "ui"),
    "embeddings": ("rag.index", "rag.ingest", "rag.retrieve", "rag.answer", "rag.engine", "rag.bench", "ui"),
    # the thin layers go through the Engine
    "rag/cli": ("rag.index",),
    "ui": ("rag.index", "rag.retrieve"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_imports_only_from_below(layer):
    package = layer.split("/")[0]
    wrong = [f"{module} imports {name}" for module, names in imports_of(package).items()
             if module.startswith(layer + "/") or module == layer
             for name in names if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer])]
    assert not wrong, "\n".join(wrong)


def test_the_explainer_and_its_ranker_do_not_import_each_other():
    modules = imports_of("rag")
    assert "rag.answer.explain" not in modules["rag/answer/ranker.py"]
    source = (ROOT / "rag/answer/explain.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    runtime = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "rag.answer.ranker"]
    assert not runtime, "explain.py imports the ranker at run time (only for type hints is fine)"
