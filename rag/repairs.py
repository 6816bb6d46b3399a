"""Repairs of a generated answer before it is checked: the sources' own words, spans and dates.

A 1.5B model finds the right place in an excerpt more often than it copies it faithfully: it
takes a neighbouring name, adds a year, rewrites a dateline date, misspells a name or drops a
qualifier. Each repair below puts back what the source wrote; none invents anything.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import Counter

from rag.answer_checks import JOINERS, RESTATED_SHARE, asked_noun, expected_kind, question_terms
from rag.places import ENGLISH_TO_INDONESIAN, LANGUAGES, OFFICES
from rag.text import (
    ACRONYM_GLUE,
    CAPITALISED_RUN,
    MONTH_ALTERNATION,
    MONTHS,
    NUMBER_WORDS,
    PLACE_HEADS,
    content_words,
    evidence_terms,
    fold,
    light_root,
    normalize_answer,
    salient_terms,
    split_sentences,
    stopwords,
    term_in,
    words,
)

_DATE_WITH_YEAR = re.compile(rf"\b(\d{{1,2}}\s+(?:{MONTH_ALTERNATION}))\s+(\d{{4}})\b", re.IGNORECASE)


def drop_invented_years(answer: str, evidence_text: str) -> str:
    """"2 Agustus 2018" → "2 Agustus" when the sources give the day and month but never that year.

    Short news items often date events by day and month only ("Selasa (2/8)"); a small model
    then adds a year of its own. The date without it is what the sources support.
    """
    vocabulary = evidence_terms(evidence_text)
    return _DATE_WITH_YEAR.sub(lambda m: m.group(0) if m.group(2) in vocabulary else m.group(1), answer)


# A full date in an answer, day first ("7 Agustus 1800") or month first ("August 7, 1800").
_FULL_DATE = re.compile(rf"\b(?:(?P<day>\d{{1,2}})\s+(?P<month>{MONTH_ALTERNATION})|(?P<month2>{MONTH_ALTERNATION})\s+"
                        rf"(?P<day2>\d{{1,2}}),?)\s+(?P<year>\d{{4}})\b", re.IGNORECASE)


def year_as_written(answer: str, evidence_text: str) -> str:
    """"August 7, 1800" → "August 7, 2005" when the sources date that day only as "7 Agustus 2005".

    The model sometimes pairs a date with another year of the same excerpt ("Tahun 1800-an, kota yang
    tanggal 7 Agustus 2005 …"); a year the sources never write with that day and month gives way to the
    one they do write with it, when there is exactly one.
    """
    source_dates = _source_dates(evidence_text)

    def fix(m: re.Match) -> str:
        with_year = {int(y) for day_month, y in source_dates if day_month == _day_month(m) and y}
        if len(with_year) != 1 or int(m.group("year")) in with_year:
            return m.group(0)
        return m.group(0)[: m.start("year") - m.start()] + str(with_year.pop())

    return _FULL_DATE.sub(fix, answer)


def _day_month(m: re.Match) -> tuple[int, int]:
    """(day, month) of a `_FULL_DATE` match, whichever order it was written in."""
    return int(m.group("day") or m.group("day2")), MONTHS[(m.group("month") or m.group("month2")).lower()]


def _source_dates(text: str) -> list[tuple[tuple[int, int], str]]:
    """((day, month), year or "") of every date the text writes in words or as d/m/yyyy."""
    dates = [(_day_month(m), m.group("year")) for m in _FULL_DATE.finditer(text)]
    dates += [((int(d), int(mo)), y) for d, mo, y in re.findall(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", text)
              if 1 <= int(mo) <= 12]
    return dates


_DAY_MONTH_TEXT = rf"\b(?P<day>\d{{1,2}})\s+(?P<month>{MONTH_ALTERNATION})\b(?:\s+(?P<year>\d{{4}})\b)?(?!\s*\d)"
_DAY_MONTH = re.compile(_DAY_MONTH_TEXT, re.IGNORECASE)
_WEEKDAYS = "Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu"
# A day and month in an answer, with the weekday and brackets the model may have copied around it
# ("Jumat (26 Agustus)"): all of it gives way to the source's form.
_DATELINE_IN_ANSWER = re.compile(rf"(?:\b(?:{_WEEKDAYS})\s*)?(?P<open>\()?{_DAY_MONTH_TEXT}(?(open)\s*\))",
                                 re.IGNORECASE)


def date_as_written(answer: str, evidence_text: str) -> str:
    """"9 September" (or "9 September 2005") → "Jumat (9/9)" when the sources date it only that way.

    Indonesian news dates events by weekday and day/month ("Jumat (9/9)"); a small model
    rewrites that as "9 September" and often adds a year taken from elsewhere in the text. The
    source's own form is what it said, and is kept; a year the sources write with that very date
    ("9 September 2005", "9/9/2005") stays.
    """
    def written(m: re.Match) -> str:
        day, month, year = int(m.group("day")), MONTHS[m.group("month").lower()], m.group("year")
        found = re.search(rf"(?:\b(?:{_WEEKDAYS})\s*)?\(\s*0?{day}/\s*0?{month}\s*\)", evidence_text)
        if not found:
            return _misread_dateline(m, day, evidence_text)
        if year and re.search(rf"\b0?{day}\s*(?:/\s*0?{month}\s*/|\s(?:{MONTH_ALTERNATION})\s)\s*{year}\b",
                              evidence_text, re.IGNORECASE):
            return m.group(0)  # the sources date it with this year too
        return found.group(0)

    return _DATELINE_IN_ANSWER.sub(written, answer)


def _misread_dateline(m: re.Match, day: int, evidence_text: str) -> str:
    """The one dateline of that day ("Rabu (5/10)") for a date the sources never write ("5 Desember").

    The model reads "(5/10)" right as the 5th and often wrong as to the month; a date of that day
    in words anywhere in the sources, or two datelines of that day, leave the answer as it is.
    """
    if _date_in_words(day, evidence_text):
        return m.group(0)
    datelines = {d.group(0): d for d in re.finditer(rf"(?:\b(?:{_WEEKDAYS})\s*)?\(\s*0?{day}/\s*(\d{{1,2}})\s*\)",
                                                     evidence_text)}
    months = {int(d.group(1)) for d in datelines.values()}
    return next(iter(datelines)) if len(months) == 1 and len(datelines) == 1 else m.group(0)


def _date_in_words(day: int, text: str) -> bool:
    return re.search(rf"\b0?{day}\s+(?:{MONTH_ALTERNATION})\b", text, re.IGNORECASE) is not None


_REORDER_MAX_WORDS = 4


def _held_as_is(target: list[str], evidence_texts: list[str]) -> bool:
    """Whether an evidence text holds these folded words together and in this order."""
    return any(f" {' '.join(target)} " in f" {' '.join(words(text))} " for text in evidence_texts)


def _tokenized(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """The word spans of `text` and their folded forms."""
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    return spans, [fold(text[a:b]) for a, b in spans]


def order_as_written(answer: str, evidence_texts: list[str]) -> str | None:
    """The source's word order for a short answer that holds the same words in another ("971 tahun" → "tahun 971").

    Only an answer that is not in the evidence as it is, and whose words stand together in it,
    is rewritten.
    """
    target = words(answer)
    if not 2 <= len(target) <= _REORDER_MAX_WORDS:
        return None
    wanted = sorted(target)
    if _held_as_is(target, evidence_texts):
        return None
    for text in evidence_texts:
        spans, folded = _tokenized(text)
        for i in range(len(spans) - len(target) + 1):
            if sorted(folded[i:i + len(target)]) == wanted and all(
                    _gap(text, spans, j, r"[\s,]+") for j in range(i, i + len(target) - 1)):
                return text[spans[i][0]:spans[i + len(target) - 1][1]]
    return None


_FILL_MAX_WORDS = 6
_FILL_MAX_EXTRA = 2


def fill_dropped_words(answer: str, evidence_texts: list[str]) -> str | None:
    """The source's whole phrase for an answer that left words out of its middle ("130 persyaratan" → "130 macam
    persyaratan"), else None.

    Only an answer that is not in the evidence as it is, whose words all stand in order in one
    phrase (words, spaces and commas) that starts and ends with its first and last word and has at
    most two more words, none of them a number, is rewritten: the first such phrase in the evidence.
    """
    target = words(answer)
    if not 2 <= len(target) <= _FILL_MAX_WORDS:
        return None
    if _held_as_is(target, evidence_texts):
        return None
    for text in evidence_texts:
        spans, folded = _tokenized(text)
        for i, word in enumerate(folded):
            if word != target[0]:
                continue
            for end in range(i + len(target), min(i + len(target) + _FILL_MAX_EXTRA, len(folded))):
                window = folded[i:end + 1]
                # Words, not numbers ("15 September" is not "15-16 September"), within one phrase.
                added = Counter(window) - Counter(target)
                if (window[-1] == target[-1] and _in_order(target, window)
                        and not any(w.isdigit() or w in JOINERS for w in added)
                        and all(_gap(text, spans, j, r"[\s,]+") for j in range(i, end))):
                    return text[spans[i][0]:spans[end][1]]
    return None


def _in_order(needle: list[str], haystack: list[str]) -> bool:
    """Whether `needle` is a subsequence of `haystack`."""
    rest = iter(haystack)
    return all(word in rest for word in needle)


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


_CLAUSE_SPLIT = re.compile(r"\s*(?:[;:]|,\s+(?:sedangkan|sementara|namun|tetapi|dan|while|but|whereas)\b|"
                           r"\s(?:sedangkan|sementara|whereas)\b)\s*", re.IGNORECASE)
_NAME_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|bin|van|de|al))*")
# A number with what it counts: "80 tahun", "600 juta dollar AS", "1.200 warga".
_NUMBER_WITH_UNIT = re.compile(r"(?<![\w/(])(\d[\d.,]*)(?![\w/])(?:\s+(?:ribu|juta|miliar|triliun)\b)?"
                               r"(?:\s+(?!dan\b|di\b|yang\b|pada\b|ke\b|dari\b)[a-z]\w*(?:\s+[A-Z]{2,3}\b)?)?")
# A date as news writes it: "Jumat (26/8)", "4 Januari 2005", "Juni 1997", "tahun 1982", "2005".
_DATE_MENTION = re.compile(rf"(?:\b(?:{_WEEKDAYS}),?\s*)?\(\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\)"
                           rf"|\b\d{{1,2}}\s+(?:{MONTH_ALTERNATION})(?:\s+\d{{4}})?\b"
                           rf"|\b(?:{MONTH_ALTERNATION})\s+\d{{4}}\b"
                           r"|\b(?:tahun\s+)?(?<![-–/])(?:19|20)\d{2}\b(?!\s*(?:/|[-–]\s*\d))",  # not a span's end
                           re.IGNORECASE)
# A news item's opening dateline, place and outlet: "Cairo, Kompas - ", "PYONGYANG, iNews.id - ".
_DATELINE = re.compile(r"\s*[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3},\s*\w[\w.]*(?:\s+[A-Z][\w.]*)?\s*[-–—]\s+")
_NOT_NAMES = set(MONTHS) | {"senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu", "monday", "tuesday",
                            "wednesday", "thursday", "friday", "saturday", "sunday"}


def _clause_score(terms: set[str], clause: str) -> float:
    vocabulary = evidence_terms(clause) | set(content_words(clause))
    roots = {light_root(w) for w in vocabulary}
    return sum((2.0 if t.isdigit() else 1.0) for t in terms if term_in(t, vocabulary, roots))


_MONTH_DAY = re.compile(rf"\b({MONTH_ALTERNATION})\s+(\d{{1,2}})\b(?!\s*\d)", re.IGNORECASE)  # "July 27, 2023"
_DAY_RANGE = re.compile(rf"\b(\d{{1,2}})\s*[-–]\s*(\d{{1,2}})\s+({MONTH_ALTERNATION})\b", re.IGNORECASE)


def dates_in(text: str) -> set[tuple[int, int] | int]:
    """The (day, month) pairs a text writes in any form ("3 September", "September 3", "(3/9)", "3/9/2005",
    "15-16 September"), or its years when it has none."""
    pairs: set[tuple[int, int] | int] = {(int(m.group("day")), MONTHS[m.group("month").lower()])
                                         for m in _DAY_MONTH.finditer(text)}
    pairs |= {(int(d), MONTHS[mo.lower()]) for mo, d in _MONTH_DAY.findall(text)}
    pairs |= {(int(d), int(mo)) for d, mo in re.findall(r"\((\d{1,2})/(\d{1,2})(?:/\d{2,4})?\)", text)}
    pairs |= {(int(d), int(mo)) for d, mo in re.findall(r"\b(\d{1,2})/(\d{1,2})/\d{4}\b", text) if 1 <= int(mo) <= 12}
    for first, last, month in _DAY_RANGE.findall(text):  # "15-16 September": both days
        pairs |= {(int(first), MONTHS[month.lower()]), (int(last), MONTHS[month.lower()])}
    return pairs or {int(y) for y in re.findall(r"\b((?:19|20)\d{2})\b", text)}


def repair_span(answer: str, question: str, lang: str, evidence_texts: list[str]) -> str | None:
    """A better short answer when the model took a name or number from the wrong clause, else None.

    Small models often copy the first name of a sentence ("di Tianjin …, sedangkan … di Beijing").
    When the clause that matches the question best does not hold the answer, and holds exactly one
    name (for who/where questions), number (how many/much) or date (when, Indonesian questions; then
    clauses are read sentence by sentence) that the question does not already name, that one is the
    answer. Only short answers are repaired.
    """
    kind = expected_kind(question)
    if kind not in ("name", "place", "number", "time") or len(answer.split()) > 6:
        return None
    if kind == "time" and lang != "id":
        return None  # the sources' date forms ("Rabu (31/8)") are no English answer
    terms = question_terms(question, "id")
    # A sentence dates one event; the year of the next one is another's ("Habibie Award 2005 … tahun 2000").
    texts = [sent for text in evidence_texts for sent in split_sentences(text)] if kind == "time" else evidence_texts
    clauses = [c for text in texts for c in _CLAUSE_SPLIT.split(text) if c.strip()]
    if not clauses or not terms:
        return None
    scored = sorted(((_clause_score(terms, c), i) for i, c in enumerate(clauses)), reverse=True)
    best_score = scored[0][0]
    # Tied best clauses (overlapping chunks repeat a sentence) must agree on the answer they hold.
    best = [i for score, i in scored if score == best_score]
    answer_terms = salient_terms(answer)
    if kind == "time":
        said = dates_in(answer)
        holding = [s for s, i in scored if said and said <= dates_in(clauses[i])]
    else:
        holding = [s for s, i in scored if answer_terms and answer_terms <= evidence_terms(clauses[i])]
    if not answer_terms or (holding and holding[0] >= best_score):
        return None
    asked = evidence_terms(question)
    found = {c for i in best for c in _span_candidates(kind, clauses[i], answer, asked)}
    return found.pop() if len(found) == 1 else None


def _span_candidates(kind: str, clause: str, answer: str, asked: set[str]) -> list[str]:
    """The names, numbers or dates of `kind` in `clause` that the question does not already name."""
    candidates = []
    if kind == "time":
        for m in _DATE_MENTION.finditer(clause):
            if not salient_terms(m.group(0)) <= asked:
                candidates.append(m.group(0).strip())
    elif kind == "number":
        if _DAY_MONTH.search(answer):
            return []  # a date, not a count
        for m in _NUMBER_WITH_UNIT.finditer(clause):
            if not _DAY_MONTH.match(clause, m.start()) and m.group(1).strip(".,") not in asked:
                candidates.append(m.group(0).strip(" ,."))
    else:
        dateline = _DATELINE.match(clause)
        opening = dateline.end() if dateline else 1  # "Cairo, Kompas - …": the place and outlet are no answer
        for m in _NAME_RUN.finditer(clause):
            run = m.group(0).strip()
            run_terms = salient_terms(run)
            if m.start() >= opening and run_terms and not run_terms & asked and fold(run) not in _NOT_NAMES:
                candidates.append(run)
    return list(dict.fromkeys(candidates))


# Words that say what a number is ("sekitar 50.000 ekor", "Rp 3,7 miliar", "tahun 1969"): an answer
# that drops them states something else than the source (an estimate as an exact count, a bare number).
_QUANTITY_QUALIFIERS = [("tidak", "kurang", "dari"), ("lebih", "dari"), ("kurang", "dari"), ("kurang", "lebih"),
                        ("rata", "rata"), ("sekitar",), ("hampir",), ("antara",), ("sedikitnya",), ("setidaknya",),
                        ("rp",), ("tahun",), ("pukul",)]
_WIDEN_MAX_WORDS = 8
# Titles Indonesian news writes in lower case before a name ("dr", "drg", "drh").
_LOWER_TITLES = {"dr", "drg", "drh"}
# Indonesian legal forms written before a company's name ("PT Indelberg Indonesia").
_LEGAL_FORMS = {"PT", "CV", "PD", "UD", "Perum", "Persero"}
_NAME_MAX_EXTRA = 6
_TOKEN = re.compile(r"\w+")
# What ends just before a sentence's first word: a capitalised word there need not be part of a name.
_SENTENCE_START = re.compile(r'(?:\A|[.!?:]["”’)]*\s+|\n)\s*\Z')


def _name_word(token: str, asked: set[str]) -> bool:
    folded = fold(token)
    if len(token) == 1 and token.isupper():
        return True  # an initial ("Y Didik Heru Purnomo")
    return token[:1].isupper() and folded not in stopwords() and folded not in asked and folded not in _NOT_NAMES


def _gap(text: str, spans: list[tuple[int, int]], left: int, allowed: str = r"\s+") -> bool:
    """Whether only `allowed` characters separate token `left` from the next one."""
    return re.fullmatch(allowed, text[spans[left][1]:spans[left + 1][0]]) is not None


_INITIALS = re.compile(r"[A-Z][A-Z0-9]{1,7}")
_LONG_FORM_WORDS = 10


def spelled_out(answer: str, evidence_texts: list[str]) -> str | None:
    """"BEF" → "Batuan Ethnic Fusion (BEF)" when the source writes the name out before its initials, else None.

    The initials may open the answer ("BP3 Jateng": the source's "Balai Pelestarian Peninggalan
    Purbakala (BP3) Jateng"); a digit repeats the letter before it (BP3 = B, P, P, P).
    """
    initials, _, rest = answer.strip(" .").partition(" ")
    if not _INITIALS.fullmatch(initials):
        return None
    letters_wanted = re.sub(r"([A-Z])(\d)", lambda m: m.group(1) * int(m.group(2)), initials.upper())
    after = rf"\s+{re.escape(rest)}\b" if rest else ""
    for text in evidence_texts:
        for m in re.finditer(rf"\(\s*{re.escape(initials)}\s*\){after}", text):
            before = text[:m.start()].split()[-_LONG_FORM_WORDS:]
            name: list[str] = []
            for word in reversed(before):
                if word.lower() in ACRONYM_GLUE and name:
                    name.insert(0, word)
                    continue
                if not word[:1].isupper() or not word[:1].isalpha():
                    break
                name.insert(0, word)
                letters = "".join(w[0] for w in name if w.lower() not in ACRONYM_GLUE)
                if letters.upper() == letters_wanted:
                    return f"{' '.join(name).rstrip(',')} {m.group(0)}"
    return None


def widen_to_source(answer: str, question: str, lang: str, evidence_texts: list[str]) -> str | None:
    """The source's fuller wording of a short answer it holds word for word, else None.

    In Indonesian, a name is widened to the whole capitalised run around it ("Heru Purnomo" →
    "Laksamana Muda TNI Y Didik Heru Purnomo"), stopping at the question's own words and at a
    sentence's first word, and a number gets back the qualifier before it ("50.000 ekor" →
    "sekitar 50.000 ekor", "3,7 miliar" → "Rp 3,7 miliar"). An answer the source writes after the
    noun the question asks about gets that noun ("Banten" → "Provinsi Banten" for "Di provinsi
    manakah …"), a description the name the source apposes to it, a where-answer the more precise
    place before it, a date or year for a when-question its "pada" ("pada 1977"), and any answer
    another name the source adds in brackets ("marga Marchantia (lumut hati)").
    The first place the answer occurs decides.
    """
    target = words(answer)
    if not target or len(target) > _WIDEN_MAX_WORDS:
        return None
    asked = set(words(question))
    noun = asked_noun(question) if lang == "id" else ""
    kind = expected_kind(question) if lang == "id" else ""
    for text in evidence_texts:
        spans, folded = _tokenized(text)
        tokens = [text[a:b] for a, b in spans]
        for i in range(len(tokens) - len(target) + 1):
            if folded[i:i + len(target)] != target:
                continue
            start, end = i, i + len(target) - 1
            if tokens[i][0].isdigit():
                if lang != "id":
                    return None
                for before in _QUANTITY_QUALIFIERS:
                    k = start - len(before)
                    if k >= 0 and tuple(folded[k:start]) == before and all(
                            _gap(text, spans, j, r"[\s.-]+") for j in range(k, start)):
                        start = k
                        break
            elif tokens[i][:1].isupper() and lang != "id":
                # An English answer keeps to English words, but a company's legal form is part of its name.
                if start > 0 and tokens[start - 1] in _LEGAL_FORMS and _gap(text, spans, start - 1):
                    start -= 1
            elif tokens[i][:1].isupper():
                last = i + len(target) - 1
                # An answer that begins with the question's own word ("Universitas …" for "universitas apa")
                # already starts where the asked name does; one that ends with it ("Suaka Margasatwa") does not.
                while (target[0] not in asked and i - start < _NAME_MAX_EXTRA and start > 0
                       and _gap(text, spans, start - 1) and _name_word(tokens[start - 1], asked)
                       and not _SENTENCE_START.search(text, 0, spans[start - 1][0])):
                    start -= 1
                while (end - last < _NAME_MAX_EXTRA and end + 1 < len(tokens)
                       and _gap(text, spans, end) and _name_word(tokens[end + 1], asked)):
                    end += 1
                if kind == "place":
                    start = _address_start(text, spans, tokens, start, asked)
                elif start > 0 and folded[start - 1] in _LOWER_TITLES and _gap(text, spans, start - 1):
                    start -= 1  # "dr Ilham Patu SpBS": a title news writes in lower case is part of the name
            if noun and start > 0 and folded[start - 1] == noun and target[0] != noun and _gap(text, spans, start - 1):
                start -= 1
            if kind == "time" and start > 0 and folded[start - 1] == "pada" and _gap(text, spans, start - 1):
                start -= 1
            described = noun and target[0] == noun and tokens[i][:1].islower()
            named = described and _APPOSED_NAME.search(text, 0, spans[i][0])
            if named and not set(words(named.group(1))) & (stopwords() | asked):
                # "Kelompok apakah …" answered with the description ("kelompok militan Kashmir") of the
                # name the source puts before it ("Hezb-ul Mujahedeen, kelompok militan Kashmir").
                return f"{named.group(1)}, {_closed(text, spans[i][0], spans[end][1])}"
            stop = _closed_end(text, spans[start][0], spans[end][1])
            aside = _ASIDE.match(text, stop) if lang == "id" else None
            if aside:  # what the source adds in brackets: "marga Marchantia (lumut hati)"
                stop = aside.end()
            if (start, end) == (i, i + len(target) - 1) and not aside:
                return None
            return text[spans[start][0]:stop]
    return None


# A short bracketed aside of words right after a phrase: another name for it ("(lumut hati)", "(NLD)").
# Figures ("(145 MW)", "(1934-2001)") and longer notes are other facts, and stay out.
_ASIDE = re.compile(r"\s*\((?:[^\W\d]+[^\w()\[\]\d]*){1,5}\)")


# Words that open the more precise part of an address ("Pelabuhan Benoa, Denpasar, Bali").
_ADDRESS_HEADS = PLACE_HEADS | {"pelabuhan", "bandara", "dusun", "kampung", "kompleks", "perumahan"}


def _address_start(text: str, spans: list[tuple[int, int]], tokens: list[str], start: int, asked: set[str]) -> int:
    """Where an address ends up starting when the named places before it (", "-separated) are put in front.

    "Denpasar, Bali" becomes "Pelabuhan Benoa, Denpasar, Bali": a name before a comma joins only when it
    opens with a place word, so "kata Kepala Dinas Perikanan Bali, Denpasar" stays "Denpasar".
    """
    while start > 0 and _gap(text, spans, start - 1, r",\s+"):
        j = start - 1
        while j > 0 and start - j < _NAME_MAX_EXTRA and _gap(text, spans, j - 1) and _name_word(tokens[j - 1], asked):
            j -= 1
        if not (_name_word(tokens[j], asked) and fold(tokens[j]) in _ADDRESS_HEADS):
            break
        start = j
    return start


def _closed(text: str, start: int, end: int) -> str:
    """text[start:end], with the bracket that closes one opened inside it ("Giant African Snail (GAS)")."""
    return text[start:_closed_end(text, start, end)]


def _closed_end(text: str, start: int, end: int) -> int:
    """`end`, or just after the bracket that closes one opened in text[start:end]."""
    span = text[start:end]
    return end + 1 if span.count("(") > span.count(")") and text[end:end + 1] == ")" else end


_NAME_TOKEN = r"[A-Z][\w'’]*(?:-\w+)*"
# A name of up to six words and the comma that opens its apposition, just before the answer.
_APPOSED_NAME = re.compile(rf"({_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,5}}),\s*$")


def _inside_longer_name(text: str, start: int, end: int) -> bool:
    before = re.search(r"([A-Z][\w'’-]*)\s+$", text[:start])
    # "The", "Di" open a sentence; they are not part of a name.
    return bool(before and fold(before.group(1)) not in stopwords() or re.match(r"\s+[A-Z]", text[end:]))


def _replace_names(answer: str, name: str, replacement: str, capitalised_only: bool = False) -> str:
    """`answer` with each standalone `name` (not inside a longer name) written as `replacement`."""
    for m in reversed(list(re.finditer(rf"\b{re.escape(name)}\b", answer, re.IGNORECASE))):
        if (not capitalised_only or m.group(0)[:1].isupper()) and not _inside_longer_name(answer, m.start(), m.end()):
            answer = answer[:m.start()] + replacement + answer[m.end():]
    return answer


def names_in_indonesian(answer: str, evidence_text: str) -> str:
    """An Indonesian answer's English place names in the sources' own forms ("Japan" → "Jepang").

    A small model sometimes drops into English for a name; the form the excerpt uses is the one an
    Indonesian reader expects, and only a form the excerpt really uses replaces it. A name inside a
    longer one ("United Nations World Food Programme") is that body's own name and stays.
    """
    folded_evidence = " ".join(words(evidence_text))
    for english, forms in ENGLISH_TO_INDONESIAN.items():
        if len(english) < 4:
            continue  # "US", "UN": too short to tell from an Indonesian word
        found = next((f for f in forms if re.search(rf"\b{re.escape(f)}\b", folded_evidence)), None)
        if not found:
            continue
        written = re.search(rf"\b{re.escape(found)}\b", evidence_text, re.IGNORECASE)
        answer = _replace_names(answer, english, written.group(0) if written else found.title())
    return answer


def names_in_english(answer: str) -> str:
    """An English answer's Indonesian place names in English ("Korea Utara" → "North Korea").

    The model copies names from the Indonesian excerpts; an English reader expects the English name.
    Short forms ("AS") and forms inside a longer name ("Jawa Barat") are left as they are.
    """
    for form, english in _ENGLISH_FOR_FORM.items():
        answer = _replace_names(answer, form, english, capitalised_only=True)
    return answer


def _english_for_forms() -> dict[str, str]:
    names: dict[str, str] = {}
    for english, forms in ENGLISH_TO_INDONESIAN.items():
        for form in forms:
            if len(form) >= 4 and len(english) >= 4:
                names.setdefault(form, english.title().replace(" Ii", " II"))
    # Longest first, so "korea utara" is replaced before a shorter form inside it could be.
    return dict(sorted(names.items(), key=lambda kv: -len(kv[0])))


_ENGLISH_FOR_FORM = _english_for_forms()


_COUNT_OF_PEOPLE = re.compile(r"(?<![\w.,-])(\d[\d.,-]*\d|\d)\s+orang\b(?:\s+(\w+))?")


def count_noun_as_written(answer: str, evidence_text: str) -> str:
    """"131 orang" → "131 warga" when the sources count those people with their own noun.

    A small model counts people with the generic "orang"; the source's noun ("warga", "penumpang")
    says who they are. Only a number the sources follow with exactly one other word is rewritten.
    """
    def written(m: re.Match) -> str:
        number, following = m.group(1), m.group(2)
        nouns = {w.lower() for w in re.findall(rf"(?<![\d.,]){re.escape(number)}\s+([A-Za-z]+)", evidence_text)}
        if not nouns or "orang" in nouns or len(nouns) > 1:
            return m.group(0)
        noun = nouns.pop()
        if following and following.lower() == noun:
            return f"{number} {following}"
        return f"{number} {noun}" + (f" {following}" if following else "")

    return _COUNT_OF_PEOPLE.sub(written, answer)


# Not a citation marker ("[1]"), nor part of a longer number or date ("1,5", "5/10").
_SMALL_NUMBER = re.compile(r"(?<![\w.,/\[])(\d{1,2})(?![\w/\]]|[.,]\d)(?:\s+(\w+))?")
_NUMBER_WORD_FOR = {n: w for w, n in NUMBER_WORDS.items() if w.isascii() and w not in
                    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}}


def numbers_as_written(answer: str, evidence_text: str) -> str:
    """"1 juta dollar AS" → "satu juta dollar AS" when the sources write that number in words.

    A small model turns the number words it copies into digits. A number the sources also write in
    digits, or write in words before another word, stays as it is.
    """
    def written(m: re.Match) -> str:
        number, following = int(m.group(1)), m.group(2)
        word = _NUMBER_WORD_FOR.get(number)
        if not word or re.search(rf"(?<![\d.,]){number}(?![\d]|[.,]\d)", evidence_text):
            return m.group(0)
        after = rf"\s+{re.escape(following)}\b" if following else r"\b"
        found = re.search(rf"\b{word}{after}", evidence_text, re.IGNORECASE)
        if not found:
            return m.group(0)
        return found.group(0) if m.start() == 0 else found.group(0)[0].lower() + found.group(0)[1:]

    return _SMALL_NUMBER.sub(written, answer)


# "X adalah Y", "X is Y": the copula after which a model that restates the question gives its answer.
_COPULA = re.compile(r"\s+(?:adalah|ialah|yaitu|yakni|merupakan|is|are|was|were)\s+", re.IGNORECASE)
_RESTATED_MIN_WORDS = 2
# A closing relative clause and the citation markers after it: ", yang diproduksi oleh … [1]."
_TRAILING_CLAUSE = re.compile(r",?\s+(?:yang|which|that|who)\s+([^,]+?)(\s*(?:\[\d+\]\s*)*\.?)$", re.IGNORECASE)


def drop_restatement(answer: str, question: str) -> str:
    """"Menteri Kesehatan Indonesia adalah Siti Fadilah Supari" → "Siti Fadilah Supari" for "Siapa
    Menteri Kesehatan Indonesia?".

    A small model often repeats the question before its answer. What stands before the first copula
    is dropped when every content word of it (two at least) is one of the question's; anything new
    there ("Empat jenis penyu yakni …") keeps the whole answer. So is a closing "yang …" clause that only
    restates the question (""Tentang Dia" yang diproduksi oleh PT Sinemart Pictures" → ""Tentang Dia"").
    """
    asked = set(content_words(question)) | evidence_terms(question)
    roots = {light_root(w) for w in asked}

    def restates(text: str) -> bool:
        words = content_words(text)
        return len(words) >= _RESTATED_MIN_WORDS and all(term_in(w, asked, roots, RESTATED_SHARE) for w in words)

    m = _COPULA.search(answer)
    if m and answer[m.end():].strip(" .[]0123456789") and restates(answer[:m.start()]):
        rest = answer[m.end():]
        # The answer now opens the reply, as the restatement did: "the 80th anniversary …" → "The 80th …".
        answer = rest[0].upper() + rest[1:] if answer[:1].isupper() else rest
    tail = _TRAILING_CLAUSE.search(answer)
    if tail and answer[:tail.start()].strip(" ,") and restates(tail.group(1)):
        return answer[:tail.start()].rstrip(" ,") + tail.group(2)
    return answer


def drop_asked_name(answer: str, question: str) -> str:
    """"PT International Suzuki Indonesia Kusnadi Sugiharto" → "PT International Suzuki Indonesia" for
    "Di perusahaan manakah Kusnadi Sugiharto …".

    News writes a person after their title and company as one run of capitalised words; the model
    copies the run. The person the question names, written there in full (two words at least) at the
    end of the answer and glued to what comes before, is not part of the answer when that names something
    new ("… dari Partai Uni Demokrasi" keeps its party).
    """
    tokens = answer.split()
    if tokens and fold(tokens[0].strip("(")) in OFFICES:
        return answer  # the asked person's own title ("Direktur Jenderal UNESCO Koichiro Matsuura"): no answer
    asked = evidence_terms(question)
    # Whole names only: "Luar Negeri China" is no name of its own in "Kementerian Luar Negeri China".
    names = {normalize_answer(m.group(0)) for m in CAPITALISED_RUN.finditer(question)}
    for cut in range(1, len(tokens) - 1):
        tail = tokens[cut:]
        if (len(tail) >= 2 and tokens[cut - 1][:1].isupper() and normalize_answer(" ".join(tail)) in names
                and salient_terms(" ".join(tokens[:cut])) - asked):
            return " ".join(tokens[:cut]).rstrip(" ,")
    return answer


# A question about who a story quotes or relies on ("Kantor berita apa yang melaporkan …", "Which news site was
# … quoted from?"), and where a story names the outlet it quotes ("seperti dikutip ChannelNewsAsia.com").
_ASKS_QUOTED = re.compile(r"\b(dikutip|mengutip|dilansir|melansir|melaporkan|dilaporkan|memberitakan|quoted?|"
                          r"quoting|cited?|citing|reported|according)\b")
_QUOTED_OUTLET = re.compile(r"\b(?i:dikutip|mengutip|dilansir|melansir)\s+(?i:dari\s*)?"
                            r"([A-Za-z][\w.'’-]*[\w](?:\s+[A-Z][\w.'’-]*)*)")


def quoted_outlet(answer: str, question: str, sources: list[tuple[str, str]]) -> str | None:
    """The outlet a story quotes, when the answer names the story's own outlet instead, else None.

    `sources` holds (the article's outlet, excerpt) pairs. Asked which agency a story quotes, a small
    model copies the outlet from the excerpt's header ("Solopos.com") rather than the one the text
    cites ("seperti dikutip ChannelNewsAsia.com"); the one cited outlet of the excerpts replaces it.
    """
    own = {fold(outlet) for outlet, _ in sources if outlet}
    # A small model drops the domain ("iNews" for "iNews.id", "Solopos" for "Solopos.com").
    own |= {re.sub(r"\.[a-z]{2,4}(?:\.[a-z]{2})?$", "", outlet) for outlet in own}
    if not _ASKS_QUOTED.search(fold(question)) or fold(answer.strip(" .")) not in own:
        return None
    quoted = {m.group(1).rstrip(".,") for _, text in sources for m in _QUOTED_OUTLET.finditer(text)}
    quoted = {q for q in quoted if fold(q) not in own and fold(q.split()[0]) not in stopwords()}
    return quoted.pop() if len(quoted) == 1 else None


_REALIGN_MIN_WORDS = 3
_REALIGN_MIN_SHARE = 0.6
_REALIGN_MAX_ODD = 2
_REALIGN_ODD_SHARE = 0.3


def realign(answer: str, evidence_texts: list[str]) -> str | None:
    """The evidence's phrase for an answer that copied it with a word or two replaced or slipped in
    ("Pembentukan Senjata Korea Utara dengan Korea Selatan sejak 1950-1953" → "gencatan senjata dengan
    Korea Selatan sejak 1950-1953"), else None.

    Only an answer of three words or more that is not in the evidence as it is, whose words stand in
    one phrase of one sentence in order for the most part (three fifths at least), is rewritten. A word it
    has in place of the phrase's first or last word takes that word's place; words it adds in the
    middle are dropped. At most two of its words (three tenths of a long answer) may fail to line up.
    """
    target = words(answer)
    if len(target) < _REALIGN_MIN_WORDS or _held_as_is(target, evidence_texts):
        return None
    best: tuple[int, str] | None = None
    for text in (sentence for excerpt in evidence_texts for sentence in split_sentences(excerpt)):
        spans, folded = _tokenized(text)
        blocks = [b for b in difflib.SequenceMatcher(None, target, folded, autojunk=False).get_matching_blocks()
                  if b.size]
        if not blocks:
            continue
        matched = sum(b.size for b in blocks)
        first, last = blocks[0], blocks[-1]
        before, after = first.a, len(target) - (last.a + last.size)
        start, end = first.b - before, last.b + last.size - 1 + after
        odd = len(target) - matched
        if (matched < max(_REALIGN_MIN_WORDS, _REALIGN_MIN_SHARE * len(target))
                or odd > max(_REALIGN_MAX_ODD, _REALIGN_ODD_SHARE * len(target))
                or start < 0 or end >= len(folded) or end - start + 1 > len(target) + _REALIGN_MAX_ODD
                or not all(_gap(text, spans, j, r"[\s,-]+") for j in range(start, end))):
            continue
        taken = {b.b + k for b in blocks for k in range(b.size)}
        if any(folded[j].isdigit() for j in range(start, end + 1) if j not in taken):
            continue  # "15 September" is not "15-16 September"
        if best is None or matched > best[0]:
            best = (matched, text[spans[start][0]:spans[end][1]])
    return best[1] if best else None


_ASKS_LANGUAGE = re.compile(r"\blanguages?\b", re.IGNORECASE)
# "dalam bahasa Korea dan Rusia", "berbahasa Inggris": the languages a text is written or spoken in.
_LANGUAGE_PHRASE = re.compile(r"\b(?:ber)?bahasa\s+([A-Z]\w*(?:(?:,\s*|\s+(?:dan|atau)\s+)[A-Z]\w*)*)")


def languages_in_english(answer: str, question: str, evidence_texts: list[str]) -> str | None:
    """The English names of the languages the excerpts give, for an English question about languages.

    Asked "In which two languages was the banner written?", a small model copies the Indonesian
    words ("Korea Utara and Russian" for "dalam bahasa Korea dan Rusia"); the language names are
    what answers it ("Korean and Russian"). Only when the excerpts name languages in exactly one
    phrase, all of them known, and the answer does not already give them all.
    """
    if not _ASKS_LANGUAGE.search(question):
        return None
    phrases = {m.group(1) for text in evidence_texts for m in _LANGUAGE_PHRASE.finditer(text)}
    if len(phrases) != 1:
        return None
    names = [fold(n) for n in re.split(r",\s*|\s+(?:dan|atau)\s+", phrases.pop())]
    if not all(n in LANGUAGES for n in names):
        return None
    english = list(dict.fromkeys(LANGUAGES[n] for n in names))
    if all(re.search(rf"\b{e}\b", answer) for e in english):
        return None
    return english[0] if len(english) == 1 else ", ".join(english[:-1]) + " and " + english[-1]


# "Yuan Yufang (Malaysia)", "Kenenisa Bekele (Etiopia)": a person with their country in brackets.
_NAME_WITH_COUNTRY = re.compile(r"\b([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,3})\s+\(([A-Z][\w'’ -]*)\)")


def bracketed_country(answer: str, question: str, evidence_texts: list[str]) -> str | None:
    """The one person the sources mark with the country the question names, when the answer is another.

    Sports and world news mark each person's country in brackets; asked "Siapakah atlet dari Malaysia
    yang mengalahkan Darwati", a small model takes a nearby name ("Linda") instead of "Yuan Yufang
    (Malaysia)". Only for who-questions, and only when exactly one person carries that country.
    """
    if expected_kind(question) != "name":
        return None
    asked = {fold(w) for w in re.findall(r"\b[A-Z][\w'’-]*", question)}
    # Initials in brackets name a body ("Lembaga Ilmu Pengetahuan Indonesia (LIPI)"), not a country.
    marked = [(m.group(1), fold(m.group(2))) for text in evidence_texts for m in _NAME_WITH_COUNTRY.finditer(text)
              if not (m.group(2).isupper() and len(m.group(2)) > 2)]
    people = list(dict.fromkeys(name for name, country in marked if country in asked
                                and not set(words(name)) & asked))
    if len(people) != 1 or fold(answer.strip(" .")) in {fold(p) for p in people}:
        return None
    bare = re.fullmatch(r"[A-Z][\w'’ .-]*", answer.strip())
    if not bare or fold(answer.strip(" .")) in {fold(name) for name, _ in marked}:
        return None  # another marked person is a deliberate choice; only a bare name is replaced
    return people[0]


# A name in English answers: capitalised words, with the small words English names hold inside. Unlike
# answer_checks' English names, no "." inside words: the name's last word often ends the answer's sentence.
_ANSWER_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|the|for|and)\s+)*[A-Z][\w'’-]*)*")
_SOURCE_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+")
_SMALL_WORDS = frozenset({"of", "the", "for", "and"})
_SHARED_STEM = 5  # "Patriotism" and "Patriotik" share "patrioti"


def _same_word(a: str, b: str) -> int:
    """2 for the same word, 1 for words that share a stem of at least five letters, else 0."""
    a, b = fold(a), fold(b)
    if a == b:
        return 2
    return 1 if len(os.path.commonprefix([a, b])) >= _SHARED_STEM else 0


def source_name_for_mixed(answer: str, question: str, excerpts: list[str]) -> str:
    """An English answer's half-translated name put back in the excerpt's own words, or "".

    Asked in English about an Indonesian name, a small model translates part of it and copies the rest
    ("War of Patriotism Raya" for "Perang Patriotik Raya"): a name no reader can look up. Such a name
    keeps a word of the source's name that the question does not hold, has a second word sharing that
    name's words or stems, and has a word that matches nothing in it (the translated part) or has every
    word of it, one as its English cognate, in another order ("Texas University" for "Universitas Texas").
    """
    asked = {fold(w) for w in re.findall(r"\w+", question)}
    names = [m.group(0).split() for text in excerpts for m in _SOURCE_NAME.finditer(text)]
    written = {w for text in excerpts for w in re.findall(r"\w+", text)}
    for run in _ANSWER_NAME.finditer(answer):
        content = [w for w in run.group(0).split() if fold(w) not in _SMALL_WORDS]
        # A translated word is one the excerpts do not write in any form ("Wang Yongzhi" after "Qi Faren
        # dan" is a second name, not a translation); that does not depend on the name compared with.
        translated = {w for w in content if not any(_same_word(w, x) for x in written)}
        for name in names:
            matches = [max((_same_word(w, s), -i) for i, s in enumerate(name)) for w in content]
            exact = [w for w, (kind, _) in zip(content, matches, strict=True) if kind == 2 and fold(w) not in asked]
            positions = [-pos for kind, pos in matches if kind]
            unmatched = [w for w, (kind, _) in zip(content, matches, strict=True) if not kind and w in translated]
            # "Texas University" for "Universitas Texas": every word there, one as its English cognate, in
            # English order.
            reordered = (len(positions) == len(content) and positions != sorted(positions)
                         and any(kind == 1 for kind, _ in matches))
            if not exact or len(positions) < 2 or not (unmatched or reordered):
                continue
            # The translated words before the first matched one stand for as many source words before it.
            lead = next(i for i, (kind, _) in enumerate(matches) if kind)
            start = max(0, min(positions) - lead)
            return answer.replace(run.group(0), " ".join(name[start:max(positions) + 1]), 1)
    return ""
