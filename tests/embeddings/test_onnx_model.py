"""The default backend, int8 all-MiniLM-L6-v2 on ONNX Runtime, held to the torch reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from embeddings import make_embedder
from embeddings.onnx import OnnxEmbedder
from embeddings.sentence_transformer import SentenceTransformerEmbedder
from rag.config import EmbeddingSettings
from tests.embeddings.corpora import rgb_texts, sample_passages

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    embedder = make_embedder(EmbeddingSettings())  # the default backend, as rag uses it
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.mark.parametrize("corpus", [sample_passages, rgb_texts], ids=["sample passages", "RGB snippets"])
def test_vectors_match_the_torch_reference(onnx, corpus):
    texts = corpus()
    reference = SentenceTransformerEmbedder().embed(texts)
    cosines = (onnx.embed(texts) * reference).sum(axis=1)
    assert len(texts) in (72, 969)
    assert cosines.min() >= 0.97, f"worst text: {texts[int(cosines.argmin())][:80]!r}"
    assert cosines.mean() >= 0.99


def test_the_int8_file_is_the_one_in_use(onnx):
    import onnx as onnx_lib

    onnx.embed(["load it"])
    graph = onnx_lib.load(str(onnx.model_file)).graph
    ops = {node.op_type for node in graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops
    int8_weights = [t for t in graph.initializer if t.data_type == onnx_lib.TensorProto.INT8]
    assert len(int8_weights) >= 36  # 6 layers x (Q, K, V, output, 2 feed-forward) matrices
    assert onnx.model_file.stat().st_size < 30_000_000  # the float32 export is 90 MB


def test_names_tell_backends_apart_so_the_index_refuses_a_mix(onnx):
    assert onnx.name == "all-MiniLM-L6-v2 (onnx int8)"
    assert SentenceTransformerEmbedder().name == "all-MiniLM-L6-v2"
    assert (onnx.dimension, onnx.max_tokens) == (384, 256)


def test_batches_are_sorted_by_length_and_come_back_in_order(onnx):
    texts = [f"Passage {i}: " + "the envoy briefed the council " * (i % 7 + 1) + "x" * i for i in range(40)]
    forward, backward = onnx.embed(texts), onnx.embed(texts[::-1])
    np.testing.assert_array_equal(forward, backward[::-1])  # same sub-batches whatever the order
    single = np.vstack([onnx.embed([t]) for t in texts[:5]])
    assert ((single * forward[:5]).sum(axis=1) > 0.98).all()  # row i is text i's vector


def test_count_tokens_matches_the_reference_tokenizer(onnx):
    reference = SentenceTransformerEmbedder()
    texts = sample_passages()[:10] + ["  Sadr's itikaf — cancelled!  ", "word " * 400]
    assert [onnx.count_tokens(t) for t in texts] == [reference.count_tokens(t) for t in texts]


def test_threads_asking_during_the_lazy_load_share_one_session():
    embedder = OnnxEmbedder()  # not loaded yet
    results, sessions = [None] * 4, set()

    def ask(i):
        results[i] = embedder.embed(["why did Sadr cancel his itikaf?"])
        sessions.add(id(embedder._session))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sessions) == 1
    for vectors in results[1:]:
        np.testing.assert_array_equal(vectors, results[0])


def test_span_vectors_come_from_one_pass_over_the_text(onnx):
    text = "Muqtada al-Sadr cancelled his itikaf. The Security Council met in New York."
    split = text.index("The Security")
    spans = onnx.embed_spans([text], [[(0, split - 1), (split, len(text)), (len(text) + 5, len(text) + 9)]])[0]
    sentences = onnx.embed(["Muqtada al-Sadr cancelled his itikaf.", "The Security Council met in New York."])
    similarity = spans[:2] @ sentences.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
    assert np.allclose(np.linalg.norm(spans[:2], axis=1), 1.0) and not spans[2].any()  # no tokens there
