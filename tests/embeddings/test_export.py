"""The ONNX export: once per model and recipe, atomic, shared safely by processes, and faithful.

A tiny random BERT keeps each export to a second or two; the real model is in test_onnx_model.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings.folder import ModelFolder, bundled_model_path
from embeddings.onnx import OnnxEmbedder
from embeddings.onnx_export import ExportError, exported_paths
from tests.embeddings.conftest import make_tiny_model

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Sadr cancelled his itikaf after the attack.", "short", "  The Security Council heard the envoy.  ",
         "A much longer text " + "about the elections in Iraq and the parties that took part " * 8]
EXPORT_MESSAGE = "making the int8 ONNX version"


def cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "onnx").iterdir()) if (cache / "onnx").is_dir() else []


def test_exports_once_then_reuses_the_cached_file(tiny_model, tmp_path, capfd):
    cache = tmp_path / "cache"
    first = OnnxEmbedder(tiny_model, cache_dir=cache)
    vectors = first.embed(TEXTS)
    message = capfd.readouterr().err
    assert message.count(EXPORT_MESSAGE) == 1 and len(message.strip().splitlines()) == 1
    assert first.model_file == exported_paths(ModelFolder.open(tiny_model), cache)[0]
    assert first.model_file.name.endswith(".int8.onnx")
    assert not [n for n in cache_files(cache) if n.endswith(".tmp") or n.startswith(".export")]
    made = first.model_file.stat()

    second = OnnxEmbedder(tiny_model, cache_dir=cache)
    again = second.embed(TEXTS)
    assert EXPORT_MESSAGE not in capfd.readouterr().err
    assert second.model_file == first.model_file
    assert (second.model_file.stat().st_ino, second.model_file.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    np.testing.assert_array_equal(vectors, again)


def test_two_processes_starting_together_export_once(tiny_model, tmp_path):
    cache = tmp_path / "cache"
    script = ("import sys, json; from embeddings.onnx import OnnxEmbedder; "
              "e = OnnxEmbedder(sys.argv[1], cache_dir=sys.argv[2]); "
              "print(json.dumps(e.embed(['the same text']).round(5).tolist()))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tiny_model), str(cache)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert sum(err.count(EXPORT_MESSAGE) for _, err in outputs) == 1
    assert json.loads(outputs[0][0]) == json.loads(outputs[1][0])
    assert len([n for n in cache_files(cache) if n.endswith(".onnx")]) == 1


def test_a_failed_export_leaves_no_file_and_says_why(tiny_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    cache = tmp_path / "cache"
    embedder = OnnxEmbedder(broken, cache_dir=cache)
    with pytest.raises(ExportError, match=r"could not export .*broken.* use embedding.backend: sentence-transformers") as err:
        embedder.embed(["anything"])
    assert "\n" not in str(err.value)
    assert not [n for n in cache_files(cache) if n.endswith((".onnx", ".tmp"))]
    assert embedder.model_file is None


def test_another_model_folder_gets_its_own_file(tiny_model, tmp_path):
    other = make_tiny_model(tmp_path / "tiny-bert", seed=1)  # same name, other weights
    a = exported_paths(ModelFolder.open(tiny_model), tmp_path)[0]
    b = exported_paths(ModelFolder.open(other), tmp_path)[0]
    assert a != b and a.name.startswith("tiny-bert-") and b.name.startswith("tiny-bert-")


def test_tiny_model_vectors_equal_the_reference_backend(tiny_model, tmp_path):
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    onnx, reference = OnnxEmbedder(tiny_model, cache_dir=tmp_path), SentenceTransformerEmbedder(tiny_model)
    assert (onnx.dimension, onnx.max_tokens) == (reference.dimension, reference.max_tokens) == (32, 64)
    cosines = (onnx.embed(TEXTS) * reference.embed(TEXTS)).sum(axis=1)
    assert cosines.min() >= 0.999  # CLS pooling, read from the folder's Pooling config
    assert [onnx.count_tokens(t) for t in TEXTS] == [reference.count_tokens(t) for t in TEXTS]
    assert onnx.count_tokens(TEXTS[-1]) > onnx.max_tokens  # counted in full, not truncated


def test_a_folder_without_tokenizer_json_gets_one_from_the_export(tiny_model, tmp_path):
    folder = tmp_path / "no-tokenizer-json"
    shutil.copytree(tiny_model, folder)
    (folder / "tokenizer.json").unlink()  # tokenizer_config.json remains; the vocabulary comes
    shutil.copy2(bundled_model_path() / "vocab.txt", folder / "vocab.txt")  # as older folders hold it
    embedder = OnnxEmbedder(folder, cache_dir=tmp_path / "cache")
    original = OnnxEmbedder(tiny_model, cache_dir=tmp_path / "cache")
    assert embedder.count_tokens(TEXTS[0]) == original.count_tokens(TEXTS[0])  # the export runs first
    written = [n for n in cache_files(tmp_path / "cache") if n.endswith(".tokenizer.json")]
    assert len(written) == 1
    np.testing.assert_allclose(embedder.embed(TEXTS), original.embed(TEXTS), atol=1e-6)


def test_a_folder_with_no_vocabulary_is_refused(tiny_model, tmp_path):
    folder = tmp_path / "no-vocabulary"
    shutil.copytree(tiny_model, folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ExportError, match="no tokenizer vocabulary"):
        OnnxEmbedder(folder, cache_dir=tmp_path / "cache").embed(["anything"])


def test_an_unwritable_cache_is_named(tiny_model, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made inside a file")
    with pytest.raises(ExportError, match="cannot write the model cache .*RAG_NEWS_CACHE"):
        OnnxEmbedder(tiny_model, cache_dir=blocker / "cache").embed(["anything"])


def test_a_damaged_cached_file_is_made_again(tiny_model, tmp_path, capfd):
    cache = tmp_path / "cache"
    expected = OnnxEmbedder(tiny_model, cache_dir=cache).embed(TEXTS)
    model_file = exported_paths(ModelFolder.open(tiny_model), cache)[0]
    model_file.write_bytes(model_file.read_bytes()[:1000])  # truncated
    capfd.readouterr()
    np.testing.assert_allclose(OnnxEmbedder(tiny_model, cache_dir=cache).embed(TEXTS), expected, atol=1e-5)
    err = capfd.readouterr().err
    assert "is unreadable" in err and EXPORT_MESSAGE in err
