"""Code-side checks that decide whether a generated answer may be shown (the model is not trusted to)."""

from __future__ import annotations

import difflib
import re

from rag.text import (
    MONTH_NAMES,
    MONTHS,
    NUMBER_WORDS,
    content_words,
    evidence_terms,
    fold,
    light_root,
    new_terms,
    normalize_answer,
    salient_terms,
    term_in,
)

# What kind of answer a question asks for, by its question words (folded, whole words).
_EXPECTS = [
    ("time", re.compile(r"\b(kapan|kapankah|tanggal berapa|tahun berapa|bulan apa|hari apa|sejak kapan|"
                        r"sampai kapan|when|what date|which date|what year|which year|what day|which day|"
                        r"what month|which month)\b")),
    ("number", re.compile(r"\b(berapa|berapakah|how many|how much|how long|how old)\b")),
    ("name", re.compile(r"\b(siapa|siapakah|who|whom|whose)\b")),
    ("place", re.compile(r"\b(di ?mana|ke ?mana|kota mana|kota apa|negara mana|negara apa|where|"
                         r"which city|what city|which country|what country)\b")),
]
_TIME_WORDS = {"hari", "pekan", "minggu", "bulan", "tahun", "pagi", "siang", "sore", "malam", "kemarin", "besok",
               "lalu", "day", "days", "week", "weeks", "month", "months", "year", "years", "yesterday", "today",
               "tomorrow", "morning", "evening", "night", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu",
               "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "abad", "century"}
_NUMBER_WORDS_EXTRA = {"puluh", "puluhan", "ratus", "ratusan", "ribu", "ribuan", "juta", "jutaan", "miliar",
                       "triliun", "belas", "hundred", "thousand", "million", "billion", "dozen", "sepuluh",
                       "seratus", "seribu", "sejuta", "kedua", "ketiga", "first", "second", "third"}


def expected_kind(question: str) -> str:
    """"time", "number", "name", "place" or "" (no constraint) for a question."""
    q = " ".join(re.findall(r"\w+", fold(question)))
    for kind, pattern in _EXPECTS:
        if pattern.search(q):
            return kind
    return ""


def has_kind(answer: str, kind: str) -> bool:
    """Whether the answer contains something of the expected kind at all."""
    tokens = re.findall(r"\w+", answer)
    folded = [fold(t) for t in tokens]
    has_digit = any(t.isdigit() for t in folded)
    if kind == "time":
        return has_digit or any(t in MONTHS or t in _TIME_WORDS for t in folded)
    if kind == "number":
        return has_digit or any(t in NUMBER_WORDS or t in _NUMBER_WORDS_EXTRA for t in folded)
    if kind in ("name", "place"):
        return any(t[:1].isupper() for t in tokens[1:]) or bool(tokens and tokens[0][:1].isupper()
                                                                 and len(tokens) <= 6)
    return True


_MONTH_ALTERNATION = "|".join(MONTH_NAMES["id"] + MONTH_NAMES["en"])
_DATE_WITH_YEAR = re.compile(rf"\b(\d{{1,2}}\s+(?:{_MONTH_ALTERNATION}))\s+(\d{{4}})\b", re.IGNORECASE)


def drop_invented_years(answer: str, evidence_text: str) -> str:
    """"2 Agustus 2018" → "2 Agustus" when the sources give the day and month but never that year.

    Short news items often date events by day and month only ("Selasa (2/8)"); a small model
    then adds a year of its own. The date without it is what the sources support.
    """
    vocabulary = evidence_terms(evidence_text)
    return _DATE_WITH_YEAR.sub(lambda m: m.group(0) if m.group(2) in vocabulary else m.group(1), answer)


_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_ALTERNATION})\b(?!\s+\d)", re.IGNORECASE)
_WEEKDAYS = "Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu"


def date_as_written(answer: str, evidence_text: str) -> str:
    """"9 September" → "Jumat (9/9)" when the sources date it that way and give no year.

    Indonesian news dates events by weekday and day/month ("Jumat (9/9)"); a small model
    rewrites that as "9 September". The source's own form is what it said, and is kept.
    """
    def written(m: re.Match) -> str:
        day, month = int(m.group(1)), MONTHS[m.group(2).lower()]
        found = re.search(rf"(?:\b(?:{_WEEKDAYS})\s*)?\(\s*0?{day}/0?{month}\s*\)", evidence_text)
        return found.group(0) if found else m.group(0)

    return _DAY_MONTH.sub(written, answer)


_SNAP_MAX_WORDS = 8
_SNAP_MIN_RATIO = 0.8


def snap_to_evidence(answer: str, evidence_texts: list[str]) -> str | None:
    """The evidence's own words for a short answer the model miscopied ("Kratatau" → "Krakatau"), else None.

    Only a wordy answer that is not already in the evidence word for word, and close to one span of it
    (character similarity of the normal forms ≥ 0.8 over a window of about its length), is replaced.
    """
    target = normalize_answer(answer)
    n = len(target.split())
    # Numbers and dates are written many ways ("15/9/2022", "15-16 September"): only words are snapped.
    if not target or n > _SNAP_MAX_WORDS or any(ch.isdigit() for ch in target):
        return None
    best, best_ratio = None, _SNAP_MIN_RATIO
    for text in evidence_texts:
        tokens = text.split()
        normal = [normalize_answer(t) for t in tokens]
        if f" {target} " in f" {' '.join(w for w in normal if w)} ":
            return None
        for size in {max(1, n - 1), n, n + 1}:
            for i in range(len(tokens) - size + 1):
                window = " ".join(w for w in normal[i:i + size] if w)
                ratio = difflib.SequenceMatcher(None, target, window).ratio()
                if ratio > best_ratio:
                    best, best_ratio = " ".join(tokens[i:i + size]), ratio
    return best.strip(",.;:()\"'“”") if best else None


def _similar(term: str, vocabulary: set[str]) -> bool:
    # Names change spelling across languages (Moscow/Moskow, Korean/Korea): close enough counts.
    if term in vocabulary:
        return True
    if term.isdigit() or term.startswith("month") or len(term) < 4:
        return False
    return any(v[:1] == term[:1] and abs(len(v) - len(term)) <= 3
               and difflib.SequenceMatcher(None, term, v).ratio() >= 0.75 for v in vocabulary)


def grounding(answer: str, question: str, evidence_text: str, lang: str) -> tuple[float, bool]:
    """(share of what the answer adds that the evidence holds, every new number/date found there).

    Only what the answer adds to the question counts: repeating the question's words proves nothing.
    Names, numbers and dates are checked in any language; other words only when the answer is in the
    articles' language (Indonesian), since an English answer paraphrases them.
    """
    vocabulary = evidence_terms(evidence_text)
    fresh, old = new_terms(answer, question)
    if not fresh:
        asked = evidence_terms(question) | old
        asked_roots = {light_root(w) for w in asked}
        words = [w for w in content_words(answer) if not term_in(w, asked, asked_roots)]
        if not words:
            return 0.0, True  # the reply only restates the question
        if lang != "id":
            return 1.0, True
        roots = {light_root(w) for w in vocabulary}
        return sum(term_in(w, vocabulary, roots) for w in words) / len(words), True
    numbers = {t for t in fresh if t.isdigit() or t.startswith("month")}
    names = fresh - numbers
    numbers_ok = numbers <= vocabulary
    if not names:
        return 1.0, numbers_ok
    return sum(_similar(t, vocabulary) for t in names) / len(names), numbers_ok


def _question_terms(question: str, lang: str) -> set[str]:
    # English questions meet Indonesian articles only through what survives translation.
    if lang == "en":
        terms = salient_terms(question.split(" ", 1)[1] if " " in question else question)
    else:
        terms = set(content_words(question))
    # "Which two cities …", "dua kota apa …": a spelled-out count shapes the answer; it is not a topic.
    spelled = {w for w in re.findall(r"\w+", fold(question)) if w in NUMBER_WORDS}
    return terms - spelled - {str(NUMBER_WORDS[w]) for w in spelled}


def _found(terms: set[str], text: str) -> int:
    vocabulary = evidence_terms(text) | set(content_words(text))
    roots = {light_root(w) for w in vocabulary}
    return sum(term_in(t, vocabulary, roots) or _similar(t, vocabulary) for t in terms)


def question_coverage(question: str, lang: str, text: str) -> float:
    """Share of the question's key terms found in `text` (the retrieved chunks).

    Indonesian questions are compared word by word (light roots for affixes); English ones against
    Indonesian articles only by what survives translation: names and numbers.
    """
    terms = _question_terms(question, lang)
    return _found(terms, text) / len(terms) if terms else 1.0


def about_question(question: str, lang: str, text: str) -> bool:
    """Whether a cited passage shares at least one key term with the question.

    An answer taken from a passage about something else (a name near the right words, but in a
    sentence about another matter) fails this.
    """
    terms = _question_terms(question, lang)
    return not terms or _found(terms, text) > 0


_CLAUSE_SPLIT = re.compile(r"\s*(?:[;:]|,\s+(?:sedangkan|sementara|namun|tetapi|dan|while|but|whereas)\b|"
                           r"\s(?:sedangkan|sementara|whereas)\b)\s*", re.IGNORECASE)
_NAME_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|bin|van|de|al))*")
_NOT_NAMES = set(MONTHS) | {"senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu", "monday", "tuesday",
                            "wednesday", "thursday", "friday", "saturday", "sunday"}


def _clause_score(terms: set[str], clause: str) -> float:
    vocabulary = evidence_terms(clause) | set(content_words(clause))
    roots = {light_root(w) for w in vocabulary}
    return sum((2.0 if t.isdigit() else 1.0) for t in terms if term_in(t, vocabulary, roots))


def repair_span(answer: str, question: str, lang: str, evidence_texts: list[str]) -> str | None:
    """A better short answer when the model took a name from the wrong clause, else None.

    Small models often copy the first name of a sentence ("di Tianjin …, sedangkan … di Beijing").
    When the clause that matches the question best does not hold the answer, and holds exactly one
    name of the asked kind that the question does not already name, that name is the answer.
    Only short answers to who/where questions are repaired.
    """
    kind = expected_kind(question)
    if kind not in ("name", "place") or len(answer.split()) > 6:
        return None
    terms = _question_terms(question, "id")
    clauses = [c for text in evidence_texts for c in _CLAUSE_SPLIT.split(text) if c.strip()]
    if not clauses or not terms:
        return None
    scored = sorted(((_clause_score(terms, c), i) for i, c in enumerate(clauses)), reverse=True)
    best_score, best = scored[0]
    if len(scored) > 1 and scored[1][0] == best_score:
        return None  # no clear best clause
    answer_terms = salient_terms(answer)
    holding = [s for s, i in scored if answer_terms and answer_terms <= evidence_terms(clauses[i])]
    if not answer_terms or (holding and holding[0] >= best_score):
        return None
    asked = evidence_terms(question)
    candidates = []
    for m in _NAME_RUN.finditer(clauses[best]):
        run = m.group(0).strip()
        run_terms = salient_terms(run)
        if m.start() == 0 or not run_terms or run_terms & asked or fold(run) in _NOT_NAMES:
            continue
        candidates.append(run)
    unique = list(dict.fromkeys(candidates))
    return unique[0] if len(unique) == 1 else None
