"""Scoring rules of the eval spec on small hand-made prediction files."""

import json

import pytest

from rag.errors import KabarError
from rag.evaluate import GoldItem, is_correct, load_gold, run_eval, score


def _pred(answer, abstained=False, cites=(), contexts=("c1",)):
    return {"answer": answer, "abstained": abstained,
            "citations": [{"n": n, "chunk_id": c, "source": "d1"} for n, c in cites],
            "contexts": [{"rank": i + 1, "chunk_id": c} for i, c in enumerate(contexts)]}


def test_alias_match_is_whole_word_after_normalising():
    item = GoldItem("q", "?", ["31 Agustus"], ["d1"], True)
    assert is_correct(item, _pred("Pada 31 agustus [1]."))
    assert is_correct(item, _pred("pada 31-Agustus"))  # punctuation is not a word
    assert not is_correct(item, _pred("pada 131 Agustus"))
    assert not is_correct(item, _pred("31 Agustus", abstained=True))
    assert is_correct(GoldItem("q", "?", ["Café"], ["d1"], True), _pred("di cafe itu"))


def test_answers_all_and_unanswerable():
    both = GoldItem("q", "?", ["Tianjin", "Beijing"], ["d1"], True, answers_all=True)
    assert is_correct(both, _pred("Tianjin dan Beijing"))
    assert not is_correct(both, _pred("Tianjin saja"))
    none = GoldItem("q", "?", [], [], False)
    assert is_correct(none, _pred("Artikel tidak menyebutkan.", abstained=True))
    assert not is_correct(none, _pred("Rp 5 juta"))
    assert not is_correct(none, {**_pred("x", abstained=True), "error": "boom"})


def test_score_on_a_known_file():
    items = [GoldItem("a", "?", ["X"], ["d1"], True), GoldItem("b", "?", ["Y"], ["d1"], True),
             GoldItem("c", "?", [], [], False), GoldItem("d", "?", [], [], False)]
    preds = {"a": _pred("X [1]", cites=[(1, "c1")]), "b": _pred("", abstained=True),
             "c": _pred("no", abstained=True), "d": _pred("Z [2]", cites=[(2, "zz")])}
    m = score(items, preds)
    assert m["accuracy"] == 0.5
    assert m["answerable_accuracy"] == 0.5 and m["abstention_accuracy"] == 0.5
    assert m["false_abstention_rate"] == 0.5
    assert m["citation_validity"] == 0.5  # d cites a chunk outside its contexts
    assert m["citation_hit"] == 1.0


def test_load_gold_errors_name_the_line(tmp_path):
    f = tmp_path / "g.jsonl"
    f.write_text(json.dumps({"id": "1", "question": "q", "answers": [], "sources": [], "answerable": False})
                 + "\n{broken\n")
    with pytest.raises(KabarError, match=":2:"):
        load_gold(f)


def test_a_failing_question_gets_an_error_line_and_the_run_goes_on(tmp_path):
    items = [GoldItem("a", "boom", [], [], False), GoldItem("b", "fine", [], [], False)]

    def ask(q):
        if q == "boom":
            raise RuntimeError("model crashed")
        return {"question": q, "answer": "x", "abstained": True, "citations": [], "contexts": [],
                "latency_s": 0.1, "ttft_s": 0.05, "tokens_out": 1}

    out = tmp_path / "p.jsonl"
    preds = run_eval(items, ask, out)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert "model crashed" in lines[0]["error"] and "error" not in lines[1]
    assert preds["b"]["abstained"] is True
