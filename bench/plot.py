"""Section 6: one PNG — retrieval latency against store size, and time to first token per question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import TARGETS

# Figure size in inches (two panels side by side) and resolution.
FIGSIZE = (13, 5)
DPI = 110


def write_plot(series: dict[str, Any], path: Path) -> Path:
    """Draw what was measured (a panel says so when its section did not run) into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE)
    _retrieval(left, series.get("retrieval") or [])
    _ttft(right, series.get("answers") or [])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _retrieval(ax: Any, rows: list[dict[str, float]]) -> None:
    from matplotlib.ticker import NullFormatter

    ax.set_title("Retrieval latency vs store size")
    if not rows:
        _not_measured(ax)
        return
    sizes = [r["size"] for r in rows]
    labels = {"dense": "dense (Chroma, vector given)", "bm25": "BM25 (bm25s)",
              "fused": "fused retriever (vector cached)", "fused_e2e": "fused, query embedded"}
    for i, (key, label) in enumerate(labels.items()):
        color = f"C{i}"
        ax.plot(sizes, [r[f"{key}_p50"] for r in rows], "o-", color=color, label=f"{label} p50")
        ax.plot(sizes, [r[f"{key}_p95"] for r in rows], "s--", color=color, alpha=0.6, label=f"{label} p95")
    target = TARGETS["retrieval_p95_100k"]
    ax.axhline(target.limit, color="red", lw=0.8, ls=":", label=f"target p95 {target} at 100k")
    ax.set_xscale("log")
    ax.set_yscale("log")  # BM25 takes a fraction of a millisecond, embedding a question tens of them
    ax.set_xticks(sizes)
    ax.set_xticklabels([f"{s:,}" for s in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("chunks in the store (log scale)")
    ax.set_ylabel("latency per query (ms, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def _ttft(ax: Any, rows: list[dict[str, Any]]) -> None:
    ax.set_title("Time to first token per question")
    if not rows:
        _not_measured(ax)
        return
    xs = range(len(rows))
    width = 0.4
    ax.bar([x - width / 2 for x in xs], [r["ttft"] for r in rows], width, label="kabar pipeline")
    ax.bar([x + width / 2 for x in xs], [r["bare_ttft"] for r in rows], width, label="bare llama-cpp, same prompt")
    target = TARGETS["ttft_p50"]
    ax.axhline(target.limit, color="red", lw=0.8, ls=":", label=f"target p50 {target}")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r["id"] for r in rows], rotation=90, fontsize=6)
    ax.set_ylabel("seconds")
    ax.legend(fontsize=8)


def _not_measured(ax: Any) -> None:
    ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
