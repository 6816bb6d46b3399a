"""Speed of `kabar ask` against bare llama-cpp on the same GGUF and the same prompts, in one run.

Prints time to first token and whole-answer time (p50/p95 over N questions of the seed gold set),
generation tokens/s of our pipeline and of bare `llama_cpp.Llama`, their ratio, and peak RSS.

    python bench/speed.py [--questions 10] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer import Pipeline  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.evaluate import load_gold  # noqa: E402
from rag.ingest import ingest  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def to_dicts(messages) -> list[dict]:
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": m.content} for m in messages]


def bare_run(llm, messages: list[dict], max_tokens: int) -> tuple[float, float, int]:
    """(ttft, total, tokens) of one streamed chat completion on a bare Llama."""
    start = time.perf_counter()
    ttft, n = 0.0, 0
    for chunk in llm.create_chat_completion(messages=messages, stream=True, max_tokens=max_tokens,
                                            temperature=0.0, top_k=1, repeat_penalty=1.0):
        if chunk["choices"][0]["delta"].get("content"):
            if n == 0:
                ttft = time.perf_counter() - start
            n += 1
    return ttft, time.perf_counter() - start, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--data-dir", default="")
    args = ap.parse_args()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="kabar-bench-")
    settings = load_settings(data_dir=data_dir)
    ingest(settings, progress=False)
    items = [i for i in load_gold(ROOT / "eval" / "seeds_gold.jsonl")][: args.questions]

    t0 = time.perf_counter()
    pipe = Pipeline.from_settings(settings)
    load_s = time.perf_counter() - t0
    ours = []
    for it in items:
        a = pipe.ask(it.question)
        gen_s = max(a.latency_s - a.ttft_s, 1e-6)
        ours.append((a, (a.tokens_out - 1) / gen_s if a.tokens_out > 1 else 0.0))
    rss_pipeline = rss_mb()

    from llama_cpp import Llama

    threads = settings.llm.n_threads or os.cpu_count() or 2
    bare = Llama(model_path=str(pipe.model.model_path), n_ctx=settings.llm.n_ctx, n_threads=threads,
                 n_threads_batch=threads, n_batch=settings.llm.n_batch, seed=settings.llm.seed, verbose=False)
    prefix = to_dicts(pipe.prompts.prefix)
    bare_run(bare, prefix, 1)  # same warm static prefix as the pipeline
    theirs = []
    for a, _ in ours:
        ttft, total, n = bare_run(bare, to_dicts(a.messages), settings.llm.max_tokens)
        # Re-warm so the next question starts from the static prefix, as in the pipeline.
        theirs.append((ttft, total, (n - 1) / max(total - ttft, 1e-6) if n > 1 else 0.0))

    o_ttft = [a.ttft_s for a, _ in ours]
    o_total = [a.latency_s for a, _ in ours]
    o_tps = [t for _, t in ours if t > 0]
    b_ttft = [t for t, _, _ in theirs]
    b_total = [t for _, t, _ in theirs]
    b_tps = [t for _, _, t in theirs if t > 0]
    print(f"# Kabar speed, {len(items)} questions, {threads} threads, model {pipe.model.model_path.name}\n")
    print("| measure | kabar ask | bare llama-cpp | ratio |")
    print("|---|---|---|---|")
    print(f"| time to first token p50 (s) | {pct(o_ttft, .5):.2f} | {pct(b_ttft, .5):.2f} | "
          f"{pct(o_ttft, .5) / pct(b_ttft, .5):.2f} |")
    print(f"| time to first token p95 (s) | {pct(o_ttft, .95):.2f} | {pct(b_ttft, .95):.2f} | |")
    print(f"| whole answer p50 (s) | {pct(o_total, .5):.2f} | {pct(b_total, .5):.2f} | "
          f"{pct(o_total, .5) / pct(b_total, .5):.2f} |")
    print(f"| whole answer p95 (s) | {pct(o_total, .95):.2f} | {pct(b_total, .95):.2f} | |")
    print(f"| generation tokens/s (median) | {statistics.median(o_tps):.1f} | {statistics.median(b_tps):.1f} | "
          f"{statistics.median(o_tps) / statistics.median(b_tps):.2f} |")
    print(f"\nprompt tokens per question (p50): {pct([float(a.prompt_tokens) for a, _ in ours], .5):.0f}; "
          f"tokens out p50: {pct([float(a.tokens_out) for a, _ in ours], .5):.0f}")
    print(f"model load + warm-up: {load_s:.1f} s; peak RSS after the pipeline run: {rss_pipeline:.0f} MB; "
          f"with the bare model loaded too: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
