"""Tuning aid: run gold questions through the pipeline and show evidence, raw output and verdicts.

Usage: python eval/tune.py GOLD.jsonl [--ids s001,s002] [--show-all] [--no-evidence]
Needs KABAR_DATA_DIR pointing at an ingested store.
"""

import argparse
import json
import time
from pathlib import Path

from rag.answer import Pipeline
from rag.config import load_settings
from rag.evaluate import is_correct, load_gold, score
from rag.text import contains_phrase

ap = argparse.ArgumentParser()
ap.add_argument("gold")
ap.add_argument("--ids", default="")
ap.add_argument("--show-all", action="store_true")
ap.add_argument("--no-evidence", action="store_true")
ap.add_argument("--out", default="")
args = ap.parse_args()
items = load_gold(Path(args.gold))
if args.ids:
    wanted = set(args.ids.split(","))
    items = [i for i in items if i.id in wanted]
pipe = Pipeline.from_settings(load_settings())
preds = {}
t0 = time.time()
out = open(args.out, "w") if args.out else None  # noqa: SIM115 (written as the run goes)
for it in items:
    a = pipe.ask(it.question)
    p = a.prediction(it.id)
    preds[it.id] = p
    ok = is_correct(it, p)
    if out:
        meta = [{"title": c.title, "outlet": c.outlet, "date": c.date, "full_text": c.full_text, "byline": c.byline}
                for c in a.contexts]
        record = {**p, "raw": a.raw, "generated": a.generated, "reason": a.reason, "ok": ok, "meta": meta,
                  "translation": a.translation}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if ok and not args.show_all:
        continue
    ctx = " ".join(c.full_text for c in a.contexts)
    given = " ".join(c.text for c in a.contexts)
    print(f"--- {it.id} [{it.lang}] ok={ok} answerable={it.answerable} gold={it.answers} "
          f"in_chunks={any(contains_phrase(ctx, x) for x in it.answers)} "
          f"in_given={any(contains_phrase(given, x) for x in it.answers)} gold_src={[s[:3] for s in it.sources]}")
    print(f"Q: {it.question}\nRAW: {a.raw!r}\nA: {a.text}  ({a.reason})  ttft={a.ttft_s:.1f}")
    if not args.no_evidence:
        for c in a.contexts:
            print(f"   [{c.rank}] {c.source[:3]} {c.text[:300]}")
m = score(items, preds)
print(json.dumps(m, indent=1), f"{time.time() - t0:.0f}s")
ttft = sorted(p["ttft_s"] for p in preds.values())
print("ttft p50", ttft[len(ttft) // 2], "latency p50", sorted(p["latency_s"] for p in preds.values())[len(ttft) // 2])
