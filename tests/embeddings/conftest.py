"""Fixtures: a tiny random BERT saved as a sentence-transformers folder (fast exports), and the
texts of the bundled corpora."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from embeddings.folder import bundled_model_path

TINY_HIDDEN = 32


def make_tiny_model(folder: Path, pooling: str = "cls", seed: int = 0) -> Path:
    """A 2-layer, 32-wide BERT with the bundled tokenizer, random weights, saved with
    sentence-transformers (Transformer → Pooling → Normalize) into `folder`."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import BertConfig, BertModel

    hf = folder.parent / f".{folder.name}-hf"
    hf.mkdir(parents=True)
    torch.manual_seed(seed)
    BertModel(BertConfig(vocab_size=30522, hidden_size=TINY_HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=128)).save_pretrained(hf)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy2(bundled_model_path() / name, hf / name)
    modules = [models.Transformer(str(hf), max_seq_length=64), models.Pooling(TINY_HIDDEN, pooling_mode=pooling),
               models.Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(folder))
    shutil.rmtree(hf)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny CLS-pooling sentence-transformers folder (exports in a second or two)."""
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-bert")
