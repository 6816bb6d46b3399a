"""Tuning aid: retrieval recall without the LLM (is a gold alias / gold document in what the model reads?).

Usage: python eval/retrieval_check.py GOLD.jsonl [-v]
"""

import sys
from pathlib import Path

from rag.answer import Pipeline
from rag.config import load_settings
from rag.evaluate import load_gold
from rag.lang import detect_language
from rag.text import contains_phrase

items = [i for i in load_gold(Path(sys.argv[1])) if i.answerable]
pipe = Pipeline.from_settings(load_settings(), load_model=False)
k = pipe.settings.retrieval.top_k
stats = {"doc@k": 0, "alias_in_chunks": 0, "alias_in_evidence": 0, "doc@1": 0}
per_lang = {}
for it in items:
    lang = detect_language(it.question)
    hits = pipe.retriever.search(it.question, lang, k)
    ev = pipe.retrieve(it.question, lang)
    docs = [h.metadata["source"] for h in hits]
    full = " ".join(h.text for h in hits)
    given = " ".join(e.text for e in ev)
    r = {
        "doc@1": bool(docs) and docs[0] in it.sources,
        "doc@k": any(d in it.sources for d in docs),
        "alias_in_chunks": any(contains_phrase(full, a) for a in it.answers),
        "alias_in_evidence": any(contains_phrase(given, a) for a in it.answers),
    }
    for key, v in r.items():
        stats[key] += v
        per_lang.setdefault(lang, {}).setdefault(key, 0)
        per_lang[lang][key] += v
    per_lang[lang]["n"] = per_lang[lang].get("n", 0) + 1
    if "-v" in sys.argv and not r["alias_in_evidence"]:
        print(f"MISS {it.id} [{lang}] {it.question} gold={it.answers} docs={[d[:3] for d in docs]} "
              f"in_chunks={r['alias_in_chunks']}")
print({key: round(v / len(items), 3) for key, v in stats.items()}, "n", len(items))
for lang, s in per_lang.items():
    print(lang, {key: round(v / s["n"], 3) for key, v in s.items() if key != "n"}, "n", s["n"])
