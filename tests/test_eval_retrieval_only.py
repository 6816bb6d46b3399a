"""`kabar eval --retrieval-only` on the real seed store: no LLM, spec-conformant lines, Ctrl-C keeps the work."""

import json
import re

import pytest
from click.testing import CliRunner

from bot.cli import cli
from rag.config import PROJECT_ROOT

FIELDS = {"id", "question", "answer", "abstained", "citations", "contexts", "latency_s", "ttft_s", "tokens_out"}
CONTEXT_FIELDS = {"rank", "source", "chunk_id", "score", "text"}


@pytest.fixture
def gold(tmp_path):
    lines = (PROJECT_ROOT / "eval" / "seeds_gold.jsonl").read_text(encoding="utf-8").splitlines()
    picked = lines[:3] + [x for x in lines if '"answerable": false' in x][:1]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(picked) + "\n", encoding="utf-8")
    return path, [json.loads(x) for x in picked]


def _run(seed_settings, *args):
    return CliRunner().invoke(cli, ["--data-dir", str(seed_settings.data_path), "eval", *map(str, args)], obj={})


def test_retrieval_only_writes_spec_lines_and_retrieval_metrics(seed_settings, gold, tmp_path, monkeypatch):
    import rag.answer

    def no_model(*a, **k):
        raise AssertionError("the LLM must not be loaded")

    monkeypatch.setattr(rag.answer, "ChatModel", no_model)
    gold_path, records = gold
    out, report = tmp_path / "pred.jsonl", tmp_path / "rep.md"
    res = _run(seed_settings, "--gold", gold_path, "--retrieval-only", "--out", out, "--report", report)
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == [r["id"] for r in records]
    top_k = seed_settings.retrieval.top_k
    for line, rec in zip(lines, records, strict=True):
        assert set(line) == FIELDS  # no extra fields, no error
        assert line["question"] == rec["question"]
        assert line["answer"] == "" and line["abstained"] is False and line["citations"] == []
        assert line["ttft_s"] == 0 and line["tokens_out"] == 0 and line["latency_s"] > 0
        assert 1 <= len(line["contexts"]) <= top_k
        assert [c["rank"] for c in line["contexts"]] == list(range(1, len(line["contexts"]) + 1))
        for c in line["contexts"]:
            assert set(c) == CONTEXT_FIELDS and c["text"].strip()
            assert re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", c["source"])
            assert isinstance(c["score"], float) and c["score"] > 0
    # the seed questions are easy: the gold article is the first context
    for line, rec in zip(lines[:3], records[:3], strict=True):
        assert line["contexts"][0]["source"] in rec["sources"]
    out_lines = res.output.splitlines()
    assert "retrieval_recall" in res.output and "mrr" in res.output
    assert "accuracy" not in res.output  # only retrieval metrics
    recall = next(x for x in out_lines if x.startswith("retrieval_recall")).split()
    assert recall[1] == "1.000"  # the "all" column
    md = report.read_text(encoding="utf-8")
    assert "| retrieval_recall | 1.000 |" in md and (tmp_path / "rep_latency.png").exists()


def test_ctrl_c_stops_cleanly_and_scores_what_is_done(seed_settings, gold, tmp_path, monkeypatch):
    from rag.answer import Pipeline

    real, calls = Pipeline.retrieve, []

    def interrupting(self, question, lang, conversation=None):
        calls.append(question)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, question, lang, conversation)

    monkeypatch.setattr(Pipeline, "retrieve", interrupting)
    gold_path, records = gold
    out, report = tmp_path / "pred.jsonl", tmp_path / "rep.md"
    res = _run(seed_settings, "--gold", gold_path, "--retrieval-only", "--out", out, "--report", report)
    assert res.exit_code == 130
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [r["id"] for r in records[:2]]
    assert "interrupted: scoring the 2 of 4 questions done" in res.output
    assert next(x for x in res.output.splitlines() if x.startswith("questions")).split()[1] == "2"
    assert "2 of 4 questions asked" in report.read_text()


def test_outputs_go_into_a_new_folder_and_an_unwritable_one_fails_before_the_run(seed_settings, gold, tmp_path):
    gold_path, records = gold
    out, report = tmp_path / "runs" / "today" / "pred.jsonl", tmp_path / "reports" / "today.md"
    res = _run(seed_settings, "--gold", gold_path, "--retrieval-only", "--out", out, "--report", report)
    assert res.exit_code == 0, res.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(records)
    assert report.exists() and (report.parent / "today_latency.png").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = _run(seed_settings, "--gold", gold_path, "--retrieval-only", "--out", blocker / "pred.jsonl")
    assert res.exit_code == 2 and "cannot write" in res.output and "Traceback" not in res.output
    assert "Evaluating" not in res.output  # stopped before asking anything


def test_limit_must_be_positive(seed_settings, gold):
    res = _run(seed_settings, "--gold", gold[0], "--retrieval-only", "--limit", "0")
    assert res.exit_code == 2 and "--limit" in res.output


def test_a_compare_file_that_holds_no_predictions_is_a_clear_error(seed_settings, gold, tmp_path):
    binary = tmp_path / "old.jsonl"
    binary.write_bytes(bytes(range(256)))
    res = _run(seed_settings, "--gold", gold[0], "--retrieval-only", "--compare", binary)
    assert res.exit_code == 2 and "cannot read the predictions" in res.output and "Traceback" not in res.output
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "not-in-this-gold-set", "answer": "x"}\n', encoding="utf-8")
    res = _run(seed_settings, "--gold", gold[0], "--retrieval-only", "--compare", other)
    assert res.exit_code == 0 and "nothing to compare" in res.output
