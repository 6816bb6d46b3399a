"""Who holds which office: an answer to "the president of Uzbekistan" must not be the president of Russia.

News names people by title, office first ("Presiden Rusia Vladimir Putin", "Menlu Belanda Bernard
Bot"). A small model asked for the holder of an office often copies the nearest name with the right
office but the wrong country or body. When the question names an office with its qualifier and the
excerpt titles the answer's person with that office and another qualifier, the answer is wrong: the
person whose title carries the question's qualifier replaces it, and without one the answer is withheld.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer_checks import expected_kind, similar_term
from rag.places import ENGLISH_TO_INDONESIAN, OFFICE_FORMS, OFFICES
from rag.text import fold, stopwords

# Words that make an office its deputy's ("Wakil Gubernur Rudolf Pardede" is not the governor).
_DEPUTY = {"wakil", "wk", "deputy", "vice"}
# Forms of address that precede a title ("Bapak Wakil Presiden …"): not part of the office.
_HONORIFICS = {"bapak", "pak", "ibu", "bu", "mr", "mrs", "ms", "dr", "ir", "prof", "h", "hj"}
# Words that may stand between an office and its qualifier in a question ("president of the …").
_LINKS = {"of", "the", "dari", "for"}
_TOKEN = re.compile(r"\(?[\w'’-]+\)?")
# A capitalised run that may be a title and a name ("Gubernur Tengku Rizal Nurdin", "(PM) Tony Blair").
_TITLED_RUN = re.compile(r"(?:\(?[A-Z][\w'’-]*\)?\s+)+[A-Z][\w'’-]*")


@dataclass
class RoleCheck:
    """The outcome: `conflict` when the answer's title names another holder; `replacement` the right one."""

    conflict: bool = False
    replacement: str | None = None


def _is_office(word: str) -> bool:
    return fold(word.strip("()")) in OFFICES


def _capitalised(word: str) -> bool:
    core = word.strip("()")
    return bool(core) and core[0].isupper()


def _asked_office(question: str) -> tuple[str, list[str]] | None:
    """(office word, the qualifier words after it) when the question names an office with a qualifier."""
    tokens = _TOKEN.findall(question)
    for i, token in enumerate(tokens):
        if not _is_office(token):
            continue
        qualifier = []
        for t in tokens[i + 1:]:
            if _capitalised(t) and not _is_office(t):
                qualifier.append(fold(t.strip("()")))
            elif fold(t) in _LINKS or _is_office(t):
                continue
            else:
                break
        qualifier = [w for w in qualifier if w not in stopwords()]
        if qualifier:
            return fold(token.strip("()")), qualifier
    return None


def _title_before(text: str, start: int) -> list[str]:
    """The capitalised run that ends right before character `start` of `text` (the person's title)."""
    words = re.findall(r"[\w'’()-]+|\S", text[:start])
    title: list[str] = []
    for w in reversed(words):
        if not _capitalised(w) or fold(w.strip("()")) in stopwords() and not _is_office(w):
            break
        title.insert(0, fold(w.strip("()")))
    return title


def _abbreviates(word: str, words: list[str]) -> bool:
    """Whether `word` shortens `words`: "kalteng" (Kalimantan Tengah), "bes" (Bursa Efek Surabaya), "ndp"."""
    if len(word) < 2 or not words:
        return False
    if set(word) <= {w[0] for w in words} and len(word) <= len(words):
        return True  # initials, in any order (an acronym of the original language's word order)

    def split(rest: str, j: int) -> bool:
        if not rest:
            return True
        return any(rest[:k] == words[i][:k] and split(rest[k:], i + 1)
                   for i in range(j, len(words)) for k in range(1, min(len(rest), len(words[i])) + 1))

    return split(word, 0)


def _forms(word: str) -> set[str]:
    """A folded question word with its Indonesian forms: "prime" → perdana, pm; "britain" → inggris."""
    forms = {word} | OFFICE_FORMS.get(word, set())
    return forms | {f for f in ENGLISH_TO_INDONESIAN.get(word, []) if " " not in f}


def _matches(office: str, title: list[str], phrase: list[str] | None = None) -> bool:
    """Whether a title holds the office in any of its forms (an English one by its Indonesian words)."""
    return any(_matches_form(form, title, phrase) for form in _forms(office))


def _matches_form(office: str, title: list[str], phrase: list[str] | None = None) -> bool:
    """Whether a title holds the office, also abbreviated either way ("Menlu" / "Menteri Luar Negeri")."""
    # A title word shortening the office with its qualifier ("Menlu") opens with the office; one that only
    # repeats the qualifier ("Kalimantan" in "Kepala BKSDA Kalimantan" for "head of … Kalimantan") is not it.
    return (office in title or similar_term(office, set(title)) or _abbreviates(office, title)
            or any(t[:1] == office[:1] and _abbreviates(t, [office, *(phrase or [])])
                   for t in title if t not in _HONORIFICS))


def check_role(answer: str, question: str, evidence_texts: list[str], lang: str = "id") -> RoleCheck:
    """Whether a short name answer holds the office the question asks for, by its title in the evidence."""
    answer = answer.strip().rstrip(".")
    deputy = _deputy_of_asked(answer, question, evidence_texts)
    if deputy:
        return deputy
    asked = _asked_office(question) if expected_kind(question) == "name" else None
    if not asked or not answer or len(answer.split()) > 4 or any(_is_office(w) for w in answer.split()):
        return RoleCheck()
    office, qualifier = asked
    if lang == "en":
        # An English qualifier word is compared only in a form the excerpts use ("Britain" as "Inggris",
        # "Uzbekistan"); the words of a translated body's name ("Natural Resources Agency") are not.
        written = {fold(w) for text in evidence_texts for w in _TOKEN.findall(text)}
        qualifier = [w for w in qualifier if len(_forms(w)) > 1 or w in written or similar_term(w, written)]
        if not qualifier:
            return RoleCheck()
    question_words = {f for w in _TOKEN.findall(question) for f in _forms(fold(w.strip("()")))}
    title = _answer_title(answer, evidence_texts)
    if (title is not None and office in _SINGULAR_OFFICES and not _matches(office, title, qualifier)
            and any(w in _SINGULAR_OFFICES and w not in _forms(office) for w in title)):
        return RoleCheck(True)  # "Presiden China Xi Jinping" for "the foreign minister of China"
    if title is None or not _matches(office, title, qualifier):
        return RoleCheck()  # titled otherwise (or not at all): nothing to compare
    missing = [w for w in qualifier if not any(f in title or similar_term(f, set(title)) for f in _forms(w))]
    own = [w for w in title if w not in question_words and not similar_term(w, question_words)
           and w not in OFFICES and w not in _HONORIFICS and not _abbreviates(w, [office, *qualifier])]
    if not missing or not own:
        return RoleCheck()
    return RoleCheck(True, _holder(missing, question_words, evidence_texts))


def _answer_title(answer: str, evidence_texts: list[str]) -> list[str] | None:
    """The title before the answer where the evidence first names it (None when it never does)."""
    for text in evidence_texts:
        found = re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", text)
        if found:
            return _title_before(text, found.start())
    return None


def _sole_holder(evidence_texts: list[str], title_end: Callable[[list[str]], int | None]) -> str | None:
    """The one person named after a title the evidence writes, if exactly one.

    `title_end` gets each capitalised run's folded words and gives the index of the title's last word
    (the name follows it), or None when the run is not a title of the kind sought.
    """
    holders = []
    for text in evidence_texts:
        for run in _TITLED_RUN.finditer(text):
            words = run.group(0).split()
            last = title_end([fold(w.strip("()")) for w in words])
            name = " ".join(words[last + 1:]).strip("()") if last is not None else ""
            if name:
                holders.append(name)
    unique = list(dict.fromkeys(holders))
    return unique[0] if len(unique) == 1 else None


def _holder(qualifier: list[str], question_words: set[str], evidence_texts: list[str]) -> str | None:
    """The one person the evidence titles with an office and the asked `qualifier`, if exactly one.

    The office may be written another way ("Menlu" for "Menteri Luar Negeri"), so any office word counts.
    """
    def title_end(folded: list[str]) -> int | None:
        if not any(w in OFFICES for w in folded) or not all(
                any(f in folded or similar_term(f, set(folded)) for f in _forms(q)) for q in qualifier):
            return None
        # The name is what follows the last word the question itself uses.
        return max(i for i, w in enumerate(folded) if w in question_words or similar_term(w, question_words))

    return _sole_holder(evidence_texts, title_end)


def _deputy_of_asked(answer: str, question: str, evidence_texts: list[str]) -> RoleCheck | None:
    """A conflict when the answer is titled the deputy of the office the question asks for, else None.

    Asked "Siapa gubernur yang meninggal …", a small model picks the nearest name with the office in its
    title, and "Wakil Gubernur Rudolf Pardede" has it. The one person titled with the office itself
    ("Gubernur Tengku Rizal Nurdin") replaces the deputy; without one, the answer is withheld.
    """
    # "Which governor …" sets no kind; the answer must stand right after a deputy's title anyway.
    if expected_kind(question) not in ("name", "") or not answer or len(answer.split()) > 4:
        return None
    tokens = [fold(t.strip("()")) for t in _TOKEN.findall(question)]
    if any(t in _DEPUTY for t in tokens):
        return None  # the deputy is what is asked
    offices = [t for t in tokens if t in OFFICES]
    if not offices or any(_is_office(w) for w in answer.split()):
        return None
    office = offices[0]
    title = _answer_title(answer, evidence_texts)
    if title is None or not any(title[j] in _DEPUTY and _matches(office, [title[j + 1]])
                                for j in range(len(title) - 1)):
        return None  # titled otherwise (or not at all)
    question_words = {f for t in tokens for f in _forms(t)}
    return RoleCheck(True, _plain_holder(office, question_words, evidence_texts))


def _plain_holder(office: str, question_words: set[str], evidence_texts: list[str]) -> str | None:
    """The one person the evidence titles with `office` itself, not with its deputy, if exactly one."""
    def title_end(folded: list[str]) -> int | None:
        at = [i for i, w in enumerate(folded) if _matches(office, [w])]
        if not at or any(w in _DEPUTY for w in folded[:at[0] + 1]):
            return None
        return max([at[-1]] + [i for i, w in enumerate(folded) if w in question_words])

    return _sole_holder(evidence_texts, title_end)


# Offices one person holds at a time in a country or body (not "ketua"/"head" of anything): a person titled
# with one of them is not the holder of another.
_SINGULAR_OFFICES = {"presiden", "wapres", "menteri", "menlu", "menhan", "mendagri", "gubernur", "bupati",
                     "walikota", "raja", "ratu", "perdana", "pm", "dubes", "sekjen", "kapolri", "president",
                     "minister", "governor", "mayor", "king", "queen", "prime", "ambassador"}
_ABBREVIATION_SPAN = 4
_WHO = {"siapa", "siapakah", "who", "whom"}
_WHO_FILLERS = {"nama", "namanya", "is", "was", "are", "were", "the", "a", "an", "adalah", "yang", "menjadi",
                "sebagai", "current", "new", "sang", "sekarang"}


def asked_office_unnamed(question: str, evidence_texts: list[str]) -> str:
    """The office a who-question asks for ("Who is the Secretary-General of the SCO?") when no excerpt names
    it in any form (also abbreviated either way: "Menlu" / "Menteri Luar Negeri"); else "".

    Whoever the model then names holds no office the sources give: the answer cannot be checked.
    """
    if expected_kind(question) != "name":
        return ""
    tokens = re.findall(r"[\w'’]+", question)
    asked = [fold(t) for t in tokens]
    # Only the office the question asks for: the words right after "who is the" / "siapa (nama)", not a
    # "candidate for president" or the "chief designers" of a project.
    at = next((i + 1 for i, t in enumerate(asked) if t in _WHO), None)
    while at is not None and at < len(asked) and asked[at] in _WHO_FILLERS:
        at += 1
    if at is None or at >= len(asked) or asked[at] not in OFFICES:
        return ""
    following = tokens[at + 1] if at + 1 < len(tokens) else ""
    if following.islower() and fold(following) not in _LINKS | {"untuk", "di", "in", "at"}:
        return ""  # an office word before another word of the question is no office asked for ("chief designers")
    office, phrase = asked[at], asked[at + 1:at + 1 + _ABBREVIATION_SPAN]
    text = [fold(t) for e in evidence_texts for t in re.findall(r"[\w'’]+", e)]
    vocabulary = set(text)
    for form in _forms(office):
        if form in vocabulary:  # not a near spelling: "berbicara" (to speak) is no "bicara" (spokesperson)
            return ""
        # "Menlu" in the sources for "Menteri Luar Negeri" in the question, or the other way round.
        if any(t[:1] == form[:1] and t not in _HONORIFICS and t not in phrase and _abbreviates(t, [form, *phrase])
               for t in vocabulary):
            return ""
        if any(text[i][:1] == form[:1] and _abbreviates(form, text[i:i + _ABBREVIATION_SPAN])
               for i in range(len(text))):
            return ""
    return office
