"""A missing or unsupported model folder is refused at once, in one line that says what to do."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from embeddings import make_embedder
from embeddings.folder import ModelFolder, ModelNotFoundError, UnsupportedModelError, bundled_model_path
from rag.cli import main
from rag.config import EmbeddingSettings


def copy_of_bundled(tmp_path, name="model-copy"):
    folder = tmp_path / name
    shutil.copytree(bundled_model_path(), folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    (folder / "model.safetensors").write_bytes(b"")  # never loaded: these tests only read the JSON files
    return folder


def test_the_bundled_folder_reads_as_mean_pooling_with_a_256_token_window():
    folder = ModelFolder.open()
    assert (folder.name, folder.pooling_modes, folder.dimension, folder.max_tokens) == (
        "all-MiniLM-L6-v2", ("mean",), 384, 256)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not a local sentence-transformers model folder.*embedding.model_path"):
        make_embedder(EmbeddingSettings(model_path=str(tmp_path / "nowhere")))


def test_a_folder_without_weights_is_named(tmp_path):
    folder = copy_of_bundled(tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match="holds no weights"):
        make_embedder(EmbeddingSettings(model_path=str(folder)))


def test_a_dense_layer_is_refused_with_the_backend_that_can_run_it(tmp_path):
    folder = copy_of_bundled(tmp_path)
    modules = json.loads((folder / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(UnsupportedModelError, match=r"Transformer → Pooling → Dense → Normalize .* "
                                                    r"use embedding.backend: sentence-transformers"):
        make_embedder(EmbeddingSettings(model_path=str(folder)))


@pytest.mark.parametrize("pooling, message", [
    ({"pooling_mode": "weightedmean"}, "pooling weightedmean is not supported"),
    ({"pooling_mode_lasttoken": True}, "pooling lasttoken is not supported"),
])
def test_an_unsupported_pooling_is_refused(tmp_path, pooling, message):
    folder = copy_of_bundled(tmp_path)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384, **pooling}))
    with pytest.raises(UnsupportedModelError, match=message):
        ModelFolder.open(folder)


def test_both_pooling_config_formats_are_read(tmp_path):
    folder = copy_of_bundled(tmp_path)
    config = folder / "1_Pooling" / "config.json"
    config.write_text(json.dumps({"embedding_dimension": 384, "pooling_mode": ["cls", "mean"]}))
    assert ModelFolder.open(folder).pooling_modes == ("cls", "mean")
    assert ModelFolder.open(folder).dimension == 768
    config.write_text(json.dumps({"pooling_mode_cls_token": True, "pooling_mode_max_tokens": True}))
    assert ModelFolder.open(folder).pooling_modes == ("cls", "max")


def test_the_cli_says_it_in_one_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"embedding:\n  model_path: {tmp_path / 'nowhere'}\n")
    result = CliRunner().invoke(main, ["ask", "anything", "--config", str(config), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert "embedding.model_path" in result.output and "Traceback" not in result.output
