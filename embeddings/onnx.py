"""ONNX Runtime backend: the int8-quantized model, the `tokenizers` tokenizer and numpy pooling.

No torch at run time. The ONNX file is exported once from the sentence-transformers folder into
the user's cache (embeddings/onnx_export.py); the first use waits for it, later ones find it.

Threads (measured on 2 cores, rag/bench/throughput.py): a query is one text on one intra-op
thread; a batch is sorted by length, cut into sub-batches padded to their longest text, and the
sub-batches run on `workers` Python threads sharing one single-threaded session (ONNX Runtime
runs a 1-thread session on the calling thread and releases the GIL, so they run in parallel).
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from embeddings.folder import ModelFolder, UnsupportedModelError

QUANTIZATION = "int8"


def default_workers() -> int:
    """Parallel sub-batches for ingest: one per core, at most 2 (measured: README, Speed)."""
    return max(1, min(2, os.cpu_count() or 1))


class OnnxEmbedder:
    """Embeds with the int8 ONNX export of a sentence-transformers folder; loads on first use."""

    def __init__(self, model_path: str | Path = "", batch_size: int = 8,
                 cache_dir: str | Path | None = None, workers: int | None = None) -> None:
        self.folder = ModelFolder.open(model_path)  # a bad folder fails here, before any export
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.workers = workers or default_workers()
        self.model_file: Path | None = None  # the ONNX file in use, once loaded
        self._tokenizer_path: Path | None = self.folder.tokenizer_file
        self._session = None
        self._tokenizer = None
        self._counting_tokenizer = None
        self._pool: ThreadPoolExecutor | None = None
        self._loading = threading.Lock()  # a UI warms up in one thread while another may ask

    @property
    def name(self) -> str:
        return f"{self.folder.name} (onnx {QUANTIZATION})"

    @property
    def dimension(self) -> int:
        return self.folder.dimension

    @property
    def max_tokens(self) -> int:
        return self.folder.max_tokens

    def count_tokens(self, text: str) -> int:
        if self._counting_tokenizer is None:
            tokenizer = self._load_tokenizer(truncate=False)
            self._counting_tokenizer = tokenizer
        return len(self._counting_tokenizer.encode(self._prepare(text)).ids)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalize(self._pooled(texts, spans=None))

    def embed_spans(self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]]) -> list[np.ndarray]:
        """Vectors of character spans of each text, pooled from the tokens of one pass over the text.

        `spans[i]` lists (start, end) character offsets into `texts[i]`; the result's i-th array has
        one unit row per span (a zero row when the span lies past the model's window). Each is the
        mean of the span's token vectors, which see the whole text (so they are not what embedding
        the span alone gives).
        """
        return self.embed_with_spans(texts, spans)[1]

    def embed_with_spans(self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]]
                         ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`embed(texts)` and `embed_spans(texts, spans)` from the same single model pass: ingest
        stores every passage's sentence vectors at no extra model cost."""
        if len(spans) != len(texts):
            raise ValueError("give one list of spans per text")
        if self.folder.pooling_modes != ("mean",):
            raise UnsupportedModelError(f"{self.folder.name}: span vectors need mean pooling")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        pooled, per_text = self._pooled(texts, spans=spans)
        return _normalize(pooled), [_normalize(v) for v in per_text]

    def load(self) -> None:
        """Export (first time only) and open the model; any thread, once."""
        if self._session is not None:
            return
        with self._loading:
            if self._session is not None:
                return
            from embeddings.onnx_export import ensure_exported

            onnx_path, tokenizer_path = ensure_exported(self.folder, self.cache_dir)
            self._tokenizer_path = tokenizer_path
            self._tokenizer = self._load_tokenizer(truncate=True)
            try:
                session = _session(onnx_path)
            except Exception as exc:  # onnxruntime's errors have no common public base
                # A damaged cache file (edited, or a disk fault): make it again, once.
                print(f"rag: the cached model {onnx_path} is unreadable ({type(exc).__name__}); "
                      "making it again", file=sys.stderr, flush=True)
                onnx_path.unlink(missing_ok=True)
                onnx_path, _ = ensure_exported(self.folder, self.cache_dir)
                session = _session(onnx_path)
            self._session = session
            self._input_names = {i.name for i in self._session.get_inputs()}
            self._output_name = self._session.get_outputs()[0].name
            self.model_file = onnx_path

    # -- internals ---------------------------------------------------------------------------

    def _load_tokenizer(self, truncate: bool):
        from tokenizers import Tokenizer

        path = self._tokenizer_path
        if path is None:  # the folder has no tokenizer.json: the export writes one
            self.load()
            path = self._tokenizer_path
        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_padding()  # tokenizer.json files often pin a fixed padding and length
        if truncate:
            tokenizer.enable_truncation(self.max_tokens)
        else:
            tokenizer.no_truncation()
        return tokenizer

    def _prepare(self, text: str) -> str:
        # As sentence-transformers does: strip, and lower-case when the folder says so.
        text = str(text).strip()
        return text.lower() if self.folder.do_lower_case else text

    def _pooled(self, texts: list[str], spans):
        """Un-normalised pooled vectors: one row per text; with `spans`, also one array per
        text's spans (a tuple of both)."""
        self.load()
        prepared = [self._prepare(t) for t in texts]
        encodings = self._tokenizer.encode_batch(prepared) if len(texts) > 1 else [self._tokenizer.encode(prepared[0])]
        # By length (padding to the longest of a sub-batch wastes little), then by text, so that
        # the sub-batches, and with them the vectors, do not depend on the order of `texts`.
        order = sorted(range(len(texts)), key=lambda i: (len(encodings[i].ids), prepared[i]))
        batches = [order[s:s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        shifts = [len(t) - len(t.lstrip()) for t in texts]  # offsets are into the stripped text

        def run(batch: list[int]):
            encs = [encodings[i] for i in batch]
            masks = None if spans is None else [
                _span_masks(encodings[i], [(a - shifts[i], b - shifts[i]) for a, b in spans[i]]) for i in batch]
            return batch, self._run_batch(encs, masks)

        if len(batches) == 1 or self.workers == 1:
            results = [run(b) for b in batches]
        else:
            results = list(self._executor().map(run, batches))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if spans is None:
            for batch, vectors in results:
                out[batch] = vectors
            return out
        per_text: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        for batch, (vectors, arrays) in results:
            out[batch] = vectors
            for i, arr in zip(batch, arrays):
                per_text[i] = arr
        return out, per_text

    def _run_batch(self, encodings, span_masks):
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        types = np.zeros_like(ids)
        attention = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], types[row, :n], attention[row, :n] = e.ids, e.type_ids, 1
        feeds = {"input_ids": ids, "attention_mask": attention, "token_type_ids": types}
        tokens = self._session.run([self._output_name], {k: v for k, v in feeds.items() if k in self._input_names})[0]
        pooled = _pool(tokens, attention.astype(np.float32), self.folder.pooling_modes)
        if span_masks is None:
            return pooled
        arrays = []
        for row, masks in enumerate(span_masks):
            mask = np.zeros((len(masks), length), dtype=np.float32)
            for s, m in enumerate(masks):
                mask[s, :len(m)] = m
            h = np.broadcast_to(tokens[row], (len(masks), *tokens[row].shape))
            arrays.append(_pool(h, mask, self.folder.pooling_modes))
        return pooled, arrays

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._loading:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx-embed")
        return self._pool


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # parallelism comes from sub-batches on worker threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-wait CPU
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _span_masks(encoding, spans: list[tuple[int, int]]) -> list[np.ndarray]:
    """Per span, 1 for the (non-special) tokens that overlap it."""
    offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
    ordinary = np.asarray(encoding.special_tokens_mask) == 0
    return [((offsets[:, 0] < end) & (offsets[:, 1] > start) & ordinary).astype(np.float32)
            for start, end in spans]


def _pool(tokens: np.ndarray, mask: np.ndarray, modes: tuple[str, ...]) -> np.ndarray:
    """sentence-transformers' Pooling over token vectors (batch, tokens, hidden) with a 0/1 mask."""
    parts = []
    weights = mask[..., None]
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    for mode in modes:
        if mode == "cls":
            parts.append(tokens[:, 0])
        elif mode == "max":
            parts.append(np.where(weights > 0, tokens, -1e9).max(axis=1))
        elif mode == "mean":
            parts.append((tokens * weights).sum(axis=1) / counts)
        elif mode == "mean_sqrt_len_tokens":
            parts.append((tokens * weights).sum(axis=1) / np.sqrt(counts))
    return np.concatenate(parts, axis=1).astype(np.float32)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
