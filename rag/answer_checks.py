"""Code-side checks that decide whether a generated answer may be shown (the model is not trusted to)."""

from __future__ import annotations

import difflib
import re
from collections import Counter

from rag.citations import strip_markers
from rag.places import OFFICES, english_names, indonesian_forms
from rag.text import (
    CAPITALISED_RUN,
    MONTH_ALTERNATION,
    MONTHS,
    NUMBER_WORDS,
    contains_phrase,
    content_words,
    evidence_terms,
    fold,
    light_root,
    new_terms,
    normalize_answer,
    salient_terms,
    stopwords,
    term_in,
)

# What kind of answer a question asks for, by its question words (folded, whole words).
_EXPECTS = [
    ("time", re.compile(r"\b(kapan|kapankah|tanggal berapa(kah)?|tahun berapa(kah)?|bulan apa(kah)?|hari apa(kah)?|"
                        r"sejak kapan|sampai kapan|when|what date|which date|what year|which year|what day|"
                        r"which day|what month|which month)\b")),
    ("number", re.compile(r"\b(berapa|berapakah|how many|how much|how long|how old|what (?:is|was|are|were) the "
                          r"(?:value|number|amount|price|cost|population|percentage|age|height|length|distance|area))\b")),
    ("name", re.compile(r"\b(siapa|siapakah|who|whom|whose)\b")),
    ("place", re.compile(r"\b((?:di|ke|dari) ?mana(?:kah)?|(?:kota|negara) (?:mana|apa)(?:kah)?|where|"
                         r"which city|what city|which country|what country)\b")),
]
# The kinds of answer a question can ask for.
KINDS = tuple(kind for kind, _ in _EXPECTS)
# What dates a when-answer: a year, a day/month or an hour (a bare count does not).
_DATED = re.compile(r"(?<!\d)(?:1\d{3}|2\d{3})(?!\d)|\d{1,2}\s*/\s*\d{1,2}|\b\d{1,2}[.:]\d{2}\b")
_TIME_WORDS = {"hari", "pekan", "minggu", "bulan", "tahun", "pagi", "siang", "sore", "malam", "kemarin", "besok",
               "lalu", "day", "days", "week", "weeks", "month", "months", "year", "years", "yesterday", "today",
               "tomorrow", "morning", "evening", "night", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu",
               "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "abad", "century"}
_NUMBER_WORDS_EXTRA = {"puluh", "puluhan", "ratus", "ratusan", "ribu", "ribuan", "juta", "jutaan", "miliar",
                       "triliun", "belas", "hundred", "thousand", "million", "billion", "dozen", "sepuluh",
                       "seratus", "seribu", "sejuta", "kedua", "ketiga", "first", "second", "third"}


_ASKS_BYLINE = re.compile(r"\b(editor|editornya|penulis|penulisnya|menulis|ditulis|penyunting|reporter|pewarta|"
                          r"author|wrote|written|writer|edited)\b")


# Words that join two phrases: a span through one of them is not one phrase ("nomor yang 7").
JOINERS = frozenset({"yang", "dan", "atau", "serta", "di", "ke", "dari", "pada", "untuk", "dengan", "oleh", "and", "or",
                     "of", "in", "to", "by", "with", "which", "that"})
# "Di provinsi manakah …", "Pelabuhan apakah …": the noun a question asks for an instance of.
_ASKED_NOUN = re.compile(r"^(?:apa|apakah)\s+(?:nama|jenis|judul)\s+(\w+)|\b(\w+)\s+(?:apa|apakah|mana|manakah)\b|"
                         r"^(?:apa|apakah|manakah)\s+(\w+)\s+yang\b", re.IGNORECASE)


def asked_noun(question: str) -> str:
    """The folded noun an Indonesian question asks for an instance of ("provinsi" in "Di provinsi manakah …",
    "pelabuhan" in "Apakah nama pelabuhan di Cilacap?"), or ""."""
    m = _ASKED_NOUN.search(question.strip())
    noun = fold(next((g for g in m.groups() if g), "")) if m else ""
    return "" if noun in stopwords() or noun in JOINERS or noun in ("sebagai", "nama", "jenis", "judul") else noun


def asks_byline(question: str) -> bool:
    """Whether the question asks who wrote, edited or reported a story (its byline)."""
    return bool(_ASKS_BYLINE.search(fold(question)))


def expected_kind(question: str) -> str:
    """"time", "number", "name", "place" or "" (no constraint) for a question."""
    q = " ".join(re.findall(r"\w+", fold(question)))
    # The first question word decides: "Where was the President when he …" asks for a place.
    found = [(m.start(), order, kind) for order, (kind, pattern) in enumerate(_EXPECTS) if (m := pattern.search(q))]
    return min(found)[2] if found else ""


# Words by which a question asks for a moment or a span of time, whatever its question word
# ("What is the deadline …", "Until when …", "Tanggal …").
_ASKS_TIME = re.compile(r"\b(kapan|when|tanggal|date|dates|tahun|year|years|hari|day|days|bulan|month|months|minggu|"
                        r"pekan|week|pukul|jam|hour|time|waktu|sejak|since|hingga|until|sampai|till|periode|period|"
                        r"masa|jadwal|schedule|scheduled|dijadwalkan|deadline|batas|tenggat|era|abad|century|musim|"
                        r"season|usia|umur|age|born|lahir|kelahiran|anniversary|peringatan|ulang|lama|long|durasi|"
                        r"duration|selama)\b")
# A date and the words that only frame one ("on 3 September", "pada Rabu (31/8)", "Until 16 September 2022").
_DATE_ONLY = re.compile(r"\(\s*\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{2,4})?\s*\)|\b\d{1,2}\s*/\s*\d{1,2}(?:/\d{2,4})?\b"
                        rf"|\b(?:{MONTH_ALTERNATION})\b|\b\d{{1,4}}(?:st|nd|rd|th)?\b|\b(?:on|pada|tanggal|until|"
                        r"hingga|sampai|since|sejak|the|of|in|at|di|tahun|year|senin|selasa|rabu|kamis|jumat|sabtu|"
                        r"minggu|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|[\s,.()\-–]+",
                        re.IGNORECASE)


def only_a_date(answer: str) -> bool:
    """Whether the answer says nothing but a date ("1 September", "Until 16 September 2022", "Rabu (31/8)")."""
    text = strip_markers(answer)
    has_date = bool(re.search(rf"\b(?:{MONTH_ALTERNATION})\b|\(\s*\d{{1,2}}\s*/\s*\d{{1,2}}", text, re.IGNORECASE))
    return has_date and not _DATE_ONLY.sub("", text)


def names_the_asked_person(answer: str, question: str) -> bool:
    """A who-answer that is the person the question itself names in full, alone or after their title
    ("Direktur Jenderal … UNESCO Koichiro Matsuura" for "Kepada siapakah Koichiro Matsuura menyerahkan …"),
    when the question asks about someone else."""
    if expected_kind(question) != "name":
        return False
    text = normalize_answer(strip_markers(answer))
    question_words = set(content_words(question))
    for m in CAPITALISED_RUN.finditer(question):
        name = normalize_answer(m.group(0))
        if len(name.split()) < 2 or len(question_words - set(content_words(name))) < 2:
            continue
        if text == name or (text.endswith(f" {name}") and text.split()[0] in OFFICES):
            return True
    return False


def date_for_no_time(answer: str, question: str) -> bool:
    """A bare date answering a question that asks for no time at all ("What is the parade also known as?")."""
    return expected_kind(question) != "time" and not _ASKS_TIME.search(_unnamed(question)) and only_a_date(answer)


def _unnamed(question: str) -> str:
    """The question folded, without its capitalised words after the first.

    A time word inside a name asks for no time ("What is Victory Day in North Korea?").
    """
    tokens = question.split()
    return fold(" ".join(tokens[:1] + [t for t in tokens[1:] if not t[:1].isupper()]))


# A number that counts time: a span ("80 tahun", "3 days") or a year ("tahun 2020", "in 2001").
_TIME_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\s+(?:tahun|bulan|hari|minggu|pekan|jam|menit|detik|abad|years?|months?|"
                          r"days?|weeks?|hours?|minutes?|seconds?|centur(?:y|ies))\b|"
                          r"\b(?:tahun|year|in|since|sejak|pada)\s+(?:1\d{3}|2\d{3})\b", re.IGNORECASE)
# What else makes a how-many question ask for time or an age.
_ASKS_AGE = re.compile(r"\b(old|berumur|berusia)\b")


def time_for_a_count(answer: str, question: str) -> bool:
    """A span of time or a year answering a question that counts something else.

    "80 tahun" or "tahun 2020" for "Berapa orang anggota delegasi …?": every number of the answer
    counts time, and the question asks for no time or age.
    """
    unnamed = re.sub(r"\B(?:kah|lah)\b", "", _unnamed(question))  # "Berapa lamakah …", "Berapa tahunkah …"
    if expected_kind(question) != "number" or _ASKS_TIME.search(unnamed) or _ASKS_AGE.search(unnamed):
        return False
    text = strip_markers(answer)
    numbers = re.findall(r"\d+", text)
    timed = re.findall(r"\d+", " ".join(m.group(0) for m in _TIME_NUMBER.finditer(text)))
    return bool(numbers) and len(timed) >= len(numbers)


# Words by which a question asks for a number without "berapa" ("Apa nomor …", "What was the score …").
_ASKS_NUMBER = re.compile(r"\b(nomor|number|no|angka|skor|score|kode|code|nilai|value|harga|price|jumlah|total|"
                          r"persen|percent|persentase|percentage|peringkat|rank|ranking|urutan|posisi|position|"
                          r"kapasitas|capacity|ukuran|size|tinggi|height|panjang|length|luas|area|berat|weight|"
                          r"suhu|temperature|kecepatan|speed|jarak|distance|populasi|population|pasal|ayat|"
                          r"halaman|page|rekor|record|catatan|hasil|result|kurs|rate|indeks|index)\b")


def number_for_no_number(answer: str, question: str) -> bool:
    """A bare number answering a question that asks for no number, time or measure at all.

    "66" for "Apakah panggilan akrab untuk Nurcholish Madjid": the age the sources bracket after
    his name ("Nurcholish Madjid (66)"), not his nickname.
    """
    if not re.fullmatch(r"\d[\d.,]*", strip_markers(answer).strip().rstrip(".")):
        return False
    unnamed = _unnamed(question)
    return expected_kind(question) == "" and not _ASKS_TIME.search(unnamed) and not _ASKS_NUMBER.search(unnamed)


# A phrase of this many words or more, said this many times or more, is a generation stuck in a loop.
_LOOP_WORDS = 2
_LOOP_TIMES = 3


def repeats_itself(answer: str) -> bool:
    """Whether the answer loops on one phrase ("Kecamatan Long Iram, Kecamatan Muara Kelian, Kecamatan Long
    Iram, …" until the token limit): a small model's degenerate output, not an answer."""
    words = re.findall(r"\w+", fold(strip_markers(answer)))
    phrases = Counter(tuple(words[i:i + _LOOP_WORDS]) for i in range(len(words) - _LOOP_WORDS + 1))
    return bool(phrases) and max(phrases.values()) >= _LOOP_TIMES


# A who- or where-answer this long is a copied sentence, not a name ("Kompas - Empat negara, yakni …").
_NAME_ANSWER_MAX_WORDS = 20


def sentence_for_a_name(answer: str, question: str) -> bool:
    """Whether a who- or where-question gets a whole sentence of more than a name's length instead of a name."""
    return (expected_kind(question) in ("name", "place")
            and len(strip_markers(answer).split()) > _NAME_ANSWER_MAX_WORDS)


def has_kind(answer: str, kind: str) -> bool:
    """Whether the answer contains something of the expected kind at all."""
    tokens = re.findall(r"\w+", answer)
    folded = [fold(t) for t in tokens]
    has_digit = any(t.isdigit() for t in folded)
    if kind == "time":
        # A bare count ("60", "26 menit dan 17,53 detik") answers no when-question; a year, a date or an hour does.
        return bool(_DATED.search(answer)) or any(t in MONTHS or t in _TIME_WORDS for t in folded)
    if kind == "number":
        return has_digit or any(t in NUMBER_WORDS or t in _NUMBER_WORDS_EXTRA for t in folded)
    if kind in ("name", "place"):
        return any(t[:1].isupper() for t in tokens[1:]) or bool(tokens and tokens[0][:1].isupper()
                                                                 and len(tokens) <= 6)
    return True


def similar_term(term: str, vocabulary: set[str]) -> bool:
    """Whether `term` or a close spelling of it is in `vocabulary` (folded words or terms)."""
    # Names change spelling across languages (Moscow/Moskow, Korean/Korea): close enough counts.
    if term in vocabulary:
        return True
    if term.isdigit() or term.startswith("month") or len(term) < 4:
        return False
    return any(v[:1] == term[:1] and abs(len(v) - len(term)) <= 3
               and difflib.SequenceMatcher(None, term, v).ratio() >= 0.75 for v in vocabulary)


# An answer word restates a question word when their roots match or one holds the other and is nearly as
# long ("kunjungan" / "mengunjungi"); "pinteresque" is news beside "Pinter".
RESTATED_SHARE = 0.7
_AGE = re.compile(r"\s*\(\d{1,3}\)")


def grounding(answer: str, question: str, evidence_text: str, lang: str) -> tuple[float, bool]:
    """(share of what the answer adds that the evidence holds, every new number/date found there).

    Only what the answer adds to the question counts: repeating the question's words proves nothing.
    Names, numbers and dates are checked in any language; other words only when the answer is in the
    articles' language (Indonesian), since an English answer paraphrases them.
    """
    vocabulary = evidence_terms(_with_english_names(evidence_text, lang))
    # A person's age in brackets ("Nurcholish Madjid (66)") adds nothing the question asked for.
    answer = _AGE.sub("", answer)
    # Only an Indonesian answer is held to the sources' own wording of its names.
    fresh, old = new_terms(answer, question, *((evidence_text, asked_noun(question)) if lang == "id" else ()))
    # "Russian" in the answer to a question about "Russia's …" is the question's own word, not news.
    # An English question's places, bodies and offices also stand in the answer in the sources' words
    # ("Juru Bicara Kementerian Luar Negeri China" only restates "the Chinese Foreign Ministry spokesperson").
    asked_names = evidence_terms(f"{question} {indonesian_forms(question)}" if lang == "en" else question)
    fresh = {t for t in fresh if not similar_term(t, asked_names)}
    if lang == "en" and not fresh:
        fresh = _english_name_in_sources(answer, question, asked_names, evidence_text)
    if not fresh:
        asked = asked_names | old
        asked_roots = {light_root(w) for w in asked}
        words = [w for w in content_words(answer) if not term_in(w, asked, asked_roots, RESTATED_SHARE)
                 and not _held_as_number(w, asked)
                 and not (lang == "en" and similar_term(w, asked))]  # "Kemenerian": a miscopied asked word
        if not words:
            # A title made of function words ("Tentang Dia", a film) is news when the sources write it.
            title = _function_word_title(answer, question)
            if title and lang == "id":
                return float(contains_phrase(evidence_text, title)), True
            return 0.0, True  # the reply only restates the question
        if lang != "id":
            return 1.0, True
        roots = {light_root(w) for w in vocabulary}
        return sum(term_in(w, vocabulary, roots) or _held_as_number(w, vocabulary) for w in words) / len(words), True
    numbers = {t for t in fresh if t.isdigit() or t.startswith("month")}
    names = fresh - numbers
    numbers_ok = numbers <= vocabulary
    if not names:
        return 1.0, numbers_ok
    spelled = _spelled_out(answer, vocabulary)
    return sum(t in spelled or similar_term(t, vocabulary) for t in names) / len(names), numbers_ok


def _held_as_number(word: str, terms: set[str]) -> bool:
    """Whether a number word is among `terms` in its digits' form ("tiga" in "sebanyak tiga juta orang" is "3")."""
    as_terms = evidence_terms(word)
    return bool(as_terms) and as_terms != {word} and as_terms <= terms


_SPELLED_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:of|and|for|the|dan|dari|untuk|[A-Z][\w'’-]*))*\s+[A-Z][\w'’-]*")
_SPELLED_MIN = 3


def _spelled_out(answer: str, vocabulary: set[str]) -> set[str]:
    """The terms of the answer's names whose initials, with or without their small words, are an acronym
    the sources write ("Memorandum of Understanding" where the sources say "MOU")."""
    found: set[str] = set()
    for m in _SPELLED_NAME.finditer(answer):
        words = m.group(0).split()
        while words and words[0] in ("A", "An", "The"):
            words = words[1:]
        initials = {"".join(w[0] for w in words).lower(), "".join(w[0] for w in words if w[0].isupper()).lower()}
        if any(len(i) >= _SPELLED_MIN and i in vocabulary for i in initials):
            found |= salient_terms(" ".join(words))
    return found


def _english_name_in_sources(answer: str, question: str, asked: set[str], evidence_text: str) -> set[str]:
    """The terms of an English name built on a common noun of the question that the sources write as such
    ("Great Victory" in "The Great Victory Parade" for "the military parade …"); a name made up around the
    question's noun ("War of … Liberation" for "the war") is not in them."""
    common = {fold(w) for w in re.findall(r"\b[a-z][\w'’-]*", question)}
    found: set[str] = set()
    for run in CAPITALISED_RUN.finditer(answer):
        words = run.group(0).split()
        if fold(words[-1].strip(".,")) not in common:
            continue  # a name of the question's own ("Sergei Shoigu" for "… welcomed Shoigu")
        extra = [w for w in words if salient_terms(w) and not salient_terms(w) <= asked]
        if extra and contains_phrase(evidence_text, " ".join(extra)):
            found |= salient_terms(" ".join(extra))
    return found


_QUOTED = re.compile(r"[\"“”]([^\"“”]{2,80})[\"“”]")


def _function_word_title(answer: str, question: str) -> str:
    """The answer's title made only of function words (quoted, or two or more capitalised words) that the
    question does not hold ("Tentang Dia"); else ""."""
    quoted = _QUOTED.search(answer)
    # What a bracket adds ("Tentang Dia (PT Sinemart Pictures)") is checked on its own words.
    title = quoted.group(1).strip() if quoted else re.sub(r"\([^)]*\)", " ", strip_markers(answer)).strip(" .")
    words = title.split()
    if not quoted and (len(words) < 2 or not all(w[:1].isupper() for w in words)):
        return ""
    if content_words(title):
        return ""  # a title with words of its own is judged by them
    asked = {fold(w) for w in re.findall(r"\w+", question)}
    return title if any(fold(w) not in asked for w in re.findall(r"\w+", title)) else ""


def _with_english_names(text: str, lang: str) -> str:
    # "North Korea" meets "Korut" only through a list of names: spelling similarity cannot see it.
    return f"{text} {english_names(text)}" if lang == "en" else text


def question_terms(question: str, lang: str) -> set[str]:
    """The key terms of a question that its sources must share (names and numbers for English)."""
    # English questions meet Indonesian articles only through what survives translation.
    if lang == "en":
        terms = salient_terms(question.split(" ", 1)[1] if " " in question else question)
    else:
        terms = set(content_words(question))
    # "Which two cities …", "dua kota apa …": a spelled-out count shapes the answer; it is not a topic.
    spelled = {w for w in re.findall(r"\w+", fold(question)) if w in NUMBER_WORDS}
    return terms - spelled - {str(NUMBER_WORDS[w]) for w in spelled}


def _found(terms: set[str], text: str) -> int:
    return len(_found_terms(terms, text))


def _found_terms(terms: set[str], text: str) -> set[str]:
    vocabulary = evidence_terms(text) | set(content_words(text))
    roots = {light_root(w) for w in vocabulary}
    return {t for t in terms if term_in(t, vocabulary, roots) or similar_term(t, vocabulary)}


# A run of capitalised words, with the small words English names hold ("Agency for the Assessment of …").
_ENGLISH_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|for|and|&)\s+)*[A-Z][\w'’.-]*)*")


def _english_coverage(question: str, text: str) -> float:
    """Share of an English question's names and numbers found in `text`, a name counting once.

    A name in an English question is often a translated one ("Papua Cultural Festival" for "Pesta
    Budaya Papua", "South Sumatra Provincial Sports Week"): only its proper part survives in the
    articles, so a name is found when any of its words is.
    """
    terms = question_terms(question, "en")
    body = question.split(" ", 1)[1] if " " in question else question
    groups = [g for run in _ENGLISH_NAME.finditer(body) if (g := salient_terms(run.group(0)) & terms)]
    named = set().union(*groups) if groups else set()
    groups += [{t} for t in terms - named]
    if not groups:
        return 1.0
    found = _found_terms(terms, text)
    return sum(bool(g & found) for g in groups) / len(groups)


def question_coverage(question: str, lang: str, text: str) -> float:
    """Share of the question's key terms found in `text` (the retrieved chunks).

    Indonesian questions are compared word by word (light roots for affixes); English ones against
    Indonesian articles only by what survives translation: names and numbers.
    """
    text = _with_english_names(text, lang)
    if lang == "en":
        return _english_coverage(question, text)
    terms = question_terms(question, lang)
    coverage = _found(terms, text) / len(terms) if terms else 1.0
    # "Di provinsi manakah letak Pelaihari?": "provinsi" is what kind of thing the answer is, not what the
    # question is about; a source naming the province need not write the word (it counts when it does).
    noun = asked_noun(question) if lang == "id" else ""
    if noun in terms and len(terms) > 1:
        coverage = max(coverage, _found(terms - {noun}, text) / (len(terms) - 1))
    return coverage


# "kota mana di Alaska", "which city in Alaska", "where in Alaska": the answer lies inside that place.
_INSIDE = re.compile(r"\b(?i:mana(?:kah)?\s+di|which\s+\w+\s+in|what\s+\w+\s+in|where\s+in)\s+"
                     r"((?:[A-Z][\w'’-]*\s*)+)")


def names_container(answer: str, question: str, evidence_text: str) -> bool:
    """Whether an answer to "where in P" only names what contains P ("Alaska, Amerika Serikat").

    News writes a place with what contains it after a comma ("Alaska, Amerika Serikat", "Toronto,
    Kanada"); an answer whose every new name stands there after P says nothing about where in P.
    """
    asked = _INSIDE.search(question)
    fresh, _ = new_terms(strip_markers(answer), question)
    if not asked or not fresh:
        return False
    words = asked.group(1).split()
    for n in range(len(words), 0, -1):  # the run may go on past the place ("di Alaska Trump dan …")
        place = re.escape(" ".join(words[:n]))
        after = re.findall(rf"\b{place}\s*,\s*((?:[A-Z][\w'’-]*\s*)+)", evidence_text)
        if after:
            container = set().union(*(evidence_terms(f"{a} {english_names(a)}") for a in after))
            return fresh <= container
    return False


def about_question(question: str, lang: str, text: str) -> bool:
    """Whether a cited passage shares at least one key term with the question.

    An answer taken from a passage about something else (a name near the right words, but in a
    sentence about another matter) fails this.
    """
    terms = question_terms(question, lang)
    return not terms or _found(terms, _with_english_names(text, lang)) > 0
