"""Section 1 (and the `kabar ask` half of section 5): a fresh `kabar ask` process, timed from outside.

The CLI streams answer tokens only to a terminal (bot/render.py: pipes get the final text once), so
the child's stdout is a pseudo-terminal: the first bytes on it are the first streamed answer token
(or the final answer, when the pipeline withholds the streamed text). Peak RSS is the child's own
`ru_maxrss` from `os.wait4`.
"""

from __future__ import annotations

import math
import os
import pty
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, TARGETS, Results, fmt, kabar_cmd, kabar_env, log, mapped_model_mb

# One question answerable from the seed articles (README's example).
QUESTION = "Kapan KTT SCO di Tianjin berlangsung?"
# Bytes read from the pseudo-terminal at a time.
_READ = 4096


@dataclass
class AskRun:
    """One `kabar ask` process."""

    first_output_s: float  # process start → first bytes on stdout
    exit_s: float  # process start → exit
    max_rss_mb: float
    returncode: int
    output: str
    model_mapped_mb: float = float("nan")  # resident part of the mmapped GGUF when the answer began


def ask_once(data_dir: Path, question: str = QUESTION, timeout_s: float = 300.0, **env: str) -> AskRun:
    """Run `kabar ask QUESTION` in a new process with a terminal as stdout; time it from outside.

    `env` adds environment variables (settings) for that process.
    """
    master, slave = pty.openpty()
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(kabar_cmd(data_dir, "ask", question), stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=err, env=kabar_env(**env), cwd=ROOT)
        os.close(slave)
        first = mapped = float("nan")
        out = bytearray()
        deadline = start + timeout_s
        try:
            while True:
                ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.perf_counter()))
                if not ready:
                    raise TimeoutError(f"kabar ask did not finish in {timeout_s:.0f} s")
                try:
                    data = os.read(master, _READ)
                except OSError:  # EIO: the child closed the terminal (it exited)
                    break
                if not data:
                    break
                if math.isnan(first) and data.strip():
                    first = time.perf_counter() - start
                    mapped = mapped_model_mb(proc.pid)
                out += data
        except BaseException:  # timeout, Ctrl-C: never leave the child running
            proc.kill()
            proc.wait()
            raise
        finally:
            os.close(master)
        _, status, usage = os.wait4(proc.pid, 0)
        exit_s = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"kabar ask exited with {proc.returncode}: {' '.join(tail)}")
    # ru_maxrss is in kilobytes on Linux.
    return AskRun(first, exit_s, usage.ru_maxrss / 1024, proc.returncode, out.decode(errors="replace"), mapped)


def add_ask_rss(results: Results, r: AskRun) -> None:
    """The `kabar ask` peak-memory row."""
    results.add("5 memory", "peak RSS of `kabar ask`", f"{r.max_rss_mb / 1024:.2f} GiB", TARGETS["rss_gb"],
                r.max_rss_mb / 1024, note=f"of which the mmapped GGUF file {fmt(r.model_mapped_mb / 1024, 'GiB')}")


def run(data_dir: Path, repeats: int, results: Results) -> list[AskRun]:
    """`repeats` cold starts of `kabar ask` on the store in `data_dir`; rows for sections 1 and 5.

    Each repeat runs the process twice, interleaved so machine noise hits both alike: with the
    evaluated static prompt loaded from disk (`llm.prefix_cache`, kept by a first, uncounted run)
    and with it evaluated at start (`KABAR_LLM__PREFIX_CACHE=false`).
    """
    ask_once(data_dir)  # keeps the evaluated prefix on disk if no earlier run did
    runs, uncached = [], []
    for i in range(repeats):
        r = ask_once(data_dir)
        u = ask_once(data_dir, KABAR_LLM__PREFIX_CACHE="false")
        log(f"cold start {i + 1}/{repeats}: first output {r.first_output_s:.2f} s (prefix evaluated at start: "
            f"{u.first_output_s:.2f} s), exit {r.exit_s:.2f} s, peak RSS {r.max_rss_mb:.0f} MB")
        runs.append(r)
        uncached.append(u)
    median = len(runs) // 2

    def med(values: list[float]) -> float:
        return sorted(values)[median]

    first, first_u = med([r.first_output_s for r in runs]), med([r.first_output_s for r in uncached])
    results.add("1 cold start", "fresh `kabar ask`: process start → first answer token (median)",
                fmt(first, "s"), note=f"runs: {', '.join(f'{r.first_output_s:.1f}' for r in runs)} s")
    results.add("1 cold start", "the same with the static prefix evaluated at start, not loaded (`llm.prefix_cache: "
                "false`)", fmt(first_u, "s"),
                note=f"runs: {', '.join(f'{r.first_output_s:.1f}' for r in uncached)} s; ratio loaded/evaluated "
                     f"{first / first_u:.2f}")
    results.add("1 cold start", "fresh `kabar ask`: process start → exit (median)", fmt(med([r.exit_s for r in runs]),
                "s"), note=f"runs: {', '.join(f'{r.exit_s:.1f}' for r in runs)} s")
    add_ask_rss(results, max(runs + uncached, key=lambda r: r.max_rss_mb))
    results.notes.append(f"Cold start: `python -m bot.cli --data-dir <seed store> ask \"{QUESTION}\"`, stdout on a "
                         "pseudo-terminal so the answer streams; the GGUF file is in the page cache (warm disk).")
    return runs
