"""Which language a question is in: Indonesian ("id") or English ("en")."""

from __future__ import annotations

import functools
import re

SUPPORTED = ("id", "en")
DEFAULT = "id"
# A capitalised word, number or title ("The Clash of Civilizations") that does not open the text.
_CONNECTOR = r"(?:of|and|the|for|de|des|du|la|le|van|von|dan)"
_NAME_WORD = re.compile(rf"(?<=[\s(\"'“])(?:[A-Z][\w'’.-]*|\d+\w*)(?:\s+{_CONNECTOR}?\s*[A-Z][\w'’.-]*)*")
_MIN_OWN_WORDS = 2


@functools.lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.INDONESIAN, Language.ENGLISH).build()


def detect_language(text: str) -> str:
    """"en" or "id"; short or mixed text falls back to Indonesian, the corpus language."""
    from lingua import Language

    if not any(ch.isalpha() for ch in text):
        return DEFAULT
    # Names are in neither language ("… du Languedoc Montpellier", "The Clash of Civilizations"); the
    # question's own words decide, unless it is all names.
    own_words = [w for w in _NAME_WORD.sub(" ", text).split() if any(ch.isalpha() for ch in w)]
    if len(own_words) >= _MIN_OWN_WORDS:
        text = " ".join(own_words)
    values = {c.language: c.value for c in _detector().compute_language_confidence_values(text)}
    return "en" if values.get(Language.ENGLISH, 0.0) > values.get(Language.INDONESIAN, 0.0) else "id"
