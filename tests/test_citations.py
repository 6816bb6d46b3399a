"""Citation parsing, validation and repair."""

from rag.citations import attribute, parse_markers, render, strip_markers
from rag.evaluate import citation_problems

SOURCES = {
    1: "KTT SCO sendiri akan berlangsung di Tianjin pada 31 Agustus hingga 1 September.",
    2: "Delegasi militer Rusia dipimpin Menteri Pertahanan Sergei Shoigu tiba di Korea Utara.",
}


def test_parse_markers_variants():
    assert parse_markers("a [1] b [2, 3] c [4;5]") == [1, 2, 3, 4, 5]
    assert parse_markers("tanpa sumber") == []
    assert strip_markers("Jawaban [1] di sini [2, 3].") == "Jawaban di sini."


def test_right_citation_is_kept():
    out = attribute("KTT di Tianjin pada 31 Agustus [1].", SOURCES)
    assert out[0].sources == [1]


def test_wrong_citation_is_repaired_to_the_matching_source():
    out = attribute("Delegasi dipimpin Sergei Shoigu [1].", SOURCES)
    assert out[0].sources == [2]


def test_citation_to_a_source_that_was_not_given_is_removed():
    out = attribute("Delegasi dipimpin Sergei Shoigu [7].", SOURCES)
    assert out[0].sources == [2]
    assert "[7]" not in render(out)


def test_unsupported_sentence_gets_no_citation():
    out = attribute("Harga tiketnya Rp 5 juta [1].", SOURCES)
    assert out[0].sources == []


def test_render_places_markers_before_final_punctuation():
    out = attribute("KTT di Tianjin [1]. Shoigu memimpin delegasi [2].", SOURCES)
    assert render(out) == "KTT di Tianjin [1]. Shoigu memimpin delegasi [2]."


def test_citation_problems_detects_broken_predictions():
    ctx = [{"rank": 1, "chunk_id": "c1"}]
    good = {"answer": "x [1]", "abstained": False, "citations": [{"n": 1, "chunk_id": "c1"}], "contexts": ctx}
    assert citation_problems(good) == []
    assert citation_problems({**good, "answer": "x [2]"})
    assert citation_problems({**good, "citations": [{"n": 1, "chunk_id": "zz"}]})
    assert citation_problems({**good, "abstained": True})


def test_an_initial_ends_no_sentence():
    from rag.text import split_sentences

    text = "Kerja sama dengan Klimaschutz e. V dimulai 2005. Michael J. Fox datang. Ia pulang pada 2. Lalu pergi."
    assert split_sentences(text) == ["Kerja sama dengan Klimaschutz e. V dimulai 2005.", "Michael J. Fox datang.",
                                     "Ia pulang pada 2.", "Lalu pergi."]
    sentences = attribute("Klimaschutz e. V [1].", {1: "Lembaga Klimaschutz e. V dari Jerman."})
    assert render(sentences) == "Klimaschutz e. V [1]."
