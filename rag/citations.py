"""Check and repair the `[n]` citations of a generated answer against the excerpts it was given."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import evidence_terms, salient_terms, split_sentences

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_ANY_BRACKET_NUMBER = re.compile(r"\s*\[[^\]]*\d[^\]]*\]")
_TRAILING = re.compile(r"([.!?…]*)\s*$")


@dataclass
class CitedSentence:
    """One answer sentence, its text without markers and the sources it is attributed to."""

    text: str
    sources: list[int]
    support: float


def parse_markers(text: str) -> list[int]:
    """Every number cited in `text`, in order; `[1, 2]` counts as 1 and 2."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
        out.extend(int(x) for x in re.split(r"\s*[,;]\s*", m.group(1)))
    return out


def strip_markers(text: str) -> str:
    """`text` without any bracketed citation, spaces tidied."""
    text = _ANY_BRACKET_NUMBER.sub("", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()


def support(text: str, source_terms: set[str]) -> float:
    """Share of the salient terms of `text` found in a source (1.0 when `text` has none)."""
    terms = salient_terms(text)
    if not terms:
        return 1.0
    return len(terms & source_terms) / len(terms)


def attribute(answer: str, sources: dict[int, str]) -> list[CitedSentence]:
    """Split `answer` into sentences and give each the sources that back it.

    The model's own `[n]` is kept when that source shares terms with the sentence; otherwise (or when
    it is missing or names no given source) the best-matching source is used; no match, no citation.
    """
    terms = {n: evidence_terms(t) for n, t in sources.items()}
    out: list[CitedSentence] = []
    for sent in split_sentences(answer) or [answer]:
        cited = [n for n in dict.fromkeys(parse_markers(sent)) if n in sources]
        body = strip_markers(sent)
        if not body:
            continue
        scores = {n: support(body, t) for n, t in terms.items()}
        keep = [n for n in cited if scores[n] > 0]
        if not keep and scores:
            best = max(scores, key=lambda n: (scores[n], -n))
            if scores[best] > 0:
                keep = [best]
        best_support = max((scores[n] for n in keep), default=0.0)
        out.append(CitedSentence(body, keep, best_support))
    return out


def render(sentences: list[CitedSentence]) -> str:
    """Sentences joined, each with its `[n]` markers before its closing punctuation."""
    parts = []
    for s in sentences:
        marks = "".join(f"[{n}]" for n in s.sources)
        if marks:
            m = _TRAILING.search(s.text)
            core, punct = s.text[: m.start()], m.group(1)
            parts.append(f"{core} {marks}{punct}")
        else:
            parts.append(s.text)
    return " ".join(parts)
