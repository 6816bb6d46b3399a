"""Print the failures of a predictions file against its gold set (a tuning aid).

Usage: python eval/inspect_run.py GOLD.jsonl PRED.jsonl
"""

import json
import sys
from pathlib import Path

from rag.evaluate import is_correct, load_gold
from rag.text import contains_phrase

gold = {g.id: g for g in load_gold(Path(sys.argv[1]))}
preds = [json.loads(line) for line in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines()]
for p in preds:
    g = gold[p["id"]]
    if is_correct(g, p):
        continue
    ctx = " ".join(c["text"] for c in p["contexts"])
    in_ctx = any(contains_phrase(ctx, a) for a in g.answers)
    srcs = [c["source"][:3] for c in p["contexts"]]
    print(f"--- {g.id} [{g.lang}] answerable={g.answerable} gold={g.answers} in_ctx={in_ctx} "
          f"gold_src={[s[:3] for s in g.sources]} ctx_src={srcs}")
    print(f"Q: {g.question}\nA: {p['answer']}\nraw: {p.get('raw', '')} reason: {p.get('reason', '')}")
