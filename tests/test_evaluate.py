"""Scoring rules of the eval spec on small hand-made prediction files."""

import json

import pytest

from rag.errors import KabarError
from rag.evaluate import GoldItem, is_correct, load_gold, percentile, run_eval, score, score_slices, token_f1


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


@pytest.mark.parametrize("record, problem", [
    ({"id": "1", "question": "Siapa?", "answers": "Putin", "answerable": True}, "must be a list of strings"),
    ({"id": "1", "question": "Siapa?", "answers": [], "answerable": True}, "answerable question without answers"),
    ({"id": "1", "question": " ", "answers": ["Putin"], "answerable": True}, "the question is empty"),
])
def test_a_gold_line_that_could_never_be_scored_is_an_error(tmp_path, record, problem):
    # "answers": "Putin" read as a list would be the letters P, u, t, i, n (every answer judged right).
    f = tmp_path / "g.jsonl"
    f.write_text(json.dumps(record) + "\n")
    with pytest.raises(KabarError, match=problem):
        load_gold(f)


def test_a_gold_line_without_answerable_is_answerable_when_it_gives_answers(tmp_path):
    f = tmp_path / "g.jsonl"
    f.write_text(json.dumps({"id": "1", "question": "Siapa?", "answers": ["Putin"], "sources": []}) + "\n"
                 + json.dumps({"id": "2", "question": "Kapan?", "answers": [], "sources": []}) + "\n")
    assert [g.answerable for g in load_gold(f)] == [True, False]


def test_a_number_among_the_answers_is_taken_as_written(tmp_path):
    f = tmp_path / "g.jsonl"
    f.write_text(json.dumps({"id": "1", "question": "Tahun?", "answers": [2015, "2015"], "answerable": True}) + "\n")
    assert load_gold(f)[0].answers == ["2015", "2015"]


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


# --- token F1, citation precision, retrieval recall / MRR, latency percentiles, slices -------------------

def _full(answer, sources_cited=(), contexts=(), abstained=False, latency=1.0, ttft=0.5, tokens=5):
    return {"answer": answer, "abstained": abstained,
            "citations": [{"n": n, "source": s, "chunk_id": f"{s}#0"} for n, s in enumerate(sources_cited, 1)],
            "contexts": [{"rank": r, "source": s, "chunk_id": f"{s}#0"} for r, s in enumerate(contexts, 1)],
            "latency_s": latency, "ttft_s": ttft, "tokens_out": tokens}


def _known_run():
    items = [GoldItem("a", "?", ["Joko Widodo"], ["d1"], True),
             GoldItem("b", "?", ["31 Agustus 2025"], ["d2"], True, lang="en"),
             GoldItem("c", "?", [], [], False),
             GoldItem("d", "?", [], [], False, lang="en"),
             GoldItem("e", "?", ["X"], ["d5"], True)]
    preds = {
        "a": _full("Presiden Joko Widodo [1][2]", ["d1", "d9"], ["d9", "d1"], latency=2.0, ttft=1.0, tokens=10),
        "b": _full("Agustus [1]", ["d2"], ["d2"], latency=4.0, ttft=2.0, tokens=30),
        "c": _full("Tidak ada.", [], ["d1"], abstained=True, latency=1.0, ttft=0.5, tokens=5),
        "d": _full("Rp 5 juta [1]", ["d1"], ["d1"], latency=3.0, ttft=1.0, tokens=4),
        "e": _full("Tidak ada.", [], ["d1"], abstained=True, latency=1.0, ttft=1.0, tokens=0),
    }
    return items, preds


def test_token_f1_and_percentile():
    assert token_f1("Presiden Joko Widodo [1]", "joko widodo") == pytest.approx(0.8)
    assert token_f1("Agustus", "31 Agustus 2025") == pytest.approx(0.5)
    assert token_f1("abc", "xyz") == 0.0 and token_f1("", "x") == 0.0
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7], 95) == 7 and percentile([], 50) is None


def test_new_metrics_on_a_known_run():
    items, preds = _known_run()
    m = score(items, preds)
    assert m["f1"] == pytest.approx((0.8 + 0.5 + 0.0) / 3)  # abstained answerable counts 0
    assert m["citation_precision"] == pytest.approx(2 / 4)  # d1 ok, d9 no, d2 ok, d1 on unanswerable no
    assert m["retrieval_recall"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["latency_p50"] == 2.0 and m["latency_p95"] == pytest.approx(3.8)
    assert m["ttft_p50"] == 1.0 and m["ttft_p95"] == pytest.approx(1.8)
    assert m["tokens_per_s"] == pytest.approx(49 / 5.5)  # e generated nothing: left out
    assert m["accuracy"] == pytest.approx(2 / 5)  # a and c


def test_score_slices_by_language_and_answerability():
    items, preds = _known_run()
    s = score_slices(items, preds)
    assert list(s) == ["all", "lang=id", "lang=en", "answerable", "unanswerable"]
    assert [s[k]["questions"] for k in s] == [5, 3, 2, 3, 2]
    assert s["lang=id"]["accuracy"] == pytest.approx(2 / 3) and s["lang=en"]["accuracy"] == 0.0
    assert s["lang=id"]["mrr"] == pytest.approx(0.25) and s["lang=en"]["mrr"] == 1.0
    assert s["lang=id"]["f1"] == pytest.approx(0.4)
    assert s["unanswerable"]["f1"] is None and s["unanswerable"]["retrieval_recall"] is None
    assert s["unanswerable"]["citation_precision"] == 0.0
    assert s["answerable"]["citation_precision"] == pytest.approx(2 / 3)
    only_id = score_slices(items[:1], preds)
    assert list(only_id) == ["all", "lang=id", "answerable"]  # empty slices are left out


def test_run_eval_keeps_finished_questions_on_ctrl_c(tmp_path):
    items = [GoldItem(x, x, [], [], False) for x in "abc"]

    def ask(q):
        if q == "c":
            raise KeyboardInterrupt
        return {"question": q, "answer": "", "abstained": True, "citations": [], "contexts": [],
                "latency_s": 0.1, "ttft_s": 0.0, "tokens_out": 0}

    out, preds = tmp_path / "p.jsonl", {}
    with pytest.raises(KeyboardInterrupt):
        run_eval(items, ask, out, preds=preds)
    assert list(preds) == ["a", "b"]
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "b"]
