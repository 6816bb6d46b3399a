"""Run a gold question set through the pipeline and score it (formats: shared/spec/eval-format.md)."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.citations import parse_markers
from rag.errors import KabarError
from rag.text import contains_phrase, normalize_answer

# Metrics that need no answer: what `kabar eval --retrieval-only` reports.
RETRIEVAL_KEYS = ("questions", "retrieval_recall", "mrr", "latency_p50", "latency_p95", "errors")


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


def _strings(value: Any, field: str) -> list[str]:
    """A gold line's list of strings ("answers", "sources"); a bare string is a mistake, not a list of letters.

    A number in the list (`"answers": [2015]`) is taken as written.
    """
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in value):
        raise ValueError(f'"{field}" must be a list of strings')
    return [str(v) for v in value]


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
            answers = _strings(rec.get("answers", []), "answers")
            item = GoldItem(
                id=str(rec["id"]), question=str(rec["question"]), answers=answers,
                sources=_strings(rec.get("sources", []), "sources"),
                # A line without "answerable" is answerable when it gives answers.
                answerable=bool(rec.get("answerable", bool(answers))),
                answers_all=bool(rec.get("answers_all", False)), lang=str(rec.get("lang", "id")),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise KabarError(f"{path}:{no}: not a gold question ({type(exc).__name__}: {exc})") from None
        if not item.question.strip():
            raise KabarError(f"{path}:{no}: the question is empty")
        if item.answerable and not item.answers:
            # Nothing could ever match: every answer would be scored wrong.
            raise KabarError(f"{path}:{no}: an answerable question without answers (give \"answers\", or "
                             f"\"answerable\": false)")
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


def _share(a: Iterable, b: Iterable) -> float | None:
    """len(a)/len(b); None when there is nothing to measure (shown as "-", not as a perfect 1.0)."""
    a, b = list(a), list(b)
    return len(a) / len(b) if b else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def token_f1(answer: str, alias: str) -> float:
    """SQuAD-style token F1 between two texts, both in the spec's normal form (`[n]` markers dropped)."""
    a, b = normalize_answer(answer).split(), normalize_answer(alias).split()
    overlap = sum((Counter(a) & Counter(b)).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / len(a), overlap / len(b)
    return 2 * precision * recall / (precision + recall)


def answer_f1(item: GoldItem, pred: dict[str, Any]) -> float:
    """Token F1 of the answer against its best alias; 0 for an error or an abstention."""
    if pred.get("error") or pred.get("abstained"):
        return 0.0
    return max((token_f1(pred.get("answer", ""), a) for a in item.answers), default=0.0)


def gold_rank(item: GoldItem, pred: dict[str, Any]) -> int | None:
    """1-based position (prompt order) of the first context from a gold source; None if none is."""
    for pos, ctx in enumerate(pred.get("contexts", []), 1):
        if ctx.get("source") in item.sources:
            return pos
    return None


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def score(items: list[GoldItem], preds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Metrics of a run over `items` (items without a prediction count as wrong).

    Shares whose denominator is empty are 1.0 for the original keys (accuracy … citation_hit) and None
    for the newer ones (f1 … tokens_per_s), which means "not defined for this set".
    """
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    correct = [i for i in items if i.id in preds and is_correct(i, preds[i.id])]
    done = [preds[i.id] for i in items if i.id in preds]
    with_citations = [p for p in done if p.get("citations") or parse_markers(p.get("answer", ""))]
    valid = [p for p in with_citations if not citation_problems(p)]
    cited_hits = [
        i for i in answerable
        if i.id in preds and any(c.get("source") in i.sources for c in preds[i.id].get("citations", []))
    ]
    citations = [(i, c) for i in items if i.id in preds for c in preds[i.id].get("citations", [])]
    with_sources = [i for i in answerable if i.sources and i.id in preds]
    ranks = [gold_rank(i, preds[i.id]) for i in with_sources]
    timed = [p for p in done if not p.get("error")]
    latencies = [float(p.get("latency_s", 0.0)) for p in timed]
    ttfts = [float(p.get("ttft_s", 0.0)) for p in timed]
    generating = [p for p in timed if p.get("tokens_out", 0) > 0 and p.get("latency_s", 0.0) > p.get("ttft_s", 0.0)]
    gen_time = sum(p["latency_s"] - p.get("ttft_s", 0.0) for p in generating)
    return {
        "questions": len(items),
        "accuracy": _share(correct, items),
        "answerable_accuracy": _share([i for i in correct if i.answerable], answerable),
        "abstention_accuracy": _share([i for i in correct if not i.answerable], unanswerable),
        "false_abstention_rate": _share([i for i in answerable if preds.get(i.id, {}).get("abstained")],
                                        answerable),
        "citation_validity": _share(valid, with_citations),
        "citation_hit": _share(cited_hits, [i for i in answerable if i.id in preds and not
                                            preds[i.id].get("abstained")]),
        "errors": sum(1 for p in done if p.get("error")),
        "f1": _mean([answer_f1(i, preds.get(i.id, {"error": "missing"})) for i in answerable]),
        "citation_precision": (sum(c.get("source") in i.sources for i, c in citations) / len(citations)
                               if citations else None),
        "retrieval_recall": _mean([float(r is not None) for r in ranks]),
        "mrr": _mean([1 / r if r else 0.0 for r in ranks]),
        "latency_p50": percentile(latencies, 50),
        "latency_p95": percentile(latencies, 95),
        "ttft_p50": percentile(ttfts, 50),
        "ttft_p95": percentile(ttfts, 95),
        "tokens_per_s": sum(p["tokens_out"] for p in generating) / gen_time if generating else None,
    }


def slice_items(items: list[GoldItem]) -> dict[str, list[GoldItem]]:
    """The slices a run is broken down by; empty slices are left out ("all" is always there)."""
    slices = {
        "all": items,
        "lang=id": [i for i in items if i.lang == "id"],
        "lang=en": [i for i in items if i.lang == "en"],
        "answerable": [i for i in items if i.answerable],
        "unanswerable": [i for i in items if not i.answerable],
    }
    return {name: sub for name, sub in slices.items() if sub or name == "all"}


def score_slices(items: list[GoldItem], preds: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`score` for every slice: "all", "lang=id", "lang=en", "answerable", "unanswerable" (non-empty ones)."""
    return {name: score(sub, preds) for name, sub in slice_items(items).items()}


def retrieval_prediction(pipeline: Any, question: str) -> dict[str, Any]:
    """A predictions-format object with the contexts only (no LLM): answer "", no citations, ttft 0."""
    from rag.answer import Answer, Context, clean_question
    from rag.lang import detect_language

    started = time.perf_counter()
    question = clean_question(question, pipeline.settings.answer.max_question_chars)
    if pipeline.store.count() == 0:
        raise KabarError("the store is empty: run `kabar ingest` first")
    lang = detect_language(question)
    evidence = pipeline.retrieve(question, lang)
    contexts = [Context.from_evidence(e) for e in evidence]
    answer = Answer(question, "", False, lang, [], contexts, latency_s=time.perf_counter() - started)
    return answer.prediction()


def run_eval(items: list[GoldItem], ask: Callable[[str], dict[str, Any]], out: Path | None,
             on_result: Callable[[GoldItem, dict[str, Any]], None] | None = None,
             preds: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Ask every question (fresh conversation each), writing one predictions line per question as it goes.

    A failing question gets a line with "error" and the run goes on. Results are also put in `preds` (when
    given) as they come, so a caller that catches KeyboardInterrupt still has every finished question; the
    file then holds exactly those lines.
    """
    preds = {} if preds is None else preds
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
