"""English names of places and bodies that Indonesian news spells its own way ("Korut", "AS", "Belanda").

An English question or answer meets Indonesian excerpts mostly through names, and names that only
differ in spelling are matched by similarity already (Russia/Rusia). These are the ones that do not:
translated country names, Indonesian abbreviations and a few institutions. Only differing forms are
listed; all are folded (lowercase, no accents).
"""

from __future__ import annotations

import functools
import re

from rag.text import words

# English name → the forms Indonesian news uses for it.
ENGLISH_TO_INDONESIAN: dict[str, list[str]] = {
    "north korea": ["korea utara", "korut"],
    "south korea": ["korea selatan", "korsel"],
    "united states": ["amerika serikat", "as"],
    "us": ["amerika serikat", "as"],
    "usa": ["amerika serikat", "as"],
    "america": ["amerika"],
    "american": ["amerika"],
    "united kingdom": ["inggris", "britania raya"],
    "uk": ["inggris", "britania raya"],
    "britain": ["inggris", "britania raya"],
    "british": ["inggris"],
    "england": ["inggris"],
    "english": ["inggris"],
    "japan": ["jepang"],
    "japanese": ["jepang"],
    "china": ["china", "tiongkok", "cina", "rrc"],  # Indonesian news mostly writes "China" too
    "chinese": ["china", "tiongkok", "cina"],
    "russia": ["rusia"],
    "russian": ["rusia"],
    "korean": ["korea"],
    "netherlands": ["belanda"],
    "dutch": ["belanda"],
    "germany": ["jerman"],
    "german": ["jerman"],
    "france": ["prancis", "perancis"],
    "french": ["prancis", "perancis"],
    "egypt": ["mesir"],
    "saudi arabia": ["arab saudi"],
    "philippines": ["filipina"],
    "turkey": ["turki"],
    "iraq": ["irak"],
    "syria": ["suriah"],
    "palestine": ["palestina"],
    "ukraine": ["ukraina"],
    "belgium": ["belgia"],
    "switzerland": ["swiss"],
    "sweden": ["swedia"],
    "norway": ["norwegia"],
    "finland": ["finlandia"],
    "spain": ["spanyol"],
    "italy": ["italia"],
    "greece": ["yunani"],
    "poland": ["polandia"],
    "new zealand": ["selandia baru"],
    "singapore": ["singapura"],
    "brazil": ["brasil"],
    "mexico": ["meksiko"],
    "colombia": ["kolombia"],
    "cuba": ["kuba"],
    "cambodia": ["kamboja"],
    "east timor": ["timor leste"],
    "south africa": ["afrika selatan"],
    "morocco": ["maroko"],
    "algeria": ["aljazair"],
    "jordan": ["yordania"],
    "europe": ["eropa"],
    "european union": ["uni eropa", "ue"],
    "africa": ["afrika"],
    "middle east": ["timur tengah"],
    "west": ["barat"],
    "western": ["barat"],
    "united nations": ["pbb", "perserikatan bangsa bangsa"],
    "un": ["pbb"],
    "moscow": ["moskow", "moskwa"],
    "white house": ["gedung putih"],
    "state department": ["kementerian luar negeri", "kemenlu", "deplu"],
    "foreign ministry": ["kementerian luar negeri", "kemenlu", "deplu"],
    "defence ministry": ["kementerian pertahanan", "kemhan"],
    "defense ministry": ["kementerian pertahanan", "kemhan"],
    "world war ii": ["perang dunia ii", "perang dunia kedua"],
    "second world war": ["perang dunia ii", "perang dunia kedua"],
}

# Office words that head a title, Indonesian and English (folded).
OFFICES = {
    "presiden", "wapres", "menteri", "menlu", "menhan", "mendagri", "gubernur", "bupati", "walikota", "wali",
    "ketua", "kepala", "direktur", "dirut", "panglima", "raja", "ratu", "perdana", "pm", "duta", "dubes", "jubir",
    "kapolri", "kapolda", "kapolres", "sekjen", "sekretaris", "komandan", "pelatih", "kapten", "pemimpin", "camat",
    "president", "minister", "governor", "mayor", "chairman", "chair", "head", "director", "king", "queen",
    "prime", "ambassador", "spokesperson", "spokesman", "coach", "captain", "leader", "chief", "secretary",
    "commander",
}
# An English office in the words Indonesian news titles it with (folded).
OFFICE_FORMS: dict[str, set[str]] = {
    "president": {"presiden"}, "minister": {"menteri"}, "governor": {"gubernur"}, "mayor": {"walikota", "wali"},
    "chairman": {"ketua"}, "chair": {"ketua"}, "head": {"kepala", "ketua"}, "director": {"direktur", "dirut"},
    "king": {"raja"}, "queen": {"ratu"}, "prime": {"perdana", "pm"}, "ambassador": {"duta", "dubes"},
    "spokesperson": {"jubir", "juru", "bicara"}, "spokesman": {"jubir", "juru", "bicara"}, "coach": {"pelatih"},
    "captain": {"kapten"}, "leader": {"pemimpin", "ketua"}, "commander": {"komandan", "panglima"},
    "chief": {"kepala", "ketua", "panglima"}, "secretary": {"sekretaris", "sekjen"},
}


def office_forms(text: str) -> str:
    """The Indonesian words for the offices an English `text` names ("spokesperson" → "bicara jubir juru")."""
    folded = f" {' '.join(words(text))} "
    return " ".join(sorted({f for office, fs in OFFICE_FORMS.items() if f" {office} " in folded for f in fs}))


def indonesian_forms(text: str) -> str:
    """The Indonesian words for the places, bodies and offices an English `text` names ("Foreign Ministry
    spokesperson" → "kementerian luar negeri kemenlu deplu jubir juru bicara")."""
    folded = f" {' '.join(words(text))} "
    forms = [f for english, fs in ENGLISH_TO_INDONESIAN.items() if f" {english} " in folded for f in fs]
    return " ".join([*forms, office_forms(text)]).strip()


@functools.lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    return [(english, re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b"))
            for english, forms in ENGLISH_TO_INDONESIAN.items()]


def english_names(text: str) -> str:
    """The English names of the places and bodies an Indonesian `text` names in its own forms."""
    folded = " ".join(words(text))
    return " ".join(english for english, pattern in _patterns() if pattern.search(folded))


# The languages Indonesian news names as "bahasa X" (folded X), in English.
LANGUAGES: dict[str, str] = {
    "indonesia": "Indonesian", "melayu": "Malay", "jawa": "Javanese", "sunda": "Sundanese", "bali": "Balinese",
    "inggris": "English", "korea": "Korean", "rusia": "Russian", "jepang": "Japanese", "mandarin": "Mandarin",
    "china": "Chinese", "tionghoa": "Chinese", "arab": "Arabic", "prancis": "French", "perancis": "French",
    "jerman": "German", "belanda": "Dutch", "spanyol": "Spanish", "portugis": "Portuguese", "italia": "Italian",
    "thai": "Thai", "thailand": "Thai", "vietnam": "Vietnamese", "hindi": "Hindi", "latin": "Latin",
    "turki": "Turkish", "persia": "Persian", "ibrani": "Hebrew", "yunani": "Greek", "tagalog": "Tagalog",
    "ukraina": "Ukrainian", "urdu": "Urdu", "tamil": "Tamil",
}
