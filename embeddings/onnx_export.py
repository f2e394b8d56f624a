"""Make the int8 ONNX file of a sentence-transformers folder, once, into the user's cache folder.

The file is keyed by the folder's weights (SHA-256) and the export settings, so another model or
another export recipe gets its own file. The export runs in a child process (`python -m
embeddings.onnx_export`): torch is imported there and never in the process that answers
questions. It writes to a temporary file renamed into place, under a file lock, so two processes
never export at once and a crash never leaves half a file.

Recipe (measured on all-MiniLM-L6-v2, 2 cores): the TorchScript exporter with eager attention,
then `quantize_dynamic(per_channel=True, reduce_range=True)`: cosine to the torch vectors
mean 0.992, min 0.983. The default quantize_dynamic settings give 0.94: do not use them.
Fusing with onnxruntime.transformers.optimizer first made it slower (QAttention), so we do not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from embeddings.folder import ModelFolder
from rag.config import default_cache_dir

# Part of every cache key: change any value (or VERSION) and every model is exported again.
EXPORT_SETTINGS = {"version": 1, "exporter": "torchscript", "opset": 17, "attention": "eager",
                   "quantization": {"method": "dynamic", "weight_type": "QInt8",
                                    "per_channel": True, "reduce_range": True}}
OUTPUT_NAME = "token_embeddings"


class ExportError(RuntimeError):
    """The ONNX export of the model folder failed; the message carries the exporter's last words."""


def cache_key(folder: ModelFolder, cache_dir: Path) -> str:
    """16 hex digits naming this folder's weights and config under the current export settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps(EXPORT_SETTINGS, sort_keys=True).encode())
    digest.update(_file_sha256(folder.path / "config.json", cache_dir).encode())
    digest.update(_file_sha256(folder.weights, cache_dir).encode())
    return digest.hexdigest()[:16]


def exported_paths(folder: ModelFolder, cache_dir: Path) -> tuple[Path, Path]:
    """(ONNX file, tokenizer file) for this folder; neither need exist yet."""
    stem = cache_dir / "onnx" / f"{_safe(folder.name)}-{cache_key(folder, cache_dir)}"
    tokenizer = folder.tokenizer_file or stem.with_name(stem.name + ".tokenizer.json")
    return stem.with_name(stem.name + ".int8.onnx"), tokenizer


def ensure_exported(folder: ModelFolder, cache_dir: Path | None = None) -> tuple[Path, Path]:
    """The cached int8 ONNX file (and tokenizer file) of `folder`, exported first if missing."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    onnx_path, tokenizer_path = exported_paths(folder, cache_dir)
    if onnx_path.is_file() and tokenizer_path.is_file():
        return onnx_path, tokenizer_path
    from filelock import FileLock

    try:
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(onnx_path) + ".lock"):
            if onnx_path.is_file() and tokenizer_path.is_file():  # another process exported meanwhile
                return onnx_path, tokenizer_path
            print(f"rag: making the int8 ONNX version of the embedding model {folder.name} "
                  f"(once, about 10 s) into {onnx_path.parent}", file=sys.stderr, flush=True)
            _export_in_child(folder, onnx_path, tokenizer_path)
    except OSError as exc:
        raise ExportError(f"cannot write the model cache {onnx_path.parent} ({exc.strerror or exc}): "
                          "set RAG_NEWS_CACHE to a writable folder") from exc
    return onnx_path, tokenizer_path


def _export_in_child(folder: ModelFolder, onnx_path: Path, tokenizer_path: Path) -> None:
    tmp_onnx = onnx_path.with_name(f".{onnx_path.name}.{os.getpid()}.tmp")
    tmp_tokenizer = tokenizer_path.with_name(f".{tokenizer_path.name}.{os.getpid()}.tmp")
    command = [sys.executable, "-m", "embeddings.onnx_export", str(folder.path), str(tmp_onnx)]
    if folder.tokenizer_file is None:
        command += ["--tokenizer", str(tmp_tokenizer)]
    from rag.offline import OFFLINE_ENVIRONMENT

    env = {**os.environ, **OFFLINE_ENVIRONMENT, "PYTHONWARNINGS": "ignore"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              cwd=Path(__file__).resolve().parent.parent)
        if done.returncode != 0 or not tmp_onnx.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ExportError(f"could not export {folder.path} to ONNX ({last}); "
                              "use embedding.backend: sentence-transformers for this model")
        if folder.tokenizer_file is None:
            os.replace(tmp_tokenizer, tokenizer_path)
        os.replace(tmp_onnx, onnx_path)
    finally:
        for tmp in (tmp_onnx, tmp_tokenizer):
            tmp.unlink(missing_ok=True)


def export_quantized(model_dir: Path, out: Path, tokenizer_out: Path | None = None) -> None:
    """Export the folder's transformer (token embeddings out) to ONNX and int8-quantize it to `out`.

    Imports torch and transformers: run it in a child process (see `ensure_exported`).
    """
    import inspect

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager",
                                      local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), use_fast=True, local_files_only=True)
    if tokenizer_out is not None:
        if tokenizer.vocab_size < 100:  # transformers makes an empty tokenizer rather than fail
            raise ExportError(f"{model_dir} has no tokenizer vocabulary (tokenizer.json or vocab.txt)")
        if not getattr(tokenizer, "is_fast", False):
            raise ExportError(f"{model_dir} has no fast tokenizer (tokenizer.json)")
        tokenizer.backend_tokenizer.save(str(tokenizer_out))
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
             if n in accepted and (n != "token_type_ids" or n in tokenizer.model_input_names)]
    sample = tokenizer(["a short sentence", "a somewhat longer sentence to pad the batch with"],
                       padding=True, return_tensors="pt")

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    dynamic_axes = {n: {0: "batch", 1: "tokens"} for n in [*names, OUTPUT_NAME]}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(TokenEmbeddings(), tuple(sample[n] for n in names), str(fp32),
                              dynamo=False, input_names=names, output_names=[OUTPUT_NAME],
                              dynamic_axes=dynamic_axes, opset_version=EXPORT_SETTINGS["opset"])
        q = EXPORT_SETTINGS["quantization"]
        quantize_dynamic(fp32, out, per_channel=q["per_channel"], reduce_range=q["reduce_range"],
                         weight_type=QuantType.QInt8)


def _file_sha256(file: Path, cache_dir: Path) -> str:
    """SHA-256 of a file, remembered by (path, size, mtime) so a cold start does not re-read 90 MB."""
    stat = file.stat()
    memo_file = cache_dir / "onnx" / "digests.json"
    try:
        memo = json.loads(memo_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(file.resolve()))
    if isinstance(entry, dict) and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with open(file, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    memo[str(file.resolve())] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.hexdigest()}
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_file.with_name(f".{memo_file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo, indent=1), encoding="utf-8")
        os.replace(tmp, memo_file)
    except OSError:
        pass  # a read-only cache only costs the re-hash next time
    return digest.hexdigest()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "model"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export a sentence-transformers folder to int8 ONNX.")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tokenizer", type=Path, default=None, help="also write tokenizer.json here")
    args = parser.parse_args(argv)
    try:
        export_quantized(args.model_dir, args.out, args.tokenizer)
    except Exception as exc:  # the parent shows the last line of stderr
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
