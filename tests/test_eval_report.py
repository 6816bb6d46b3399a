"""The Markdown report, the latency histogram and the fixed / broken / same comparison, on hand-made runs."""

import json

from click.testing import CliRunner

from rag.evaluate import GoldItem, score_slices
from rag.report import change, load_predictions, text_table, verdict, write_report


def _pred(answer, cited=(), abstained=False, latency=1.0):
    return {"answer": answer, "abstained": abstained,
            "citations": [{"n": n, "source": s, "chunk_id": f"{s}#0"} for n, s in enumerate(cited, 1)],
            "contexts": [{"rank": 1, "source": "d1", "chunk_id": "d1#0"}],
            "latency_s": latency, "ttft_s": latency / 2, "tokens_out": 3}


ITEMS = [GoldItem("ok1", "Siapa presidennya?", ["Joko Widodo"], ["d1"], True),
         GoldItem("bad", "Kapan | terjadi?", ["31 Agustus"], ["d1"], True),
         GoldItem("ok2", "Berapa harga tiket?", [], [], False),
         GoldItem("abs", "Siapa menterinya?", ["Sri Mulyani"], ["d1"], True)]
NEW = {"ok1": _pred("Joko Widodo [1]", ["d1"], latency=2.0), "bad": _pred("1 September [1]", ["d1"]),
       "ok2": _pred("Tidak ada.", abstained=True), "abs": _pred("Tidak ada.", abstained=True, latency=3.0)}
OLD = {"ok1": _pred("entah"), "bad": _pred("31 Agustus [1]", ["d1"]), "ok2": _pred("Tidak ada.", abstained=True)}


def test_verdicts_and_changes():
    assert [verdict(i, NEW[i.id]) for i in ITEMS] == ["correct", "wrong", "correct", "false abstention"]
    assert verdict(ITEMS[2], _pred("Rp 5")) == "should abstain"
    assert verdict(ITEMS[0], {**NEW["ok1"], "error": "boom"}) == "error"
    assert [change(i, NEW[i.id], OLD.get(i.id)) for i in ITEMS] == ["fixed", "broken", "same", "new"]
    assert verdict(ITEMS[0], NEW["ok1"], retrieval_only=True) == "retrieved"
    assert verdict(ITEMS[0], {**NEW["ok1"], "contexts": [{"source": "d7"}]}, retrieval_only=True) == "missed"


def test_report_has_metrics_failures_first_and_a_png(tmp_path):
    report = tmp_path / "r" / "report.md"
    report.parent.mkdir()
    png = write_report(report, ITEMS, NEW, score_slices(ITEMS, NEW), old=OLD)
    md = report.read_text()
    assert png == tmp_path / "r" / "report_latency.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert f"![latency histogram]({png.name})" in md
    assert "| metric | all | lang=id | answerable | unanswerable |" in md
    assert "| accuracy | 0.500 | 0.500 | 0.333 | 1.000 |" in md
    assert "1 fixed, 1 broken, 1 same, 1 new" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and line.split(" | ")[0][2:] in NEW]
    assert [r.split(" | ")[0][2:] for r in rows] == ["bad", "abs", "ok1", "ok2"]  # failures first, then order
    assert rows[0].endswith("| wrong | broken |") and rows[2].endswith("| correct | fixed |")
    assert "Kapan \\| terjadi?" in rows[0]  # cell text escaped
    assert "| ok1 | Siapa presidennya? | Joko Widodo | Joko Widodo [1] | d1 | correct | fixed |" in md


def test_text_table_aligns_and_marks_undefined():
    table = text_table(score_slices(ITEMS, NEW), ("questions", "accuracy", "f1"))
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "all", "lang=id", "answerable", "unanswerable"]
    assert lines[1].split() == ["questions", "4", "4", "3", "1"]
    assert lines[3].split()[-1] == "-"  # no F1 for unanswerable questions
    assert len({len(x) for x in lines}) == 1


def test_load_predictions_skips_broken_lines(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"id": "a", "answer": "x"}) + "\n{cut off\n" + json.dumps({"id": "b"}) + "\n")
    assert list(load_predictions(f)) == ["a", "b"]


def test_eval_compare_through_the_cli(tmp_path, monkeypatch):
    """`kabar eval --compare` with a fake pipeline: the report gets the fixed / broken column."""
    import bot.cli

    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": i.id, "question": i.question, "answers": i.answers,
                                        "sources": i.sources, "answerable": i.answerable}) + "\n" for i in ITEMS))
    old = tmp_path / "old.jsonl"
    old.write_text("".join(json.dumps({"id": k, **v}) + "\n" for k, v in OLD.items()))
    by_question = {i.question: NEW[i.id] for i in ITEMS}

    class FakeAnswer:
        def __init__(self, q):
            self.q = q

        def prediction(self):
            return {"question": self.q, **by_question[self.q]}

    class FakePipeline:
        def ask(self, q):
            return FakeAnswer(q)

    monkeypatch.setattr(bot.cli, "_pipeline", lambda ctx, ensure_corpus=False: FakePipeline())
    report = tmp_path / "rep.md"
    res = CliRunner().invoke(bot.cli.cli, ["--data-dir", str(tmp_path / "d"), "eval", "--gold", str(gold),
                                           "--compare", str(old), "--report", str(report),
                                           "--out", str(tmp_path / "new.jsonl")], obj={})
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output and "citation_precision" in res.output
    md = report.read_text()
    assert "| bad | Kapan \\| terjadi? | 31 Agustus | 1 September [1] | d1 | wrong | broken |" in md
    assert (tmp_path / "rep_latency.png").exists()
