"""Choose what the model reads: the retrieved chunks, trimmed to their sentences that bear on the question."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from rag.retrieve import Hit
from rag.text import acronyms, content_words, fold, split_sentences, terms_with_acronyms

# A sentence's own match with the question counts this much more than its chunk's retrieval rank.
_RANK_PRIOR = 1.0
# e5 cosine similarities sit in a narrow band; this baseline and scale put them on the word-match scale.
_SIM_BASELINE = 0.75
_SIM_SCALE = 10.0


@dataclass
class Evidence:
    """A numbered source given to the model: the excerpt of one retrieved chunk."""

    n: int
    hit: Hit
    text: str  # the sentences shown to the model, in document order

    @property
    def doc_id(self) -> str:
        return self.hit.metadata.get("source", "")


def _sentence_score(overlap: set[str], names: set[str], holders: Counter[str] | None = None) -> float:
    """What the question terms a sentence shares are worth; with `holders`, each is divided by how many
    sentences hold it."""
    # Names and numbers pin down the event; shared generic words say less.
    return sum((2.0 if (t in names or t.isdigit()) else 1.0) / (holders[t] if holders else 1) for t in overlap)


def _question_terms(question: str) -> tuple[set[str], set[str]]:
    """The question's terms a sentence can share, and those of them that are names."""
    # A body named in full on one side and by its initials on the other still matches ("SCO").
    q_acronyms = acronyms(question)
    q_terms = set(content_words(question)) | q_acronyms
    return q_terms, {fold(w) for w in question.split() if w[:1].isupper()} | q_acronyms


def _score_sentences(question: str, per_hit: list[list[str]],
                     similarity: Callable[[list[str]], list[float]] | None, dense_weight: float,
                     by_rarity: bool = False) -> list[tuple[float, int, int, str]]:
    """(score, hit index, sentence index, sentence) of every sentence of every hit, in order.

    With `by_rarity`, a question term counts less the more of the sentences hold it.
    """
    q_terms, names = _question_terms(question)
    sentences = [sent for sents in per_hit for sent in sents]
    shared = [q_terms & set(terms_with_acronyms(sent)) for sent in sentences]
    holders = Counter(t for terms in shared for t in terms) if by_rarity else None
    sims: list[float] = []
    if similarity and dense_weight > 0:
        sims = similarity(sentences)
    scored = []
    k = 0
    for hi, sents in enumerate(per_hit):
        prior = _RANK_PRIOR / (hi + 1)
        for si, sent in enumerate(sents):
            dense = dense_weight * _SIM_SCALE * (sims[k] - _SIM_BASELINE) if sims else 0.0
            scored.append((_sentence_score(shared[k], names, holders) + prior + dense, hi, si, sent))
            k += 1
    return scored


def select_evidence(question: str, hits: list[Hit], budget: int, count_tokens: Callable[[str], int],
                    similarity: Callable[[list[str]], list[float]] | None = None, dense_weight: float = 0.0,
                    min_relative: float = 0.0) -> list[Evidence]:
    """Per retrieved chunk, keep the sentences that match the question best, within `budget` tokens.

    A sentence scores by the question words it shares (names, acronyms and numbers count double), its
    chunk's rank and, with `similarity`, its embedding similarity to the question (which also
    works across languages). A chunk whose best sentence scores below `min_relative` times the best
    sentence's is dropped; every other chunk keeps at least its best sentence; sentences are shown in
    their original order.
    """
    per_hit = [split_sentences(hit.text) for hit in hits]
    scored = [(*item, count_tokens(item[3]) + 1)
              for item in _score_sentences(question, per_hit, similarity, dense_weight)]

    if min_relative > 0 and scored:
        # A chunk whose best sentence matches the question far worse than the best chunk's only
        # distracts a small model (it answers from the wrong excerpt): leave it out.
        top = max(item[0] for item in scored)
        strong = {item[1] for item in scored if item[0] >= min_relative * top}
        scored = [item for item in scored if item[1] in strong]

    chosen: dict[int, set[int]] = {}
    used = 0
    # First the best sentence of each chunk (rank order), then the best remaining sentences overall.
    best_per_hit: dict[int, tuple] = {}
    for item in scored:
        if item[1] not in best_per_hit or item[0] > best_per_hit[item[1]][0]:
            best_per_hit[item[1]] = item
    firsts = [best_per_hit[h] for h in sorted(best_per_hit)]
    rest = sorted((it for it in scored if it not in firsts), key=lambda it: (-it[0], it[1], it[2]))
    for item in firsts + rest:
        _, hi, si, _, tokens = item
        if used + tokens > budget and used > 0:
            continue
        chosen.setdefault(hi, set()).add(si)
        used += tokens

    evidence: list[Evidence] = []
    for hi in sorted(chosen):
        sents = per_hit[hi]
        text = " ".join(sents[si] for si in sorted(chosen[hi]))
        evidence.append(Evidence(len(evidence) + 1, hits[hi], text))
    return evidence


def focus_sentence(question: str, evidence: list[Evidence],
                   similarity: Callable[[list[str]], list[float]] | None = None,
                   dense_weight: float = 0.0) -> tuple[Evidence, str] | None:
    """The excerpt sentence that matches the question best, with its excerpt.

    Scored as `select_evidence` scores, except that a question word counts less the more of the
    shown sentences hold it: the name every excerpt was found by does not tell them apart, the
    words of what is asked about do ("panggilan akrab"). None when there is no sentence, or when
    the excerpts shown are that one sentence already.
    """
    per_hit = [split_sentences(e.text) for e in evidence]
    scored = _score_sentences(question, per_hit, similarity, dense_weight, by_rarity=True)
    if len(scored) < 2:
        return None
    # The earliest of equal best sentences, as retrieval ranked them.
    _, hi, _, sentence = max(scored, key=lambda item: (item[0], -item[1], -item[2]))
    return evidence[hi], sentence
