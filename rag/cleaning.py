"""Turn a news page's text into the story: drop site boilerplate, find title, outlet and date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# A line that announces a related article on the next line.
_RELATED_NEXT = re.compile(r"^(baca juga|lihat juga|simak juga)\s*:?\s*$", re.IGNORECASE)
# Lines that end the story: what follows them is a list of other articles or site furniture.
_END_MARKERS = re.compile(
    r"^(berita terkait|artikel terkait|rekomendasi|berita lainnya|related( articles| news)?|"
    r"read more|bagikan|share|tags?|solopos stories|terpopuler|berita pilihan)\s*:?\s*$",
    re.IGNORECASE,
)
# Who a byline names: the words before "Editor : …", or a label on its own line.
_BYLINE_ROLES = "editor|penulis|reporter|pewarta"
# Single lines that are navigation, promotion or "follow us" furniture.
_DROP_LINE = re.compile(
    r"^(baca juga\b|promosi\b|iklan\b|advertisement\b|sponsored\b|"
    r"(ikuti|follow|simak|cek) .*(google news|whatsapp|telegram|berita)|"
    rf"({_BYLINE_ROLES})\s*:?\s*$|copyright|©|"
    r".*\bklik (link|di sini)\b|.*https?%3a|.*https?://\S+$|:extract_focal)",
    re.IGNORECASE,
)
# A byline: "Editor : Muhammad Fida Ul Haq", "Penulis: …" (who wrote or edited the story).
_BYLINE = re.compile(rf"^({_BYLINE_ROLES}|author|writer)\s*:\s*(\S.{{0,60}})$", re.IGNORECASE)
# A byline label on its own line, after the name it labels ("Mentari DP" / "Editor").
_BYLINE_LABEL = re.compile(rf"^({_BYLINE_ROLES})\s*:?\s*$", re.IGNORECASE)
_PERSON = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,4}$")
_REPUBLISHED = re.compile(r"^Berita ini telah tayang di (\S+?) dengan judul (.+?)\.?$", re.IGNORECASE)
_OUTLET = re.compile(
    r"^(?:[A-Z][A-Za-z .]{1,30}, )?([A-Za-z][\w-]*(?:\.[A-Za-z]{2,4}){1,2})\s*(?:[-—–,]|$)"
)
_TITLE_SUFFIX = re.compile(r"\s+[-|—–]\s+([A-Za-z][\w.-]{1,25})$")

MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "february": 2, "feb": 2, "maret": 3, "march": 3,
    "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7,
    "july": 7, "jul": 7, "agustus": 8, "august": 8, "agu": 8, "aug": 8, "agt": 8, "september": 9,
    "sep": 9, "sept": 9, "oktober": 10, "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}
WEEKDAYS = {"senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "sabtu": 5,
            "minggu": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
            "saturday": 5, "sunday": 6}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b")
_DATE_WORDS = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\.?\s+((?:19|20)\d{{2}})\b", re.IGNORECASE)
_DATE_WEEKDAY = re.compile(
    rf"\b({'|'.join(WEEKDAYS)})\s*,?\s*\(?(\d{{1,2}})\s+({_MONTH_RE})\b(?!\s+(?:19|20)\d{{2}})", re.IGNORECASE
)
_YEAR_LOOKBACK = 10


@dataclass
class CleanDoc:
    """A cleaned story with what could be read off the page about it."""

    text: str
    title: str
    outlet: str
    date: str  # ISO date, or "" when the page gives none
    byline: str = ""  # "Editor: Mentari DP; Penulis: …", or ""


def _valid_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def find_date(text: str, today: dt.date | None = None) -> str:
    """The article's date: the first full date in the text; else a weekday + day + month whose year
    is implied by the weekday (the latest such year not after `today`)."""
    found: list[tuple[int, dt.date]] = []
    for m in _DATE_NUMERIC.finditer(text):
        d = _valid_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in _DATE_WORDS.finditer(text):
        d = _valid_date(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
        if d:
            found.append((m.start(), d))
    if found:
        return min(found)[1].isoformat()
    today = today or dt.date.today()
    for m in _DATE_WEEKDAY.finditer(text):
        weekday, day, month = WEEKDAYS[m.group(1).lower()], int(m.group(2)), MONTHS[m.group(3).lower()]
        for year in range(today.year, today.year - _YEAR_LOOKBACK, -1):
            d = _valid_date(year, month, day)
            if d and d <= today and d.weekday() == weekday:
                return d.isoformat()
    return ""


def _is_headline(line: str) -> bool:
    return 15 <= len(line) <= 200 and not line.endswith((".", ")", ":")) and not _OUTLET.match(line)


def _truncate(text: str, limit: int = 90) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


# A dateline glued to the story's first word when a scraper dropped the dash: "JAKARTAPresiden".
_GLUED_DATELINE = re.compile(r"(?<![\w.])([A-Z]{3,})(?=[A-Z][a-z]{2,})")


def clean_news(raw: str, title: str = "", outlet: str = "", date: str = "") -> CleanDoc:
    """Clean one page of news text. Given `title`/`outlet`/`date` (from a richer format) win."""
    lines = [_GLUED_DATELINE.sub(r"\1 — ", re.sub(r"\s+", " ", ln).strip())
             for ln in raw.replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    seen: set[str] = set()
    republished_title = ""
    bylines: list[str] = []
    skip_next = False
    for line in lines:
        if not line:
            continue
        if skip_next:
            skip_next = False
            continue
        if _RELATED_NEXT.match(line):
            skip_next = True
            continue
        if _END_MARKERS.match(line) and kept:
            break
        m = _REPUBLISHED.match(line)
        if m:  # kept in the text too: where a story first ran is a fact readers ask about
            republished_title = m.group(2).strip()
        byline = _BYLINE.match(line)
        if byline:
            bylines.append(f"{byline.group(1).capitalize()}: {byline.group(2).strip()}")
            continue
        label = _BYLINE_LABEL.match(line)
        if label and kept and _PERSON.match(kept[-1]) and len(kept) <= 3:
            bylines.append(f"{label.group(1).capitalize()}: {kept.pop()}")
            continue
        if _DROP_LINE.match(line):
            continue
        key = line.lower()
        if key in seen:  # repeated captions and footers
            continue
        seen.add(key)
        kept.append(line)

    suffix_outlet = ""
    # A lone line is the story, whatever it ends with: taken as the headline, it would leave no text to
    # search (FacQA has one-paragraph passages ending in a closing quote).
    if not title and len(kept) > 1 and _is_headline(kept[0]):
        title = kept.pop(0)
        m = _TITLE_SUFFIX.search(title)
        if m:
            suffix_outlet = m.group(1)
            title = title[: m.start()].strip()
        kept = [ln for ln in kept if ln != title]
    if not outlet:
        candidates = [m.group(1) for ln in kept[:8] if (m := _OUTLET.match(ln))]
        # Prefer the outlet as it spells itself (Solopos.com) over a shouted caption (SOLOPOS.COM).
        candidates.sort(key=lambda c: c.isupper())
        outlet = candidates[0] if candidates else suffix_outlet
    text = "\n".join(kept)
    title = title or republished_title or _truncate(kept[0] if kept else "")
    return CleanDoc(text=text, title=title, outlet=outlet, date=date or find_date(text),
                    byline="; ".join(dict.fromkeys(bylines)))
