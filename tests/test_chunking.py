"""Chunking and stable chunk ids."""

from rag.chunking import chunk_document, chunk_id, make_splitter
from rag.documents import Document


def _doc(text: str, doc_id: str = "a.txt") -> Document:
    return Document(doc_id, text, "Judul", "Outlet", "2024-01-01", "/x/a.txt", "fp")


def test_chunks_end_on_sentences_and_overlap():
    text = " ".join(f"Kalimat nomor {i} berisi beberapa kata tentang berita hari ini." for i in range(30))
    chunks = chunk_document(_doc(text), make_splitter(200, 80), 10, "fp")
    assert len(chunks) > 5
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    # overlap: the start of each chunk repeats text from the previous one
    assert any(chunks[1].text.split(". ")[0] in chunks[0].text for _ in [0])


def test_chunk_ids_are_stable_and_content_derived():
    text = "Satu dua tiga. " * 40
    splitter = make_splitter(120, 30)
    a = [c.chunk_id for c in chunk_document(_doc(text), splitter, 10, "fp")]
    b = [c.chunk_id for c in chunk_document(_doc(text), splitter, 10, "fp")]
    assert a == b
    assert len(set(a)) == len(a)  # repeated text still gets distinct ids
    assert chunk_id("a.txt", "x") != chunk_id("b.txt", "x")
    assert chunk_id("a.txt", "x") == chunk_id("a.txt", "x")
    assert all(i.startswith("a.txt#") for i in a)


def test_short_fragments_are_dropped_and_metadata_attached():
    chunks = chunk_document(_doc("Ini kalimat yang cukup panjang untuk disimpan sebagai potongan.\n\nOk."),
                            make_splitter(64, 0), 20, "fp")
    assert [c.text for c in chunks] == ["Ini kalimat yang cukup panjang untuk disimpan sebagai potongan."]
    assert chunks[0].metadata["source"] == "a.txt"
    assert chunks[0].metadata["title"] == "Judul"
