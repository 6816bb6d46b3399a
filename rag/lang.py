"""Which language a question is in: Indonesian ("id") or English ("en")."""

from __future__ import annotations

import functools

SUPPORTED = ("id", "en")
DEFAULT = "id"


@functools.lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.INDONESIAN, Language.ENGLISH).build()


def detect_language(text: str) -> str:
    """"en" or "id"; short or mixed text falls back to Indonesian, the corpus language."""
    from lingua import Language

    if not any(ch.isalpha() for ch in text):
        return DEFAULT
    values = {c.language: c.value for c in _detector().compute_language_confidence_values(text)}
    return "en" if values.get(Language.ENGLISH, 0.0) > values.get(Language.INDONESIAN, 0.0) else "id"
