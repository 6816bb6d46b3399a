"""Ingest into a real Chroma store on disk with the real embedder: incremental, safe with bad files."""

import json
import shutil

from rag.embeddings import get_embedder
from rag.ingest import ingest
from rag.store import Store
from tests.conftest import SEEDS


def _corpus(tmp_path, names=("000_c5a5360e97af4f8b.txt", "004_49bd237b7ccad95f.txt")):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in names:
        shutil.copy(SEEDS / n, folder / n)
    return folder


def test_reingest_is_idempotent_and_changes_replace_chunks(tmp_settings, tmp_path):
    folder = _corpus(tmp_path)
    first = ingest(tmp_settings, [folder], progress=False)
    assert first.documents == 2 and first.added > 0 and first.unchanged == 0
    store = Store(tmp_settings.data_path, get_embedder())
    ids_before = {c.chunk_id for c in store.iter_chunks()}
    assert len(ids_before) == first.added

    # Every chunk carries its story's first sentence (the answer checks read it with the chunk).
    ledes = {c.metadata["lede"] for c in store.iter_chunks() if c.metadata["source"].startswith("000_")}
    assert ledes == {"Jakarta — Presiden Rusia, Vladimir Putin, akan mengunjungi China untuk memperingati "
                     "kemenangan China atas Jepang di Perang Dunia II."}

    again = ingest(tmp_settings, [folder], progress=False)
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.added)
    assert {c.chunk_id for c in store.iter_chunks()} == ids_before

    path = folder / "004_49bd237b7ccad95f.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nKalimat baru yang ditambahkan ke akhir berita ini.\n",
                    encoding="utf-8")
    changed = ingest(tmp_settings, [folder], progress=False)
    assert changed.added >= 1 and changed.unchanged > 0
    docs = store.documents()
    assert set(docs) == {"000_c5a5360e97af4f8b.txt", "004_49bd237b7ccad95f.txt"}
    texts = " ".join(c.text for c in store.iter_chunks())
    assert "Kalimat baru yang ditambahkan" in texts
    assert store.count() == first.added + changed.added - changed.removed


def test_prune_drops_documents_whose_files_are_gone(tmp_settings, tmp_path):
    folder = _corpus(tmp_path)
    ingest(tmp_settings, [folder], progress=False)
    (folder / "000_c5a5360e97af4f8b.txt").unlink()
    kept = ingest(tmp_settings, [folder], progress=False)
    assert kept.removed == 0  # without --prune nothing is dropped
    pruned = ingest(tmp_settings, [folder], prune=True, progress=False)
    assert pruned.removed_documents == 1 and pruned.removed > 0
    assert set(Store(tmp_settings.data_path, get_embedder()).documents()) == {"004_49bd237b7ccad95f.txt"}


def test_bad_files_are_skipped_with_reasons_and_store_untouched(tmp_settings, tmp_path):
    folder = _corpus(tmp_path, names=("004_49bd237b7ccad95f.txt",))
    ingest(tmp_settings, [folder], progress=False)
    before = Store(tmp_settings.data_path, get_embedder()).count()
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 50)
    (folder / "latin1.txt").write_bytes("Berita caf\xe9".encode("latin-1"))
    (folder / "image.png").write_bytes(b"\x89PNG")
    summary = ingest(tmp_settings, [folder], progress=False)
    reasons = dict((p.rsplit("/", 1)[-1], r) for p, r in summary.skipped)
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "unsupported" in reasons["image.png"]
    assert Store(tmp_settings.data_path, get_embedder()).count() == before


def test_jsonl_html_and_markdown_corpora(tmp_settings, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "c.jsonl").write_text(
        json.dumps({"id": "p-1", "text": "Gunung Merapi meletus pada 26 Oktober 2010 di Yogyakarta.",
                    "title": "Merapi"}) + "\nnot json\n"
        + json.dumps({"id": "p-2", "text": "Candi Borobudur dibangun pada abad ke-9 oleh wangsa Syailendra."}) + "\n",
        encoding="utf-8")
    (folder / "a.html").write_text(
        "<html><head><title>x</title><script>var a=1;</script></head><body><h1>Banjir Jakarta</h1>"
        "<p>Banjir besar melanda Jakarta pada awal Januari 2020 setelah hujan deras semalaman.</p>"
        "<footer>Hak cipta</footer></body></html>", encoding="utf-8")
    (folder / "b.md").write_text("# Gempa Palu\n\nGempa bermagnitudo 7,4 mengguncang Palu pada 28 September 2018.\n",
                                 encoding="utf-8")
    summary = ingest(tmp_settings, [folder], progress=False)
    assert summary.documents == 4
    assert any("invalid JSON" in r for _, r in summary.skipped)
    docs = Store(tmp_settings.data_path, get_embedder()).documents()
    assert set(docs) == {"p-1", "p-2", "a.html", "b.md"}
    assert docs["a.html"]["title"] == "Banjir Jakarta"
    assert docs["b.md"]["title"] == "Gempa Palu"
    assert docs["p-1"]["title"] == "Merapi"
    texts = " ".join(c.text for c in Store(tmp_settings.data_path, get_embedder()).iter_chunks())
    assert "var a" not in texts and "Hak cipta" not in texts


def test_chroma_never_gets_its_default_embedding_model(tmp_settings, tmp_path):
    ingest(tmp_settings, [_corpus(tmp_path, names=("004_49bd237b7ccad95f.txt",))], progress=False)
    store = Store(tmp_settings.data_path, get_embedder())
    # No embedding function inside Chroma: it can never fetch its default ONNX model.
    assert store._collection._embedding_function is None
    meta = store._collection.metadata
    assert meta["embedder"] == get_embedder().name and meta["dim"] == 384


def test_small_documents_share_embedding_steps_and_land_whole(tmp_path):
    from rag.config import load_settings

    corpus = tmp_path / "passages.jsonl"
    towns = ["Bandung", "Medan", "Padang", "Ambon", "Kupang", "Manado", "Palu"]
    corpus.write_text("".join(
        json.dumps({"id": f"p-{i}", "text": f"Hujan deras melanda {town} pada hari ke-{i} bulan ini, kata petugas."})
        + "\n" for i, town in enumerate(towns)), encoding="utf-8")
    ids, opened = {}, {}
    for step in (3, 64):  # steps of three chunks from several documents, or all seven at once
        settings = load_settings(data_dir=str(tmp_path / f"d{step}"))
        settings.embedding.ingest_batch = step
        summary = ingest(settings, [corpus], progress=False)
        assert (summary.documents, summary.added) == (7, 7)
        store = Store(settings.data_path, get_embedder(settings.models.embedder, settings.embedding))
        ids[step], opened[step] = {c.chunk_id for c in store.iter_chunks()}, store
        assert set(store.documents()) == {f"p-{i}" for i in range(7)}
        assert ingest(settings, [corpus], progress=False).unchanged == 7
    assert ids[3] == ids[64]
    # Each vector went to its own chunk: a chunk embedded in a step of three is found by its text.
    hit = opened[3].dense_search(get_embedder().embed_query("Hujan deras melanda Ambon"), 1)
    assert hit[0][0].startswith("p-3#")
