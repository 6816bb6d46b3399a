"""Typed settings: `config.yaml`, overridden by `KABAR_*` environment variables, then by CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from rag.errors import KabarError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"
PROMPTS_DIR = PROJECT_ROOT / "prompts"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusSettings(_Section):
    paths: list[str] = ["seeds"]
    extensions: list[str] = [".txt", ".md", ".html", ".htm", ".jsonl"]
    max_file_mb: float = Field(20, gt=0)


class ModelSettings(_Section):
    llm_path: str = ""
    cache_dir: str = "~/.cache/kabar"
    embedder: str = "e5-onnx"


class EmbeddingSettings(_Section):
    int8: bool = True
    workers: int = Field(0, ge=0)
    batch_size: int = Field(1, ge=1, le=256)
    ingest_batch: int = Field(64, ge=1)
    cache_size: int = Field(2048, ge=0)


class LLMSettings(_Section):
    mode: Literal["embedded", "server"] = "embedded"
    server_url: str = Field("http://127.0.0.1:8080/v1", pattern=r"^https?://\S+$")
    server_model: str = Field("kabar", min_length=1)
    timeout_s: float = Field(120.0, gt=0)
    n_ctx: int = Field(2048, ge=512)
    n_threads: int = Field(0, ge=0)
    n_batch: int = Field(512, ge=8)
    rope_freq_base: float = Field(10000.0, ge=0)
    max_tokens: int = Field(80, ge=8, le=1024)
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int = 42
    warm_up: bool = True
    prefix_cache: bool = True
    weight_repacking: Literal["auto", "on", "off"] = "auto"


class StoreSettings(_Section):
    mode: Literal["embedded", "http"] = "embedded"
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8000, ge=1, le=65535)
    # Chroma's own rule for names: 3-512 characters of [a-zA-Z0-9._-], alphanumeric at both ends.
    collection: str = Field("kabar_chunks", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
    timeout_s: float = Field(30.0, gt=0)

    @property
    def url(self) -> str:
        """The Chroma server's base URL (http mode)."""
        return f"http://{self.host}:{self.port}"


class ChunkingSettings(_Section):
    chunk_size: int = Field(360, ge=50)
    chunk_overlap: int = Field(120, ge=0)
    min_chunk_chars: int = Field(40, ge=0)


class RetrievalSettings(_Section):
    top_k: int = Field(3, ge=1, le=20)
    top_k_en: int = Field(3, ge=1, le=20)
    candidates: int = Field(20, ge=1)
    fusion: Literal["rrf", "convex"] = "rrf"
    rrf_k: int = Field(60, ge=1)
    dense_weight_id: float = Field(1.0, ge=0)
    bm25_weight_id: float = Field(1.0, ge=0)
    dense_weight_en: float = Field(1.0, ge=0)
    bm25_weight_en: float = Field(0.5, ge=0)
    evidence_tokens: int = Field(160, ge=20)
    evidence_tokens_en: int = Field(160, ge=20)
    evidence_dense_weight: float = Field(1.0, ge=0)
    evidence_dense_weight_en: float = Field(2.0, ge=0)
    evidence_min_relative: float = Field(0.4, ge=0, le=1)
    translate_questions: bool = True
    translation_max_tokens: int = Field(48, ge=4)


class AnswerSettings(_Section):
    max_question_chars: int = Field(1000, ge=10)
    history_turns: int = Field(2, ge=0)
    min_grounding: float = Field(0.6, ge=0, le=1)
    min_question_coverage: float = Field(0.5, ge=0, le=1)
    retry_ungrounded: bool = True
    focused_retry: bool = True
    next_excerpts: bool = True
    next_excerpts_coverage: float = Field(0.8, ge=0, le=1)
    show_translation: bool = True
    spell_out_dates: bool = False


class TelegramSettings(_Section):
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    allowed_users: list[int] = []
    allowed_chats: list[int] = []
    rate_limit_per_minute: int = Field(6, ge=1)
    queue_size: int = Field(20, ge=1)
    edit_interval_s: float = Field(1.0, ge=0.1)
    flood_retries: int = Field(3, ge=0, le=10)


# The YAML layer of the settings being built (pydantic-settings builds sources per class, not per call).
_yaml_layer: dict[str, Any] = {}


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file; values are the lowest-priority layer after defaults."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]):
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    """Every tunable of Kabar. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="KABAR_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: str = "data"
    corpus: CorpusSettings = CorpusSettings()
    store: StoreSettings = StoreSettings()
    models: ModelSettings = ModelSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    llm: LLMSettings = LLMSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    telegram: TelegramSettings = TelegramSettings()

    # Not a setting: the folder relative paths are resolved against.
    base_dir: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls, _yaml_layer))

    def resolve(self, path: str) -> Path:
        """Absolute path for a config path: `~` expanded, relative ones against the config's folder."""
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)

    @property
    def cache_path(self) -> Path:
        return self.resolve(self.models.cache_dir)

    @property
    def corpus_paths(self) -> list[Path]:
        return [self.resolve(p) for p in self.corpus.paths]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KabarError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KabarError(f"cannot read config file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise KabarError(f"config file {path}: {problem}{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KabarError(f"config file {path}: expected a mapping of sections at the top level")
    return data


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    value = first.get("input")
    shown = "" if first["type"] in ("extra_forbidden", "missing") or isinstance(value, dict) else f" (got {value!r})"
    more = len(err.errors()) - 1
    tail = f"; and {more} more problem(s)" if more > 0 else ""
    return f"invalid setting {key}: {msg}{shown}{tail}"


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from `config` (default: $KABAR_CONFIG or the project's config.yaml).

    `overrides` are CLI-level values (highest priority), e.g. ``data_dir="/tmp/x"``;
    None values are ignored. Raises KabarError with a one-line message naming the bad key.
    """
    path = Path(config or os.environ.get("KABAR_CONFIG") or DEFAULT_CONFIG).expanduser().resolve()
    data = _read_yaml(path)
    data.pop("base_dir", None)
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    kwargs.setdefault("base_dir", str(path.parent))
    global _yaml_layer
    _yaml_layer = data
    try:
        return Settings(**kwargs)
    except ValidationError as exc:
        raise KabarError(_describe(exc)) from None
    finally:
        _yaml_layer = {}
