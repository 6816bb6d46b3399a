"""Kabar's benchmark suite: every measure in one run, as one Markdown table plus a PNG.

    python bench/run.py [--quick] [--only SECTION ...] [--questions N] [--out DIR]

Sections (run in this order; --only picks some):
  coldstart  1. a fresh `kabar ask` process: start → first answer token, start → exit
  answers    2. per gold question: prompt tokens, first token, whole answer, tokens/s, against bare llama-cpp
  ingest     4. ingest throughput (seeds + FacQA passages into a fresh data dir) and embedding throughput
  retrieval  3. dense / BM25 / fused retrieval latency at 1k, 10k, 100k chunks (synthetic stores, cached)
  memory     5. peak RSS of `kabar ask` and of `kabar telegram` answering several users at once
The plot (section 6) is drawn from whatever ran. Results go to bench/results/ (the paths are printed).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import SEEDS_GOLD, TARGETS, Results, fmt, load_average, log, p50_p95  # noqa: E402

SECTIONS = ["coldstart", "answers", "ingest", "retrieval", "memory"]
RESULTS_DIR = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Plan:
    """How much each section measures."""

    cold_repeats: int  # fresh `kabar ask` processes
    questions: int | None  # answerable gold questions (None: all of them)
    sizes: tuple[int, ...]  # retrieval store sizes
    queries: int | None  # FacQA valid questions used as retrieval queries (None: all 311)
    ingest_passages: int | None  # FacQA passages ingested in section 4 (None: all 1,328)
    passages: int | None  # FacQA passages chunked into the retrieval base (None: all 1,328)
    embed_chunks: int  # chunks embedded for the embedding-throughput figure
    users: int  # simulated Telegram users
    per_user: int  # questions each user sends at once


# About 20 minutes on 2 cores once the retrieval stores are cached (the first run builds them).
# Ingest embeds chunk by chunk of each short FacQA passage (small batches, ~1.5 chunks/s here), so
# section 4 ingests 300 of them; the retrieval base uses all passages, embedded once in batches and cached.
FULL = Plan(cold_repeats=3, questions=None, sizes=(1_000, 10_000, 100_000), queries=None, ingest_passages=300,
            passages=None, embed_chunks=256, users=4, per_user=2)
# A few minutes: smoke-test sizes.
QUICK = Plan(cold_repeats=1, questions=6, sizes=(1_000, 5_000), queries=50, ingest_passages=150, passages=150,
             embed_chunks=64, users=2, per_user=2)


def _gold_questions(limit: int | None) -> list[tuple[str, str]]:
    from rag.evaluate import load_gold

    items = [(i.id, i.question) for i in load_gold(SEEDS_GOLD) if i.answerable]
    return items[:limit]


def _seed_store(scratch: Path):
    """Settings over a fresh store of the seed articles (sections 1, 2 and 5 ask about them)."""
    from rag.config import load_settings
    from rag.ingest import ingest

    settings = load_settings(data_dir=str(scratch / "seeds"))
    summary = ingest(settings, progress=False)
    log(f"seed store: {summary.line()}")
    return settings


def _machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return f"{os.cpu_count()} cores{f' ({cpu})' if cpu else ''}, Python {platform.python_version()}"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def run_sections(plan: Plan, only: list[str], scratch: Path, results: Results) -> None:
    """Run the chosen sections in order; a failing section is recorded and the others still run."""
    from bench import coldstart, ingest_speed, retrieval, speed, telegram_latency

    settings = _seed_store(scratch) if {"coldstart", "answers", "memory"} & set(only) else None
    donor: Path | None = None
    ask_runs = []

    def section(name: str, fn) -> None:
        if name not in only:
            return
        log(f"== {name}")
        started = time.perf_counter()
        try:
            fn()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            results.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
        gc.collect()  # models and stores of a finished section are not kept around
        log(f"== {name} done in {time.perf_counter() - started:.0f} s")

    def do_coldstart() -> None:
        ask_runs.extend(coldstart.run(settings.data_path, plan.cold_repeats, results))

    def do_answers() -> None:
        speed.run(settings, _gold_questions(plan.questions), results)

    def do_ingest() -> None:
        nonlocal donor
        donor = ingest_speed.run(scratch, plan.ingest_passages, plan.embed_chunks, results)

    def do_retrieval() -> None:
        from rag.config import load_settings

        # Only the chunking and retrieval settings are used: the stores live in the bench cache.
        retrieval.run(load_settings(), list(plan.sizes), plan.queries, plan.passages, donor, results)

    def do_memory() -> None:
        if not ask_runs:  # the cold-start section did not run: one `kabar ask` for its memory
            coldstart.add_ask_rss(results, coldstart.ask_once(settings.data_path))
        load = telegram_latency.bot_under_load(settings.data_path, plan.users, plan.per_user)
        count = plan.users * plan.per_user
        results.add("5 memory", f"peak RSS of `kabar telegram`, {plan.users} users × {plan.per_user} questions at once",
                    f"{load.max_rss_mb / 1024:.2f} GiB", TARGETS["rss_gb"], load.max_rss_mb / 1024,
                    note=f"of which the mmapped GGUF file {fmt(load.model_mapped_mb / 1024, 'GiB')}; bot ready in "
                    f"{load.ready_s:.1f} s")
        f50, f95 = p50_p95(load.final)
        results.add("5 memory", "Telegram under that load: message → final answer p50 / p95",
                    f"{f50:.1f} / {f95:.1f} s", note=f"{len(load.final)} of {count} answered, "
                    f"all in {load.burst_s:.1f} s")
        log(f"telegram: peak RSS {load.max_rss_mb:.0f} MB, final p50 {f50:.1f} s")

    section("coldstart", do_coldstart)
    section("answers", do_answers)
    section("ingest", do_ingest)
    section("retrieval", do_retrieval)
    section("memory", do_memory)


def render(results: Results, plan: Plan, only: list[str], started: str, seconds: float, load_before: str,
           png: Path | None) -> str:
    """The whole report as Markdown."""
    lines = [f"# Kabar benchmarks — {started}", "",
             f"Machine: {_machine()}; commit {_commit()}; plan: {asdict(plan)}; sections: {', '.join(only)}.",
             f"Load average (1/5/15 min) before: {load_before}, after: {load_average()} — the machine is shared, "
             f"so timings are noisy. Run took {seconds / 60:.1f} min.", "", results.table(), ""]
    if results.errors:
        lines += ["**Sections that failed:**", "", *[f"- {e}" for e in results.errors], ""]
    for block in results.details:
        lines += [block, ""]
    if results.notes:
        lines += ["### How it was measured", "", *[f"- {n}" for n in results.notes], ""]
    if png is not None:
        lines += [f"![plots]({png.name})", ""]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    # `kill` (SIGTERM) stops a run like Ctrl-C does: the report keeps what was measured.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test in a few minutes")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--questions", type=int, default=None, help="answerable gold questions in section 2")
    parser.add_argument("--ingest-passages", type=int, default=None, metavar="N",
                        help="FacQA passages ingested in the ingest section (0: all)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"results folder (default {RESULTS_DIR})")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.questions is not None:
        if args.questions < 1:
            parser.error("--questions must be at least 1")
        plan = replace(plan, questions=args.questions)
    if args.ingest_passages is not None:
        plan = replace(plan, ingest_passages=args.ingest_passages or None)
    only = [s for s in SECTIONS if s in (args.only or SECTIONS)]

    started = time.strftime("%Y-%m-%d %H:%M:%S")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    load_before = load_average()
    t0 = time.perf_counter()
    results = Results()
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="kabar-bench-") as scratch:
        try:
            run_sections(plan, only, Path(scratch), results)
        except KeyboardInterrupt:
            interrupted = True
            results.errors.append("interrupted (Ctrl-C): the report holds what was done")
    from bench.plot import write_plot

    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"bench-{stamp}{'-quick' if args.quick else ''}"
    png = write_plot(results.series, base.with_suffix(".png"))
    report = render(results, plan, only, started, time.perf_counter() - t0, load_before, png)
    base.with_suffix(".md").write_text(report, encoding="utf-8")
    base.with_suffix(".json").write_text(json.dumps({"plan": asdict(plan), "rows": [
        {"section": r.section, "measure": r.measure, "measured": r.measured, "note": r.note,
         "target": str(r.target or ""), "met": r.verdict} for r in results.rows],
        "series": results.series, "errors": results.errors}, indent=1), encoding="utf-8")
    print(report)
    print(f"\nwritten: {base.with_suffix('.md')}, {png}, {base.with_suffix('.json')}")
    return 130 if interrupted else (1 if results.errors else 0)


if __name__ == "__main__":
    sys.exit(main())
