"""Presenting an evaluation run: metric tables, per-question verdicts, comparisons, the Markdown report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.errors import KabarError
from rag.evaluate import RETRIEVAL_KEYS, GoldItem, gold_rank, is_correct

# Rows of the metrics tables, in order (keys of rag.evaluate.score).
ANSWER_KEYS = (
    "questions", "accuracy", "answerable_accuracy", "f1", "abstention_accuracy", "false_abstention_rate",
    "citation_validity", "citation_hit", "citation_precision", "retrieval_recall", "mrr",
    "latency_p50", "latency_p95", "ttft_p50", "ttft_p95", "tokens_per_s", "errors",
)

Preds = dict[str, dict[str, Any]]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def metric_rows(slices: dict[str, dict[str, Any]], keys: tuple[str, ...]) -> list[list[str]]:
    """A header row (metric, slice names…) then one row per metric key."""
    names = list(slices)
    return [["metric", *names]] + [[k, *(_cell(slices[n].get(k)) for n in names)] for k in keys]


def text_table(slices: dict[str, dict[str, Any]], keys: tuple[str, ...] = ANSWER_KEYS) -> str:
    """The metrics per slice as an aligned plain-text table (metrics down, slices across)."""
    rows = metric_rows(slices, keys)
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [" ".join(cell.rjust(w) if c else cell.ljust(w) for c, (cell, w) in enumerate(zip(r, widths,
                                                                                               strict=True)))
             for r in rows]
    return "\n".join(lines)


def _md_escape(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (cells escaped, whitespace collapsed)."""
    out = ["| " + " | ".join(_md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def is_ok(item: GoldItem, pred: dict[str, Any] | None, retrieval_only: bool = False) -> bool:
    """Did the question pass? Full runs: the spec's correctness; retrieval-only: a gold source retrieved."""
    if pred is None or pred.get("error"):
        return False
    if retrieval_only:
        return not item.answerable or not item.sources or gold_rank(item, pred) is not None
    return is_correct(item, pred)


def verdict(item: GoldItem, pred: dict[str, Any] | None, retrieval_only: bool = False) -> str:
    """One word or two on how a question went."""
    if pred is None:
        return "missing"
    if pred.get("error"):
        return "error"
    if retrieval_only:
        if not item.answerable or not item.sources:
            return "n/a"
        return "retrieved" if is_ok(item, pred, True) else "missed"
    if is_correct(item, pred):
        return "correct"
    if item.answerable and pred.get("abstained"):
        return "false abstention"
    if not item.answerable:
        return "should abstain"
    return "wrong"


def change(item: GoldItem, new: dict[str, Any] | None, old: dict[str, Any] | None,
           retrieval_only: bool = False) -> str:
    """Against an earlier run: "fixed" (now passes, failed before), "broken" (the reverse), "same", or "new"."""
    if old is None:
        return "new"
    now, before = is_ok(item, new, retrieval_only), is_ok(item, old, retrieval_only)
    if now == before:
        return "same"
    return "fixed" if now else "broken"


def load_predictions(path: Path) -> Preds:
    """A predictions file (JSON Lines) by question id; unreadable lines are skipped (an interrupted run
    may end in half a line), but a file with no prediction at all is an error."""
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KabarError(f"cannot read the predictions {path}: {exc}") from None
    preds: Preds = {}
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and "id" in rec:
            preds[str(rec["id"])] = rec
    if not preds:
        raise KabarError(f"{path} holds no predictions (JSON lines with an \"id\")")
    return preds


def latency_histogram(preds: Preds, path: Path) -> Path:
    """Histogram of latency (and time to first token, when measured) of the run, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [p for p in preds.values() if not p.get("error")]
    latency = [float(p.get("latency_s", 0.0)) for p in done]
    ttft = [float(p.get("ttft_s", 0.0)) for p in done]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    bins = 20
    ax.hist(latency, bins=bins, alpha=0.7, label="latency")
    if any(ttft):
        ax.hist(ttft, bins=bins, alpha=0.7, label="first token")
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.set_title(f"Latency ({len(done)} questions)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def write_report(path: Path, items: list[GoldItem], preds: Preds, slices: dict[str, dict[str, Any]], *,
                 old: Preds | None = None, retrieval_only: bool = False, title: str = "Kabar evaluation",
                 note: str = "") -> Path:
    """Write the Markdown report (metrics per slice, per-question table with failures first) and, next to it,
    `<stem>_latency.png`. `old` adds a fixed / broken / same column. Returns the PNG's path."""
    keys = RETRIEVAL_KEYS if retrieval_only else ANSWER_KEYS
    png = latency_histogram(preds, path.with_name(f"{path.stem}_latency.png"))
    rows = metric_rows(slices, keys)
    asked = [i for i in items if i.id in preds]
    order = sorted(range(len(asked)), key=lambda k: (is_ok(asked[k], preds[asked[k].id], retrieval_only), k))
    header = ["id", "question", "gold", "answer", "cited sources", "verdict"]
    if retrieval_only:
        header[3:5] = ["retrieved sources", "gold rank"]
    if old is not None:
        header.append("vs old")
    table = []
    for k in order:
        item, pred = asked[k], preds[asked[k].id]
        gold = " / ".join(item.answers) if item.answers else "(unanswerable)"
        if retrieval_only:
            middle = [", ".join(c.get("source", "") for c in pred.get("contexts", [])),
                      _cell(gold_rank(item, pred))]
        else:
            answer = pred.get("answer", "") + (f" ⚠ {pred['error']}" if pred.get("error") else "")
            middle = [answer, ", ".join(dict.fromkeys(c.get("source", "") for c in pred.get("citations", [])))]
        row = [item.id, item.question, gold, *middle, verdict(item, pred, retrieval_only)]
        if old is not None:
            row.append(change(item, pred, old.get(item.id), retrieval_only))
        table.append(row)
    failures = sum(not is_ok(i, preds[i.id], retrieval_only) for i in asked)
    parts = [f"# {title}", ""]
    if note:
        parts += [note, ""]
    parts += [f"{len(asked)} of {len(items)} questions asked, {failures} failed"
              + (" (retrieval only: no answers generated)" if retrieval_only else "") + ".", ""]
    if old is not None:
        changes = [r[-1] for r in table]
        parts += [f"Against the earlier run: {changes.count('fixed')} fixed, {changes.count('broken')} broken, "
                  f"{changes.count('same')} same, {changes.count('new')} new.", ""]
    parts += ["## Metrics", "", markdown_table(rows[0], rows[1:]), "",
              f"![latency histogram]({png.name})", "", "## Questions (failures first)", "",
              markdown_table(header, table), ""]
    path.write_text("\n".join(parts), encoding="utf-8")
    return png
