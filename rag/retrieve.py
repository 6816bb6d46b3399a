"""Hybrid retrieval: dense (Chroma, e5) and lexical (BM25), merged by weighted reciprocal rank fusion
(or by a weighted sum of their scaled scores)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rag.config import RetrievalSettings
from rag.embeddings import E5Embeddings
from rag.store import Store
from rag.text import content_words, terms_with_acronyms


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the ranks that made it."""

    chunk_id: str
    text: str
    metadata: dict
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_sim: float = 0.0


class Retriever:
    """Searches one store; the BM25 index is built from the store and rebuilt when it changes."""

    def __init__(self, store: Store, embedder: E5Embeddings, settings: RetrievalSettings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._bm25 = None
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._metas: list[dict] = []
        self._row: dict[str, int] = {}
        self._indexed_count = -1

    def _ensure_index(self) -> None:
        count = self.store.count()
        if count == self._indexed_count:
            return
        import bm25s

        ids, texts, metas = [], [], []
        for c in self.store.iter_chunks():
            ids.append(c.chunk_id)
            texts.append(c.text)
            metas.append(c.metadata)
        corpus = [content_words(f"{m.get('title', '')} {t}") or [""] for t, m in zip(texts, metas, strict=True)]
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        self._bm25, self._ids, self._texts, self._metas = bm25, ids, texts, metas
        self._row = {cid: i for i, cid in enumerate(ids)}
        self._indexed_count = count

    def bm25_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best `k` chunks sharing a word with the query."""
        # A question naming a body in full ("Shanghai Cooperation Organisation") also finds the chunks that
        # call it by its initials ("SCO"). Only queries get them: in the index, the initials of every long
        # run of capitalised words matched by chance more often than they helped (FacQA retrieval).
        tokens = [t for t in terms_with_acronyms(query) if t in self._bm25.vocab_dict] if self._bm25 else []
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def search(self, query: str, lang: str = "id", k: int | None = None, translation: str = "") -> list[Hit]:
        """The `k` best chunks for `query` (a question in language `lang`), best first.

        `translation` is the question in the articles' language (Indonesian): it is searched too,
        densely and by BM25, in place of BM25 on the question's own words.
        """
        s = self.settings
        k = k or (s.top_k_en if lang == "en" else s.top_k)
        w_dense, w_bm25 = (s.dense_weight_en, s.bm25_weight_en) if lang == "en" else (
            s.dense_weight_id, s.bm25_weight_id)
        with self._lock:
            self._ensure_index()
            if not self._ids:
                return []
            n = min(s.candidates, len(self._ids))
            ranked = [(w_dense, self.store.dense_search(self.embedder.embed_query(query), n), True)]
            if translation:
                ranked.append((s.dense_weight_id, self.store.dense_search(self.embedder.embed_query(translation), n),
                               True))
                ranked.append((s.bm25_weight_id, self.bm25_search(translation, n), False))
            else:
                ranked.append((w_bm25, self.bm25_search(query, n), False))
        fused: dict[str, Hit] = {}
        # Scaled scores sum to at most 1; rank fusion keeps its usual scale.
        total = (sum(weight for weight, results, _ in ranked if results) or 1.0) if s.fusion == "convex" else 1.0
        for weight, results, dense in ranked:
            contributions = _convex(results) if s.fusion == "convex" else _rrf(results, s.rrf_k)
            for rank, ((cid, value), part) in enumerate(zip(results, contributions, strict=True), 1):
                hit = fused.setdefault(cid, self._hit(cid))
                hit.score += weight * part / total
                if dense:
                    hit.dense_rank = min(rank, hit.dense_rank or rank)
                    hit.dense_sim = max(value, hit.dense_sim)
                else:
                    hit.bm25_rank = rank
        return sorted(fused.values(), key=lambda h: -h.score)[:k]

    def _hit(self, cid: str) -> Hit:
        i = self._row[cid]
        return Hit(cid, self._texts[i], self._metas[i], 0.0)

    def chunk_count(self) -> int:
        """Chunks in the index (after bringing it up to date)."""
        with self._lock:
            self._ensure_index()
            return len(self._ids)


def _convex(results: list[tuple[str, float]]) -> list[float]:
    """Each result's score scaled to 0..1 between the weakest and the strongest candidate of its list."""
    if not results:
        return []
    values = [v for _, v in results]
    lo, hi = min(values), max(values)
    return [(v - lo) / (hi - lo) if hi > lo else 1.0 for v in values]


def _rrf(results: list[tuple[str, float]], k: int) -> list[float]:
    """Reciprocal rank fusion: 1 / (k + rank), whatever the scores."""
    return [1.0 / (k + rank) for rank in range(1, len(results) + 1)]
