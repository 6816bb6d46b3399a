"""Run a gold question set through the pipeline and score it (formats: shared/spec/eval-format.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.citations import parse_markers
from rag.errors import KabarError
from rag.text import contains_phrase


@dataclass
class GoldItem:
    """One gold question."""

    id: str
    question: str
    answers: list[str]
    sources: list[str]
    answerable: bool
    answers_all: bool = False
    lang: str = "id"


def load_gold(path: Path) -> list[GoldItem]:
    """Read and check a gold set; a bad line is an error naming the line."""
    items: list[GoldItem] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KabarError(f"cannot read the gold set {path}: {exc}") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            item = GoldItem(
                id=str(rec["id"]), question=str(rec["question"]), answers=[str(a) for a in rec.get("answers", [])],
                sources=[str(s) for s in rec.get("sources", [])], answerable=bool(rec.get("answerable", True)),
                answers_all=bool(rec.get("answers_all", False)), lang=str(rec.get("lang", "id")),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise KabarError(f"{path}:{no}: not a gold question ({type(exc).__name__}: {exc})") from None
        if item.id in seen:
            raise KabarError(f"{path}:{no}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise KabarError(f"the gold set {path} has no questions")
    return items


def is_correct(item: GoldItem, pred: dict[str, Any]) -> bool:
    """The spec's rule: an alias (or every alias) as a whole-word sequence; unanswerable → abstained."""
    if pred.get("error"):
        return False
    if not item.answerable:
        return bool(pred.get("abstained"))
    if pred.get("abstained"):
        return False
    answer = pred.get("answer", "")
    hits = [contains_phrase(answer, a) for a in item.answers]
    return all(hits) if item.answers_all else any(hits)


def citation_problems(pred: dict[str, Any]) -> list[str]:
    """Broken rules of the predictions format about citations (empty list: all valid)."""
    problems = []
    cited = {c.get("n"): c for c in pred.get("citations", [])}
    context_ids = {c.get("chunk_id") for c in pred.get("contexts", [])}
    for n in parse_markers(pred.get("answer", "")):
        if n not in cited:
            problems.append(f"[{n}] has no citation entry")
    for c in cited.values():
        if c.get("chunk_id") not in context_ids:
            problems.append(f"citation {c.get('n')} points outside the contexts")
    if pred.get("abstained") and (cited or parse_markers(pred.get("answer", ""))):
        problems.append("abstained answer cites")
    return problems


def score(items: list[GoldItem], preds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Headline metrics of a run."""
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    correct = [i for i in items if i.id in preds and is_correct(i, preds[i.id])]
    with_citations = [p for p in preds.values() if p.get("citations") or parse_markers(p.get("answer", ""))]
    valid = [p for p in with_citations if not citation_problems(p)]
    cited_hits = [
        i for i in answerable
        if i.id in preds and any(c.get("source") in i.sources for c in preds[i.id].get("citations", []))
    ]
    def share(a: Iterable, b: Iterable) -> float:
        a, b = list(a), list(b)
        return len(a) / len(b) if b else 1.0
    return {
        "questions": len(items),
        "accuracy": share(correct, items),
        "answerable_accuracy": share([i for i in correct if i.answerable], answerable),
        "abstention_accuracy": share([i for i in correct if not i.answerable], unanswerable),
        "false_abstention_rate": share([i for i in answerable if preds.get(i.id, {}).get("abstained")],
                                       answerable),
        "citation_validity": share(valid, with_citations),
        "citation_hit": share(cited_hits, [i for i in answerable if i.id in preds and not
                                           preds[i.id].get("abstained")]),
        "errors": sum(1 for p in preds.values() if p.get("error")),
    }


def run_eval(items: list[GoldItem], ask: Callable[[str], dict[str, Any]], out: Path | None,
             on_result: Callable[[GoldItem, dict[str, Any]], None] | None = None) -> dict[str, dict[str, Any]]:
    """Ask every question (fresh conversation each), writing one predictions line per question as it goes.

    A failing question gets a line with "error" and the run goes on.
    """
    preds: dict[str, dict[str, Any]] = {}
    fh = out.open("w", encoding="utf-8") if out else None
    try:
        for item in items:
            started = time.perf_counter()
            try:
                pred = {"id": item.id, **ask(item.question)}
            except Exception as exc:  # one bad question must not stop the run
                pred = {"id": item.id, "question": item.question, "answer": "", "abstained": False,
                        "citations": [], "contexts": [], "latency_s": round(time.perf_counter() - started, 3),
                        "ttft_s": 0.0, "tokens_out": 0, "error": f"{type(exc).__name__}: {exc}"}
            preds[item.id] = pred
            if fh:
                fh.write(json.dumps(pred, ensure_ascii=False) + "\n")
                fh.flush()
            if on_result:
                on_result(item, pred)
    finally:
        if fh:
            fh.close()
    return preds
