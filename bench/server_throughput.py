"""Throughput of one LLM server process and one Chroma server shared by N kabar client processes.

    python bench/server_throughput.py [--clients 1,2,4] [--questions 8]
                                      [--llm-url http://127.0.0.1:8080/v1 --chroma 127.0.0.1:8000]

Without --llm-url/--chroma it starts both servers itself (`llama_cpp.server` with the packaged
GGUF and the `llm` settings, `chroma run` on a temporary folder) and ingests the seeds into the
Chroma server; given them, the Chroma collection must already hold the seeds. For each client
count N, N processes each build the Pipeline in server mode (as N `kabar telegram` workers
would), wait for each other, then take the seed gold questions (eval/seeds_gold.jsonl, the same
first `--questions` at every N) from one shared queue until it is empty. Prints a Markdown table:
questions per minute (all clients together, i.e. per LLM server process), first-token and answer
p50/p95 as the clients see them, accuracy, and the LLM server's CPU seconds per question.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from rag.config import Settings, load_settings  # noqa: E402
from rag.evaluate import GoldItem, load_gold, percentile  # noqa: E402
from rag.report import is_ok  # noqa: E402

GOLD = ROOT / "eval" / "seeds_gold.jsonl"
START_TIMEOUT_S = 300


def server_env(llm_url: str, chroma_host: str, chroma_port: int) -> dict[str, str]:
    """The settings of a client of both servers, as environment overrides (what a worker's unit file sets)."""
    return {"KABAR_LLM__MODE": "server", "KABAR_LLM__SERVER_URL": llm_url, "KABAR_STORE__MODE": "http",
            "KABAR_STORE__HOST": chroma_host, "KABAR_STORE__PORT": str(chroma_port)}


def client(env: dict[str, str], data_dir: str, jobs: Any, results: Any, barrier: Any) -> None:
    """One client process: load the pipeline, wait for the others, answer questions until none are left."""
    os.environ.update(env)
    from rag.answer import Pipeline
    from rag.errors import KabarError

    pipeline = Pipeline.from_settings(load_settings(data_dir=data_dir))
    barrier.wait()
    while True:
        try:
            item: GoldItem = jobs.get_nowait()
        except queue.Empty:
            break
        try:
            results.put((item.id, pipeline.ask(item.question).prediction(item.id), ""))
        except KabarError as exc:
            results.put((item.id, None, str(exc)))
    results.put(None)


def run_level(n: int, items: list[GoldItem], env: dict[str, str], data_dir: str,
              server_pid: int | None) -> dict[str, Any]:
    """N clients over `items`; wall time from the moment all are loaded to the last answer."""
    ctx = mp.get_context("spawn")
    jobs, results, barrier = ctx.Queue(), ctx.Queue(), ctx.Barrier(n + 1)
    for item in items:
        jobs.put(item)
    procs = [ctx.Process(target=client, args=(env, data_dir, jobs, results, barrier)) for _ in range(n)]
    for p in procs:
        p.start()
    barrier.wait(START_TIMEOUT_S)
    cpu0 = _cpu(server_pid)
    started = time.perf_counter()
    preds: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    finished = 0
    while finished < n:
        got = results.get()
        if got is None:
            finished += 1
            continue
        qid, pred, error = got
        if pred is None:
            errors.append(error)
        else:
            preds[qid] = pred
    wall = time.perf_counter() - started
    cpu = _cpu(server_pid) - cpu0 if server_pid else None
    for p in procs:
        p.join()
    ttft = [p["ttft_s"] for p in preds.values()]
    latency = [p["latency_s"] for p in preds.values()]
    by_id = {i.id: i for i in items}
    return {
        "clients": n, "answered": len(preds), "errors": errors, "wall_s": wall,
        "per_min": 60 * len(preds) / wall if wall else 0.0,
        "ttft50": percentile(ttft, 50), "ttft95": percentile(ttft, 95),
        "lat50": percentile(latency, 50), "lat95": percentile(latency, 95),
        "accuracy": sum(is_ok(by_id[q], p) for q, p in preds.items()) / len(items),
        "cpu_per_q": cpu / len(preds) if cpu is not None and preds else None,
    }


def _cpu(pid: int | None) -> float:
    if not pid:
        return 0.0
    import psutil

    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def _table(rows: list[dict[str, Any]]) -> str:
    def f(x: float | None, digits: int = 1) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    out = ["| clients | questions | wall s | questions/min (per LLM server process) | first token p50 / p95 s "
           "| answer p50 / p95 s | accuracy | LLM server CPU s/question |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['clients']} | {r['answered']} | {f(r['wall_s'])} | {f(r['per_min'])} | "
                   f"{f(r['ttft50'])} / {f(r['ttft95'])} | {f(r['lat50'])} / {f(r['lat95'])} | "
                   f"{f(r['accuracy'], 2)} | {f(r['cpu_per_q'])} |")
    return "\n".join(out)


def _ingest(settings: Settings) -> None:
    from rag.ingest import ingest

    summary = ingest(settings, progress=False)
    print(f"ingested the seeds into the Chroma server: {summary.line()}", file=sys.stderr)


def main() -> None:
    """Run the levels and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,2,4", help="Client process counts, comma-separated.")
    parser.add_argument("--questions", type=int, default=8, help="Gold questions asked at each client count.")
    parser.add_argument("--llm-url", help="A running LLM server's OpenAI URL (…/v1).")
    parser.add_argument("--chroma", help="A running Chroma server as HOST:PORT, holding the seeds.")
    args = parser.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    items = load_gold(GOLD)[: args.questions]
    base = load_settings()

    from rag.model_files import packaged_model
    from rag.servers import chroma_server, llama_server, port_of

    with tempfile.TemporaryDirectory(prefix="kabar-throughput-") as tmp:
        started = []
        try:
            if args.chroma:
                host, _, port = args.chroma.rpartition(":")
                chroma_host, chroma_port = host or "127.0.0.1", int(port)
            else:
                chroma = chroma_server(Path(tmp) / "chroma", Path(tmp) / "chroma.log").start(START_TIMEOUT_S)
                started.append(chroma)
                chroma_host, chroma_port = "127.0.0.1", port_of(chroma)
            server_pid = None
            if args.llm_url:
                llm_url = args.llm_url
            else:
                llm = llama_server(base, packaged_model(base.cache_path), Path(tmp) / "llama.log")
                started.append(llm.start(START_TIMEOUT_S))
                llm_url, server_pid = f"http://127.0.0.1:{port_of(llm)}/v1", llm.process.pid
            env = server_env(llm_url, chroma_host, chroma_port)
            data_dir = str(Path(tmp) / "client-data")
            if not args.chroma:
                os.environ.update(env)
                _ingest(load_settings(data_dir=data_dir))
            rows = []
            for n in levels:
                print(f"{n} client(s)…", file=sys.stderr)
                rows.append(run_level(n, items, env, data_dir, server_pid))
                for error in dict.fromkeys(rows[-1]["errors"]):
                    print(f"  error: {error}", file=sys.stderr)
        finally:
            for server in started:
                server.stop()
    print(f"# Kabar server mode: one LLM server process ({base.llm.max_tokens} max tokens, n_ctx {base.llm.n_ctx}, "
          f"{base.llm.n_threads or os.cpu_count()} threads), one Chroma server, {os.cpu_count()} CPU cores "
          f"shared by servers and clients; {len(items)} seed gold questions per row\n")
    print(_table(rows))


if __name__ == "__main__":
    main()
