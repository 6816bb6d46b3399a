"""Word-level text helpers shared by retrieval, answer checks and scoring."""

from __future__ import annotations

import functools
import re
import unicodedata

from rag.cleaning import MONTHS

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")
# Question words and fillers that say what is asked, not what it is about.
_QUESTION_WORDS = {
    "id": {"apa", "apakah", "siapa", "siapakah", "kapan", "kapankah", "dimana", "di", "mana", "manakah",
           "berapa", "berapakah", "bagaimana", "mengapa", "kenapa", "yang", "sebutkan", "jelaskan", "nama",
           "disebut", "menurut", "artikel", "berita", "sumber"},
    "en": {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much", "name",
           "did", "does", "do", "is", "are", "was", "were", "according", "article", "articles", "news",
           "say", "said", "tell"},
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


def salient_terms(text: str) -> set[str]:
    """Terms an answer must share with its evidence: numbers, and capitalised or long content words.

    Month names map to a number so "31 August" is grounded by "31 Agustus".
    """
    terms: set[str] = set()
    sw = stopwords()
    for raw in _WORD.findall(text):
        w = fold(raw)
        if w in MONTHS:
            terms.add(f"month{MONTHS[w]}")
        elif w.isdigit():
            terms.add(str(int(w)))
        elif w not in sw and len(w) > 2 and (raw[0].isupper() or len(w) > 3):
            terms.add(w)
    return terms


def evidence_terms(text: str) -> set[str]:
    """Every term of `text` in the same form as :func:`salient_terms`, for look-ups."""
    terms: set[str] = set()
    for raw in _WORD.findall(text):
        w = fold(raw)
        terms.add(f"month{MONTHS[w]}" if w in MONTHS else str(int(w)) if w.isdigit() else w)
    return terms
