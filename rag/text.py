"""Word-level text helpers shared by retrieval, answer checks and scoring."""

from __future__ import annotations

import functools
import re
import unicodedata

from rag.cleaning import MONTHS

_WORD = re.compile(r"\w+", re.UNICODE)
# Not after one letter: an initial or abbreviation ("Michael J. Fox", "Klimaschutz e. V") ends no sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?<!\b[A-Za-z]\.)[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")
# Question words and fillers that say what is asked, not what it is about.
_QUESTION_WORDS = {
    "id": {"apa", "apakah", "siapa", "siapakah", "kapan", "kapankah", "dimana", "di", "mana", "manakah",
           "berapa", "berapakah", "bagaimana", "mengapa", "kenapa", "yang", "sebutkan", "jelaskan", "nama",
           "disebut", "menurut", "artikel", "berita", "sumber", "kota", "negara", "tanggal", "hari", "bulan",
           "tahun", "jumlah", "orang", "tempat", "pihak", "saja", "lamanya", "peristiwa", "acara"},
    "en": {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much", "name",
           "did", "does", "do", "is", "are", "was", "were", "according", "article", "articles", "news",
           "say", "said", "tell", "city", "country", "date", "day", "days", "month", "year", "number",
           "people", "place", "event", "two", "three"},
}


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Indonesian and English stop words (from the `stop-words` package) plus question words."""
    from stop_words import get_stop_words

    words = set(get_stop_words("indonesian")) | set(get_stop_words("english"))
    for extra in _QUESTION_WORDS.values():
        words |= extra
    return frozenset(fold(w) for w in words)


def fold(text: str) -> str:
    """Lowercase and strip accents."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded word tokens."""
    return _WORD.findall(fold(text))


def content_words(text: str) -> list[str]:
    """Word tokens without stop words and question words (numbers kept)."""
    sw = stopwords()
    return [w for w in words(text) if w not in sw and (len(w) > 1 or w.isdigit())]


def normalize_answer(text: str) -> str:
    """The scoring normal form: folded, `[n]` markers and punctuation removed, spaces collapsed."""
    text = re.sub(r"\[\d+\]", " ", text)
    return " ".join(words(text.replace("_", " ")))


def contains_phrase(haystack: str, needle: str) -> bool:
    """Whole-word containment in normal form."""
    h, n = normalize_answer(haystack), normalize_answer(needle)
    return bool(n) and f" {n} " in f" {h} "


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph (periods inside numbers and abbreviations stay)."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if para:
            out.extend(s.strip() for s in _SENTENCE_END.split(para) if s.strip())
    return out


NUMBER_WORDS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8,
    "sembilan": 9, "sepuluh": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}
# "27/7/2023", and the news dateline style "Selasa (16/8)" with no year, also after a credit ("(AFP/JP, 18/10)").
_NUMERIC_DATE = re.compile(r"\b\d{1,2}/(\d{1,2})/\d{2,4}\b|\(\s*(?:[^(),]{1,30},\s*)?\d{1,2}/\s*(\d{1,2})\s*\)")


def _term(raw: str) -> str:
    """A word in the language-neutral form used to compare answers with evidence."""
    w = fold(raw)
    if w in MONTHS:
        return f"month{MONTHS[w]}"
    if w.isdigit():
        return str(int(w))
    if w in NUMBER_WORDS:
        return str(NUMBER_WORDS[w])
    w = re.sub(r"(nya|lah)$", "", w) if len(w) > 6 else w
    return w


def salient_terms(text: str) -> set[str]:
    """Terms an answer must share with its evidence: numbers, dates and names (capitalised words).

    They survive translation, so an English answer is checked against Indonesian excerpts too;
    month names map to a number ("31 August" is grounded by "31 Agustus" or "31/8/2025").
    """
    terms: set[str] = set()
    sw = stopwords()
    for raw in _WORD.findall(text):
        t = _term(raw)
        if t.isdigit() or t.startswith("month") or raw[0].isupper() and len(t) > 1 and fold(raw) not in sw:
            terms.add(t)
    return terms


CAPITALISED_RUN = re.compile(r"(?:\b[A-Z][\w'’.-]*(?:\s+|$))+")


def new_terms(answer: str, question: str, evidence_text: str = "", head: str = "") -> tuple[set[str], set[str]]:
    """(salient terms of `answer` that bring something the question did not name, terms of the
    names the question already named).

    A run of capitalised words counts as one name: "Menteri Pertahanan Sergei Shoigu" is not new
    when the question already names Shoigu. With `evidence_text`, a run the sources never write as
    one is two names glued by the model ("PT Astra Kusnadi Sugiharto" for "Di perusahaan manakah
    Kusnadi Sugiharto …" when the sources write "Kusnadi Sugiharto, manajer PT Astra"): only the part
    the question names is old. So is a run that opens with `head`, the noun the question asks an
    instance of ("Bandara Adisutjipto Yogyakarta" for "Apa nama bandara di Yogyakarta?").
    """
    asked = evidence_terms(question)
    # Names are what the question writes capitalised: "nasional" in a question does not make
    # "Dewan Kerajinan Nasional" the question's own name. An English answer capitalises what the
    # question did not ("the Great Patriotic War" for "the war"): there any asked word counts.
    named = salient_terms(question) if evidence_text else asked
    old: set[str] = set()
    for run in CAPITALISED_RUN.finditer(answer):
        for name in _names_in_run(run.group(0)):
            words = name.split()
            run_terms = salient_terms(name)
            last = salient_terms(words[-1])
            # The same name as the question's when its last word (a surname, the head) is already named.
            if not (run_terms and last and last <= named):
                continue
            if (evidence_text and not contains_phrase(evidence_text, name)) or (head and fold(words[0]) == head):
                tail = len(words)
                while tail > 0 and salient_terms(words[tail - 1]) <= named:
                    tail -= 1
                words = words[tail:]
            old |= salient_terms(" ".join(words))
    return salient_terms(answer) - asked - old, old


# Words that join a name's words without a letter in its acronym ("Badan Penelitian dan Pengembangan"
# → "bpp", "Bank for International Settlements" → "bis").
ACRONYM_GLUE = frozenset({"dan", "dari", "untuk", "of", "the", "and", "for", "&"})
_NAME_WORDS = re.compile(r"[A-Z][\w'’-]*|\w+|[^\w\s]")
_ACRONYM_MIN, _ACRONYM_MAX = 3, 8


def acronyms(text: str) -> set[str]:
    """Folded acronyms of the multi-word names in `text` ("Shanghai Cooperation Organisation" → "sco").

    News names a body in full in one sentence and by its initials in the next ("SCO", "KPK"); a
    question may use either. Every run of capitalised words gives the initials of each of its
    sub-runs of three to eight words; shorter initials are left out, as they match too much by chance.
    """
    found: set[str] = set()
    run: list[str] = []
    for token in [*_NAME_WORDS.findall(text), "."]:
        if token[:1].isupper() and not token.isupper():  # "SCO" itself is no word of a name
            run.append(token)
            continue
        if token in ACRONYM_GLUE and run:
            continue
        for i in range(len(run)):
            for j in range(i + _ACRONYM_MIN, min(len(run), i + _ACRONYM_MAX) + 1):
                found.add("".join(w[0] for w in run[i:j]).lower())
        run = []
    return found


def terms_with_acronyms(text: str) -> list[str]:
    """The content words of `text`, then the acronyms of its multi-word names that are not among them."""
    terms = content_words(text)
    return terms + sorted(acronyms(text) - set(terms))


# Words that open a place's name: in "PT Mutiara Indopearl Pulau Makassar" a second name starts there.
PLACE_HEADS = frozenset({"pulau", "provinsi", "kabupaten", "kota", "kecamatan", "desa", "kelurahan", "jalan", "jl",
                         "wilayah", "daerah", "selat", "teluk", "gunung", "sungai", "danau"})


def _names_in_run(run: str) -> list[str]:
    """A capitalised run split before each place word that does not open it."""
    names: list[list[str]] = [[]]
    for word in run.split():
        if names[-1] and fold(word) in PLACE_HEADS:
            names.append([])
        names[-1].append(word)
    return [" ".join(n) for n in names if n]


def evidence_terms(text: str) -> set[str]:
    """Every term of `text` in the form of :func:`salient_terms`, for look-ups."""
    terms = {_term(raw) for raw in _WORD.findall(text)}
    terms.update(f"month{int(m.group(1) or m.group(2))}" for m in _NUMERIC_DATE.finditer(text))
    return terms


_PREFIX = re.compile(r"^(meng|meny|mem|men|me|peng|pem|pen|per|pe|ber|ter|di|ke|se)(?=\w{4})")
_SUFFIX = re.compile(r"(?<=\w{4})(nya|kan|an|i|lah)$")


def light_root(word: str) -> str:
    """A rough Indonesian root (one prefix and one suffix off) so "kunjungan" meets "mengunjungi"."""
    return _PREFIX.sub("", _SUFFIX.sub("", word))


def term_in(term: str, vocabulary: set[str], roots: set[str], min_share: float = 0.0) -> bool:
    """Whether a question term occurs in a text's `vocabulary` (with `roots` = its light roots).

    Roots also match inside one another ("unjung" in "kunjung"); with `min_share`, only when the shorter
    is at least that share of the longer, so "pinter" does not make "pinteresque" the same word.
    """
    if term in vocabulary:
        return True
    root = light_root(term)
    if len(root) < 4:
        return False
    return root in roots or any(len(r) >= 4 and (root in r or r in root)
                                and min(len(r), len(root)) >= min_share * max(len(r), len(root)) for r in roots)


MONTH_NAMES = {
    "id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}
_SLASH_DATE = re.compile(r"(\()?\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b(?(1)\)+)")
# Every month name, Indonesian and English, as one regex alternation (for date patterns).
MONTH_ALTERNATION = "|".join(MONTH_NAMES["id"] + MONTH_NAMES["en"])
_MONTH_WORD = re.compile(rf"\b({MONTH_ALTERNATION})\b")


def localize_dates(text: str, lang: str) -> str:
    """Write dates the way a reader of `lang` expects: "27/7/2023" → "27 Juli 2023" / "27 July 2023"."""
    names = MONTH_NAMES.get(lang, MONTH_NAMES["id"])

    def slash(m: re.Match) -> str:
        return _named_date(int(m.group(2)), int(m.group(3)), m.group(4), names) or m.group(0)

    text = _SLASH_DATE.sub(slash, text)
    text = _MONTH_WORD.sub(lambda m: names[MONTHS[m.group(1).lower()] - 1], text)
    return text


# A dateline date in brackets: "(26/8)", "(27/7/2023)", "( 8/ 9)".
_BRACKET_DATE = re.compile(r"\(\s*(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*((?:19|20)\d{2}))?\s*\)")


def spell_out_dates(text: str) -> str:
    """Dateline dates with the month named: "Jumat (26/8)" → "Jumat (26 Agustus)", "(27/7/2023)" → "(27 Juli 2023)".

    For the model's eyes only (`answer.spell_out_dates`): a small model misreads day/month numbers (it
    answered "5 Desember" for "Rabu (5/10)"). Only dates in brackets, the way Indonesian news writes
    them, are touched.
    """
    def named(m: re.Match) -> str:
        date = _named_date(int(m.group(1)), int(m.group(2)), m.group(3), MONTH_NAMES["id"])
        return f"({date})" if date else m.group(0)

    return _BRACKET_DATE.sub(named, text)


def _named_date(day: int, month: int, year: str | None, names: list[str]) -> str | None:
    """"27 Juli 2023" (or "27 Juli" without a year) from numbers; None when they are no date."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{day} {names[month - 1]}{f' {year}' if year else ''}"
