"""The bundled texts the ONNX vectors are held to: sample passages (as ingest embeds them) and RGB."""

from __future__ import annotations

import json
from pathlib import Path

from rag.config import ChunkingSettings
from rag.ingest.chunker import chunk_document
from rag.ingest.readers import iter_documents

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
RGB = ROOT / "data" / "eval" / "rgb" / "corpus.jsonl"


def sample_passages() -> list[str]:
    """Every chunk of data/sample with its article title in front, as the index embeds it."""
    texts = []
    for path in sorted(SAMPLE.rglob("*.txt")):
        for document in iter_documents(path):
            texts += [f"{document.title}\n{c.text}" for c in chunk_document(document, ChunkingSettings())]
    return texts


def rgb_texts() -> list[str]:
    """The 969 snippet texts of the RGB corpus."""
    with open(RGB, encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines if line.strip()]
