"""Scale-out mode against real servers: `chroma run` and `python -m llama_cpp.server` with the packaged GGUF.

The servers are started once for the module on free 127.0.0.1 ports and always stopped. The seeds
are ingested into the Chroma server through the CLI; answers come from the LLM server, with no
model file on the client's side. The unreachable-server tests need no server (closed ports).
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.telegram import build_application
from rag.config import PROJECT_ROOT, Settings, load_settings
from rag.errors import KabarError, ServiceUnavailable
from rag.model_files import packaged_model
from rag.servers import LocalServer, ServerStartError, chroma_server, free_port, llama_server, port_of
from tests.fake_bot_api import TOKEN, FakeBotAPI, running, settle

# Seconds a server may take to come up (the LLM server loads 1.1 GB) and a CLI process to answer.
START_TIMEOUT_S = 180
ANSWER_TIMEOUT_S = 600

TIANJIN = "000_c5a5360e97af4f8b.txt"
KOREA = "004_49bd237b7ccad95f.txt"
GOLD = PROJECT_ROOT / "eval" / "seeds_gold.jsonl"


def gold(qid: str) -> dict:
    """One question of the hand-checked seed gold set."""
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["id"] == qid:
            return item
    raise KeyError(qid)


def start(server: LocalServer) -> LocalServer:
    try:
        return server.start(START_TIMEOUT_S)
    except ServerStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A real `chroma run` with a fresh folder."""
    tmp = tmp_path_factory.mktemp("chroma-server")
    server = chroma_server(tmp / "db", tmp / "chroma.log")
    try:
        yield start(server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A real llama_cpp.server with the packaged GGUF (joined into the cache on a fresh machine)."""
    settings = load_settings()
    tmp = tmp_path_factory.mktemp("llama-server")
    server = llama_server(settings, packaged_model(settings.cache_path), tmp / "llama.log")
    try:
        yield start(server)
    finally:
        server.stop()


def store_env(chroma: LocalServer, collection: str = "kabar_chunks") -> dict[str, str]:
    return {"KABAR_STORE__MODE": "http", "KABAR_STORE__HOST": "127.0.0.1", "KABAR_STORE__PORT": str(port_of(chroma)),
            "KABAR_STORE__COLLECTION": collection}


@pytest.fixture(scope="module")
def client_env(chroma: LocalServer, llama: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a kabar client of both servers, with no model file of its own."""
    empty = tmp_path_factory.mktemp("no-model")
    return {**store_env(chroma), "KABAR_LLM__MODE": "server",
            "KABAR_LLM__SERVER_URL": f"http://127.0.0.1:{port_of(llama)}/v1",
            # Server mode must not look for a local GGUF: point the model settings at nothing.
            "KABAR_MODELS__LLM_PATH": str(empty / "missing.gguf"), "KABAR_MODELS__CACHE_DIR": str(empty)}


@pytest.fixture(scope="module")
def ingested(client_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds ingested into the Chroma server through the CLI; returns the client's data dir."""
    data = tmp_path_factory.mktemp("client-data")
    res = run("--data-dir", str(data), "ingest", "-q", env=client_env)
    assert res.exit_code == 0, res.output
    assert "5 documents" in res.output
    return data


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), obj={}, env=env or {}, catch_exceptions=False)


def settings_with(base: Settings, **sections: dict) -> Settings:
    """`base` with some keys of some sections replaced."""
    update = {name: getattr(base, name).model_copy(update=values) for name, values in sections.items()}
    return base.model_copy(update=update)


def closed_port() -> int:
    """A port nothing listens on."""
    return free_port()


# --- the servers are unreachable ---------------------------------------------------------------


def test_unreachable_chroma_server_is_one_line(tmp_path):
    port = closed_port()
    env = {"KABAR_STORE__MODE": "http", "KABAR_STORE__PORT": str(port)}
    for args in (("info",), ("ingest", "-q"), ("ask", "Kapan KTT SCO di Tianjin berlangsung?")):
        res = run("--data-dir", str(tmp_path / "d"), *args, env=env)
        assert res.exit_code == 2, res.output
        assert res.output.strip() == (f"kabar: error: cannot reach the Chroma server at http://127.0.0.1:{port} "
                                      "— is `chroma run` up?")
    assert not (tmp_path / "d" / "chroma.sqlite3").exists()


def test_unreachable_llm_server_is_one_line(seed_settings):
    port = closed_port()
    res = run("--data-dir", str(seed_settings.data_path), "ask", "Kapan KTT SCO di Tianjin berlangsung?",
              env={"KABAR_LLM__MODE": "server", "KABAR_LLM__SERVER_URL": f"http://127.0.0.1:{port}/v1"})
    assert res.exit_code == 2
    assert res.output.strip() == (f"kabar: error: cannot reach the LLM server at http://127.0.0.1:{port}/v1 "
                                  "— is `python -m rag.llm_serve` (llama_cpp.server) up?")


def test_llm_server_that_never_answers_times_out(seed_settings):
    from rag.llm_server import ServerChatModel

    with socket.socket() as hung:  # accepts connections (the kernel's backlog) and never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        url = f"http://127.0.0.1:{hung.getsockname()[1]}/v1"
        model = ServerChatModel(settings_with(seed_settings, llm={"mode": "server", "server_url": url,
                                                                  "timeout_s": 0.5}).llm)
        with pytest.raises(ServiceUnavailable, match=r"did not answer within 0.5 s \(llm.timeout_s\)"):
            list(model.stream([("user", "hello")]))
        with pytest.raises(ServiceUnavailable, match="did not answer within"):
            model.count_tokens("hello")


def test_telegram_user_gets_a_polite_message_when_the_llm_server_is_down(seed_settings, caplog):
    from rag.answer import Pipeline

    port = closed_port()
    settings = settings_with(seed_settings, llm={"mode": "server", "warm_up": False,
                                                 "server_url": f"http://127.0.0.1:{port}/v1"})
    pipeline = Pipeline.from_settings(settings)
    with FakeBotAPI() as api:
        settings = settings_with(settings, telegram={"base_url": api.base_url, "edit_interval_s": 0.2})
        app = build_application(settings, pipeline, TOKEN)

        async def scenario() -> None:
            async with running(app):
                api.say("Kapan KTT SCO di Tianjin berlangsung?")
                await settle(api, app)

        asyncio.run(asyncio.wait_for(scenario(), 90))
        texts = api.texts(1001)
    assert texts == ["Sorry, I can't answer right now: the answering service is unavailable. "
                     "Please try again in a few minutes."]
    assert f"cannot reach the LLM server at http://127.0.0.1:{port}/v1" in caplog.text


# --- Chroma server only ------------------------------------------------------------------------


def test_rebuild_on_the_server_keeps_the_old_collection(chroma, tmp_path):
    import chromadb

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("Gunung Merapi meletus pada 26 Oktober 2010 di Yogyakarta, kata petugas.\n")
    env = store_env(chroma, "rebuild_check")
    data = str(tmp_path / "d")
    assert run("--data-dir", data, "ingest", "-q", str(folder), env=env).exit_code == 0
    res = run("--data-dir", data, "ingest", "-q", "--rebuild", str(folder), env=env)
    assert res.exit_code == 0, res.output
    assert "old store kept at collection rebuild_check.old-" in res.output
    client = chromadb.HttpClient(host="127.0.0.1", port=port_of(chroma))
    names = {c.name for c in client.list_collections()}
    kept = [n for n in names if n.startswith("rebuild_check.old-")]
    assert "rebuild_check" in names and len(kept) == 1
    assert client.get_collection(kept[0]).count() == client.get_collection("rebuild_check").count() == 1
    assert not (tmp_path / "d" / "chroma.sqlite3").exists()  # nothing was written locally


def test_token_counts_are_estimated_when_the_server_has_no_tokenize_endpoint(chroma):
    from rag.llm_server import ServerChatModel, estimate_tokens

    # The Chroma server is a real HTTP server without /extras/tokenize (it answers 404).
    llm = load_settings().llm.model_copy(update={"mode": "server",
                                                 "server_url": f"http://127.0.0.1:{port_of(chroma)}/v1"})
    text = "KTT SCO sendiri akan berlangsung di Tianjin pada 31 Agustus hingga 1 September."
    assert ServerChatModel(llm).count_tokens_many([text, text[:20]]) == [estimate_tokens(text),
                                                                         estimate_tokens(text[:20])]


def test_chroma_server_gone_mid_run_is_one_line(tmp_path):
    from rag.store import open_store

    server = start(chroma_server(tmp_path / "db", tmp_path / "chroma.log"))
    try:
        settings = settings_with(load_settings(data_dir=str(tmp_path / "d")),
                                 store={"mode": "http", "port": port_of(server)})
        store = open_store(settings, create=True)
        assert store.count() == 0
    finally:
        server.stop()
    with pytest.raises(ServiceUnavailable, match="cannot reach the Chroma server") as err:
        store.count()
    assert "\n" not in str(err.value)


# --- both servers --------------------------------------------------------------------------------


@pytest.mark.e2e
def test_ingest_and_ask_json_through_the_servers(ingested, client_env, monkeypatch):
    import tiktoken

    def no_tiktoken(*args, **kwargs):
        raise AssertionError("tiktoken must not be used (it would download its encodings)")

    monkeypatch.setattr(tiktoken, "get_encoding", no_tiktoken)
    monkeypatch.setattr(tiktoken, "encoding_for_model", no_tiktoken)
    info = json.loads(run("--data-dir", str(ingested), "info", "--json", env=client_env).output)
    assert info["store"].startswith(f"chroma server http://127.0.0.1:{client_env['KABAR_STORE__PORT']}")
    assert info["llm"].startswith(f"server {client_env['KABAR_LLM__SERVER_URL']}")
    assert info["documents"] == 5 and info["chunks"] > 0
    assert not (ingested / "chroma.sqlite3").exists()

    item = gold("s005")  # "KTT SCO tahun 2025 diadakan di kota mana?" → Tianjin, 000_…
    res = run("--data-dir", str(ingested), "ask", "--json", item["question"], env=client_env)
    assert res.exit_code == 0, res.output
    pred = json.loads(res.output.strip().splitlines()[-1])
    assert not pred["abstained"]
    assert any(a in pred["answer"] for a in item["answers"])
    assert {c["source"] for c in pred["citations"]} == set(item["sources"]) == {TIANJIN}


@pytest.mark.e2e
def test_server_token_counts_match_the_local_tokenizer(llama, client_env):
    from llama_cpp import Llama

    from rag.llm_server import ServerChatModel
    from rag.text import split_sentences

    settings = load_settings()
    local = Llama(model_path=str(packaged_model(settings.cache_path)), vocab_only=True, verbose=False)
    model = ServerChatModel(settings_with(settings, llm={"mode": "server",
                                                         "server_url": client_env["KABAR_LLM__SERVER_URL"]}).llm)
    text = (PROJECT_ROOT / "seeds" / TIANJIN).read_text(encoding="utf-8")
    sentences = split_sentences(text)[:12]
    expected = [len(local.tokenize(s.encode("utf-8"), add_bos=False, special=False)) for s in sentences]
    assert model.count_tokens_many(sentences) == expected


@pytest.mark.e2e
def test_english_question_is_translated_through_the_llm_server(llama, client_env):
    from rag.llm_server import ServerChatModel
    from rag.prompting import Prompts
    from rag.translate import translate_question

    settings = load_settings()
    model = ServerChatModel(settings_with(settings, llm={"mode": "server",
                                                         "server_url": client_env["KABAR_LLM__SERVER_URL"]}).llm)
    text = translate_question(model, Prompts(), "When does the SCO summit in Tianjin end?", 48)
    assert text and "\n" not in text and "Tianjin" in text and text != "When does the SCO summit in Tianjin end?"


@pytest.mark.e2e
def test_server_second_attempt_does_not_start_with_the_avoided_token(llama, client_env):
    from langchain_core.messages import HumanMessage

    from rag.llm_server import ServerChatModel

    settings = load_settings()
    model = ServerChatModel(settings_with(settings, llm={"mode": "server",
                                                         "server_url": client_env["KABAR_LLM__SERVER_URL"]}).llm)
    messages = [HumanMessage("Reply with exactly: Yes")]
    plain = model.complete(messages, 4, [])
    steered = model.complete(messages, 4, [], avoid=plain)
    assert steered.strip() and model._token_ids(steered.strip())[0] != model._token_ids(plain.strip())[0]


def _start_chat(data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT), "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "--data-dir", str(data), "chat"], cwd=PROJECT_ROOT,
                            env=full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_prompt(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """Read each process's output until it shows the chat prompt (its pipeline is loaded)."""
    sel = selectors.DefaultSelector()
    seen = {}
    for p in procs:
        os.set_blocking(p.stdout.fileno(), False)
        sel.register(p.stdout, selectors.EVENT_READ, p)
        seen[p.pid] = b""
    deadline = time.monotonic() + timeout
    while any(b"\n> " not in out for out in seen.values()):
        if time.monotonic() > deadline:
            pytest.fail(f"the chat processes did not start: {seen}")
        for key, _ in sel.select(timeout=1):
            chunk = key.fileobj.read()
            if not chunk and key.data.poll() is not None:
                pytest.fail(f"a chat process exited: {seen[key.data.pid] + (chunk or b'')!r}")
            seen[key.data.pid] += chunk or b""
    sel.close()
    for p in procs:
        os.set_blocking(p.stdout.fileno(), True)


@pytest.mark.e2e
def test_two_processes_asking_at_the_same_time_both_get_answers(ingested, client_env):
    questions = [(gold("s049"), KOREA), (gold("s005"), TIANJIN)]  # Shoigu; Tianjin
    procs = [_start_chat(ingested, client_env) for _ in questions]
    try:
        _wait_for_prompt(procs, START_TIMEOUT_S)
        # Both are loaded and waiting: the two questions reach the servers together.
        for p, (item, _) in zip(procs, questions, strict=True):
            p.stdin.write(f"{item['question']}\n/quit\n".encode())
            p.stdin.flush()
        outs = [p.communicate(timeout=ANSWER_TIMEOUT_S)[0].decode("utf-8", "replace") for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, out, (item, source) in zip(procs, outs, questions, strict=True):
        assert p.returncode == 0, out
        answer, _, sources = out.rpartition("Sources:")
        assert any(a in answer for a in item["answers"]), out
        assert source in sources, out


@pytest.mark.e2e
def test_interrupted_or_killed_llm_server_is_a_clear_error(tmp_path):
    """llama_cpp.server's default interrupts a stream when another request comes; then it is killed."""
    from rag.llm_server import ServerChatModel

    settings = load_settings()
    command = llama_server(settings, packaged_model(settings.cache_path), tmp_path / "x.log").command
    command[command.index("--interrupt_requests") + 1] = "True"  # the server's default
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    server = start(LocalServer("LLM server", command, f"http://127.0.0.1:{port}/v1/models", tmp_path / "llama.log"))
    try:
        llm = settings_with(settings, llm={"mode": "server", "server_url": f"http://127.0.0.1:{port}/v1",
                                           "max_tokens": 200}).llm
        model = ServerChatModel(llm)
        long_answer = [("user", "Tulis cerita panjang tentang Gunung Merapi.")]
        errors: list[BaseException] = []
        first_piece = threading.Event()

        def first() -> None:
            try:
                for _ in model.stream(long_answer):
                    first_piece.set()
            except BaseException as exc:  # the test reads it
                errors.append(exc)
            finally:
                first_piece.set()

        worker = threading.Thread(target=first)
        worker.start()
        assert first_piece.wait(ANSWER_TIMEOUT_S)
        second = "".join(ServerChatModel(llm.model_copy(update={"max_tokens": 8})).stream([("user", "Halo")]))
        worker.join(ANSWER_TIMEOUT_S)
        assert second
        assert len(errors) == 1 and isinstance(errors[0], ServiceUnavailable), errors
        assert "--interrupt_requests False" in str(errors[0])

        # Killed mid-answer: whatever the transport says, one ServiceUnavailable line.
        stream = model.stream(long_answer)
        next(stream)
        server.process.kill()
        with pytest.raises(KabarError, match=f"LLM server at http://127.0.0.1:{port}/v1") as err:
            for _ in stream:
                pass
        assert isinstance(err.value, ServiceUnavailable) and "\n" not in str(err.value)
    finally:
        server.stop()
