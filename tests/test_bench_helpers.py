"""The benchmark suite's pure helpers: percentiles, targets, and how synthetic store copies are made."""

import math

import numpy as np

from bench.common import Target, percentile
from bench.retrieval import copy_chunk, perturb_text, perturb_vectors
from rag.chunking import Chunk


def test_percentile_interpolates_and_handles_edges():
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.95) == 9.5
    assert percentile([7.0], 0.95) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_target_verdicts():
    assert Target(1.5, "<=", "s").met(1.2) is True
    assert Target(1.5, "<=", "s").met(1.6) is False
    assert Target(0.95, ">=").met(0.95) is True
    assert Target(0.95, ">=").met(float("nan")) is None
    assert str(Target(20, "<=", "ms")) == "≤ 20 ms"


def test_text_copies_are_distinct_deterministic_and_close():
    text = "Presiden Joko Widodo meresmikan bendungan baru di Jawa Tengah pada hari Senin."
    assert perturb_text(text, 0) == text
    copies = [perturb_text(text, c) for c in range(1, 6)]
    assert len(set(copies)) == 5
    assert copies == [perturb_text(text, c) for c in range(1, 6)]
    for c, copy in enumerate(copies, 1):
        assert copy.endswith(f"(salinan {c})")
        body = copy.rsplit(" (salinan", 1)[0].split()
        assert len(body) == len(text.split()) - 1  # one word dropped, the rest kept (two swapped)
        assert set(body) <= set(text.split()) and body != text.split()[: len(body)]


def test_vector_copies_stay_unit_length_and_near_the_original():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(4, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert perturb_vectors(v, 0) is v
    c1, c1_again, c2 = perturb_vectors(v, 1), perturb_vectors(v, 1), perturb_vectors(v, 2)
    assert np.allclose(np.linalg.norm(c1, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(c1, c1_again)
    assert not np.allclose(c1, c2)
    cosines = (v * c1).sum(axis=1)
    assert np.all(cosines > 0.95) and np.all(cosines < 0.999)


def test_copied_chunk_gets_its_own_id_and_source():
    chunk = Chunk("p-1#abc", "p-1", "Satu dua tiga empat lima.", 0, {"source": "p-1", "title": ""})
    copy = copy_chunk(chunk, 3)
    assert copy.chunk_id == "p-1#abc~3" and copy.metadata["source"] == "p-1~3" and copy.doc_id == "p-1~3"
    assert copy.text != chunk.text and chunk.metadata["source"] == "p-1"
    assert copy_chunk(chunk, 0) is chunk
