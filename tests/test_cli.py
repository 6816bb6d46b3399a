"""The `kabar` command driven through click's CliRunner: errors are one line, never a traceback."""

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), obj={}, env=env or {}, catch_exceptions=False)


def test_broken_config_is_a_one_line_error(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("retrieval:\n  top_k: many\n")
    res = run("--config", str(cfg), "info")
    assert res.exit_code == 2
    assert "retrieval.top_k" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_info_on_empty_store(tmp_path):
    res = run("--data-dir", str(tmp_path / "d"), "info", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["documents"] == 0 and data["chunks"] == 0
    assert data["embedder"].startswith("multilingual-e5-small-q4/onnx")


def test_ingest_reports_and_skips_bad_files(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "ok.txt").write_text("Gunung Merapi meletus pada 26 Oktober 2010 di Yogyakarta, kata petugas.\n")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00\x00binary")
    res = run("--data-dir", str(tmp_path / "d"), "ingest", "-q", str(folder))
    assert res.exit_code == 1
    assert "skipped" in res.output and "bad.txt" in res.output
    assert "1 documents: 1 chunks added" in res.output
    assert "Traceback" not in res.output


def test_corrupt_store_is_a_clear_error_and_rebuild_keeps_the_old_one(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    res = run("--data-dir", str(data), "info")
    assert res.exit_code == 2
    assert "kabar ingest --rebuild" in res.output and "Traceback" not in res.output
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "ok.txt").write_text("Gunung Merapi meletus pada 26 Oktober 2010 di Yogyakarta, kata petugas.\n")
    res = run("--data-dir", str(data), "ingest", "-q", "--rebuild", str(folder))
    assert res.exit_code == 0, res.output
    assert "old store kept at" in res.output
    assert list(tmp_path.glob("d.old-*/chroma.sqlite3"))


def test_missing_and_corrupt_model_files(tmp_path):
    for content, needle in ((None, "not found"), (b"garbage" * 10, "not a GGUF")):
        model = tmp_path / "m.gguf"
        if content is not None:
            model.write_bytes(content)
        res = run("--data-dir", str(tmp_path / "d"), "ask", "hello?",
                  env={"KABAR_MODELS__LLM_PATH": str(model)})
        assert res.exit_code == 2
        assert needle in res.output and "Traceback" not in res.output


@pytest.mark.e2e
def test_ask_json_follows_the_predictions_format(seed_settings):
    res = run("--data-dir", str(seed_settings.data_path), "ask", "--json", "Kapan KTT SCO di Tianjin berlangsung?")
    assert res.exit_code == 0, res.output
    pred = json.loads(res.output.strip().splitlines()[-1])
    assert set(pred) == {"question", "answer", "abstained", "citations", "contexts", "latency_s", "ttft_s",
                         "tokens_out"}
    assert "31 Agustus" in pred["answer"]
    assert pred["citations"][0]["source"] == "000_c5a5360e97af4f8b.txt"
    assert {c["chunk_id"] for c in pred["citations"]} <= {c["chunk_id"] for c in pred["contexts"]}
    assert [c["rank"] for c in pred["contexts"]] == list(range(1, len(pred["contexts"]) + 1))


@pytest.mark.e2e
@pytest.mark.parametrize("question", ["   ", "x" * 20000, "\x00\x01\x02"])
def test_bad_questions_are_one_line_errors(seed_settings, question):
    res = run("--data-dir", str(seed_settings.data_path), "ask", question)
    assert res.exit_code == 2
    assert "question" in res.output and "Traceback" not in res.output
