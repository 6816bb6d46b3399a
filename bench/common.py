"""What the benchmark sections share: percentiles, result rows with targets, subprocess helpers."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FACQA_DIR = ROOT.parent / "shared" / "datasets" / "facqa"
SEEDS_GOLD = ROOT / "eval" / "seeds_gold.jsonl"
# Vectors and synthetic stores survive between runs here (rebuilt when their inputs change).
BENCH_CACHE = Path(os.path.expanduser("~/.cache/kabar/bench"))


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between the sorted values; nan for none."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def p50_p95(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile."""
    return percentile(values, 0.5), percentile(values, 0.95)


def fmt(value: float, unit: str = "", digits: int = 2) -> str:
    """A number with its unit, or "–" when it could not be measured."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class Target:
    """A goal from the issue: `measured <op> limit`."""

    limit: float
    op: str  # "<=" or ">="
    unit: str = ""

    def met(self, value: float) -> bool | None:
        """Whether `value` meets the target (None when nothing was measured)."""
        if value is None or math.isnan(value):
            return None
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def __str__(self) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {self.limit:g}{(' ' + self.unit) if self.unit else ''}"


# The targets the issue sets.
TARGETS = {
    "ttft_p50": Target(1.5, "<=", "s"),
    "total_p50": Target(6.0, "<=", "s"),
    "gen_ratio": Target(0.95, ">="),
    "retrieval_p95_100k": Target(20.0, "<=", "ms"),
    "rss_gb": Target(2.0, "<=", "GiB"),
    "embed_rate": Target(50.0, ">=", "chunks/s"),
}


@dataclass
class Row:
    """One line of the results table."""

    section: str
    measure: str
    measured: str
    target: Target | None = None
    value: float = float("nan")  # what the target is checked against
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        met = self.target.met(self.value)
        return "–" if met is None else ("yes" if met else "**no**")


@dataclass
class Results:
    """Everything a run measured: table rows, free-text notes and raw series for the plot."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # extra Markdown blocks (per-size tables …)
    series: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, section: str, measure: str, measured: str, target: Target | None = None,
            value: float = float("nan"), note: str = "") -> None:
        """Append a row."""
        self.rows.append(Row(section, measure, measured, target, value, note))

    def table(self) -> str:
        """The rows as one Markdown table."""
        lines = ["| section | measure | measured | target | met |", "|---|---|---|---|---|"]
        for r in self.rows:
            measured = f"{r.measured} ({r.note})" if r.note else r.measured
            lines.append(f"| {r.section} | {r.measure} | {measured} | {r.target or ''} | {r.verdict} |")
        return "\n".join(lines)


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def kabar_env(**extra: str) -> dict[str, str]:
    """Environment for a `python -m bot.cli` subprocess that imports this checkout's code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["ANONYMIZED_TELEMETRY"] = "False"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def kabar_cmd(data_dir: Path, *args: str) -> list[str]:
    """The command line of the `kabar` CLI from this checkout, on `data_dir`."""
    return [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir), *args]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of calling `fn`."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def mapped_model_mb(pid: int, suffix: str = ".gguf") -> float:
    """Resident MB of the memory-mapped model file in process `pid` (file pages, shared with the page cache)."""
    try:
        import psutil

        return sum(m.rss for m in psutil.Process(pid).memory_maps() if m.path.endswith(suffix)) / 2**20
    except Exception:  # psutil missing or the process gone: the breakdown is optional
        return float("nan")


def load_average() -> str:
    """The 1/5/15-minute load averages, to judge how noisy a run was."""
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"
