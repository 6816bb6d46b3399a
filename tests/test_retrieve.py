"""Fusion of the dense and BM25 rankings (rag.retrieve)."""

from types import SimpleNamespace

import pytest

from rag.config import RetrievalSettings
from rag.retrieve import Retriever, _convex, _rrf


class _Store:
    """Four chunks; the dense ranking is fixed by the test."""

    def __init__(self, dense):
        self.dense = dense

    def count(self):
        return 4

    def iter_chunks(self):
        for cid in ("a", "b", "c", "d"):
            yield SimpleNamespace(chunk_id=cid, text=f"teks {cid}", metadata={"source": cid})

    def dense_search(self, vec, k):
        return self.dense[:k]


class _Embedder:
    def embed_query(self, text):
        return [1.0]


def _retriever(fusion, dense, bm25):
    r = Retriever(_Store(dense), _Embedder(), RetrievalSettings(fusion=fusion, top_k=4))
    r.bm25_search = lambda query, k: bm25[:k]
    return r


# "a" is far ahead of the rest by meaning and nearly level with "b" by words; "b" leads by words only.
DENSE = [("a", 0.95), ("b", 0.80), ("c", 0.79), ("d", 0.60)]
BM25 = [("b", 10.0), ("c", 9.9), ("a", 9.8), ("d", 2.0)]


def test_convex_fusion_counts_how_far_ahead_a_chunk_is():
    hits = _retriever("convex", DENSE, BM25).search("pertanyaan")
    assert [h.chunk_id for h in hits][0] == "a"
    assert hits[0].dense_rank == 1 and hits[0].bm25_rank == 3
    assert 0 <= hits[-1].score <= hits[0].score <= 1


def test_rank_fusion_sees_only_ranks():
    hits = _retriever("rrf", DENSE, BM25).search("pertanyaan")
    assert [h.chunk_id for h in hits][0] == "b"


def test_scaling_of_one_ranking():
    assert _convex([("x", 4.0), ("y", 3.0), ("z", 2.0)]) == pytest.approx([1.0, 0.5, 0.0])
    assert _convex([("x", 0.7)]) == [1.0]
    assert _convex([]) == []
    assert _rrf([("x", 4.0), ("y", 3.0)], 60) == pytest.approx([1 / 61, 1 / 62])


def test_english_questions_take_their_own_number_of_chunks():
    r = Retriever(_Store(DENSE), _Embedder(), RetrievalSettings(top_k=2, top_k_en=3))
    r.bm25_search = lambda query, k: []
    assert len(r.search("pertanyaan", "id")) == 2
    assert len(r.search("question", "en")) == 3
    assert len(r.search("question", "en", k=1)) == 1  # an explicit k still decides
