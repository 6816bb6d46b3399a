"""Tuning aid: re-run the answer checks on the model outputs of a tune.py run (no LLM needed).

Runs that kept the model's own reply ("generated") are replayed from it; older runs only kept the
reply after the repairs of their day ("raw"), so repairs removed since then still show in them.

Usage: python eval/replay.py GOLD.jsonl RUN.jsonl [-v] [--retry]

With --retry (needs KABAR_DATA_DIR and loads the model), an answer the checks withhold gets the later
attempts `kabar ask` would make, so changes to those attempts can be measured on a saved run.
"""

import json
import sys
from pathlib import Path

from rag.answer import Pipeline
from rag.evaluate import is_correct, load_gold, score
from rag.evidence import Evidence
from rag.lang import detect_language
from rag.prompting import Prompts
from rag.retrieve import Hit

gold = {g.id: g for g in load_gold(Path(sys.argv[1]))}
runs = [json.loads(line) for line in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines()]
from rag.config import load_settings  # noqa: E402

retry = "--retry" in sys.argv
pipe = Pipeline.from_settings(load_settings()) if retry else Pipeline(load_settings(), None, None, None, Prompts())
_META = ("title", "outlet", "date", "byline", "lede")
if retry:
    index = pipe.retriever
    index.chunk_count()  # builds the index the store's metadata is read from
preds = {}
for r in runs:
    metas = r.get("meta") or [{} for _ in r["contexts"]]
    if retry:  # the store's own metadata: saved runs lack some of it (a story's first sentence)
        metas = [{**index._metas[index._row[c["chunk_id"]]], **m} if c["chunk_id"] in index._row else m
                 for c, m in zip(r["contexts"], metas, strict=True)]
    ev = [Evidence(c["rank"], Hit(c["chunk_id"], m.get("full_text", c["text"]),
                                  {"source": c["source"], **{k: m[k] for k in _META if k in m}},
                                  c["score"]), c["text"])
          for c, m in zip(r["contexts"], metas, strict=True)]
    q = r["question"]
    # The model's own reply when the run kept it (the repairs of the code under test apply to it afresh).
    lang = detect_language(q)
    a = pipe._finish(q, lang, r.get("generated") or r["raw"], ev, r.get("translation", ""))
    if retry and a.abstained:
        messages = pipe.messages(q, lang, [(e, e.text) for e in ev], [], r.get("translation", ""))
        # A second attempt continues from the first one's evaluated prompt, as in `kabar ask`.
        pipe.model.complete(messages, 1, [])
        a = pipe.more_attempts(q, lang, None, [], messages, a, ev, r.get("translation", ""))
    p = a.prediction(r["id"])
    preds[r["id"]] = p
    ok = is_correct(gold[r["id"]], p)
    if "-v" in sys.argv and (ok != r["ok"] or not ok):
        print(f"{'FIXED' if ok and not r['ok'] else 'BROKE' if r['ok'] else 'wrong'} {r['id']} | {q[:70]} | "
              f"{r['raw'][:70]} | {a.text[:50]} | {a.reason}")
print(json.dumps(score(list(gold.values()), preds), indent=1))
