"""Telegram texts: the bot's fixed messages (Indonesian/English), answers with sources, message splitting.

Everything here is plain text: the bot sends no `parse_mode`, so nothing needs escaping and a title
with `<` or `*` in it can never break a message.
"""

from __future__ import annotations

import re
from typing import Any

from rag.answer import Answer

# Telegram's limit for one message, counted in UTF-16 code units (an emoji counts twice).
MESSAGE_LIMIT = 4096
# Shown after the streamed text while the model is still writing.
CURSOR = " …"
# Titles longer than this are shortened in the compact source list (the full one is in /sources).
TITLE_CHARS = 90

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "start": (
            "Hi! I'm Kabar. I answer questions about {documents} news articles{outlets}{dates}, "
            "offline, and cite the passages I used.\n\n"
            "Just send a question, in Indonesian or English, e.g. \"{example}\". "
            "Follow-up questions are fine.{group_hint}\n\n"
            "/sources shows the passages behind my last answer, /reset starts over, /help explains more."
        ),
        "start_empty": "Hi! I'm Kabar, but I have no articles yet: ask the admin to run `kabar ingest`.",
        "group_hint": " In a group, mention me (@{username}) or reply to one of my messages.",
        "from_outlets": " from {outlets}",
        "dates": " ({dates})",
        "example": "Kapan KTT SCO di Tianjin berlangsung?",
        "help": (
            "Send me a question as text; I answer from the news articles only, with [n] markers that "
            "point at the sources listed under the answer.\n\n"
            "/start – what I know\n/sources – the full passages behind my last answer\n"
            "/reset – forget this conversation (follow-ups start fresh)\n/about – what Kabar is\n\n"
            "In groups I answer only when mentioned (@{username}), replied to, or given a command. "
            "Only text questions are supported; {limit} characters at most."
        ),
        "about": (
            "Kabar answers questions about a collection of news articles with a small language model "
            "running entirely on this server: your questions are not sent to any AI service. "
            "Answers cite the article passages they rely on; when the articles don't say, Kabar says so."
        ),
        "sources_none": "There is no answer with sources in this chat yet: ask me something first.",
        "sources_abstained": "My last answer cited no passages (the articles didn't answer it).",
        "sources_head": "Passages behind the last answer (\"{question}\"):",
        "sources_label": "Sources",
        "reset": "Done: I forgot this conversation. The next question starts fresh.",
        "private": "Sorry, this bot is private.",
        "only_text": "Sorry, I only understand text questions. Please type your question.",
        "empty": "Please type a question about the news articles, e.g. \"{example}\".",
        "rate_limited": "You're asking quickly: please wait {seconds} s before the next question.",
        "busy": "I'm busy with many questions right now. Please try again in a minute.",
        "queued": "⏳ {ahead} question{s} ahead of yours; I'll answer as soon as I can.",
        "failed": "Sorry, something went wrong while answering. Please try again.",
        "unavailable": "Sorry, I can't answer right now: the answering service is unavailable. "
                       "Please try again in a few minutes.",
        "oops": "Sorry, something went wrong. Please try again.",
        "restarting": "Sorry, I'm restarting and couldn't answer this. Please ask again in a minute.",
        "unknown_outlet": "unknown outlet",
    },
    "id": {
        "start": (
            "Halo! Saya Kabar. Saya menjawab pertanyaan tentang {documents} artikel berita{outlets}{dates} "
            "secara offline, dan mengutip bagian artikel yang saya pakai.\n\n"
            "Kirim saja pertanyaan, dalam bahasa Indonesia atau Inggris, misalnya \"{example}\". "
            "Pertanyaan lanjutan juga boleh.{group_hint}\n\n"
            "/sources menampilkan kutipan di balik jawaban terakhir, /reset memulai dari awal, "
            "/help menjelaskan lebih lanjut."
        ),
        "start_empty": "Halo! Saya Kabar, tetapi belum ada artikel: minta admin menjalankan `kabar ingest`.",
        "group_hint": " Di grup, sebut saya (@{username}) atau balas salah satu pesan saya.",
        "from_outlets": " dari {outlets}",
        "dates": " ({dates})",
        "example": "Kapan KTT SCO di Tianjin berlangsung?",
        "help": (
            "Kirim pertanyaan berupa teks; saya menjawab hanya dari artikel berita, dengan tanda [n] yang "
            "merujuk ke sumber di bawah jawaban.\n\n"
            "/start – apa yang saya ketahui\n/sources – kutipan lengkap di balik jawaban terakhir\n"
            "/reset – lupakan percakapan ini\n/about – tentang Kabar\n\n"
            "Di grup saya hanya menjawab jika disebut (@{username}), dibalas, atau diberi perintah. "
            "Hanya pertanyaan teks; paling banyak {limit} karakter."
        ),
        "about": (
            "Kabar menjawab pertanyaan tentang kumpulan artikel berita dengan model bahasa kecil yang "
            "berjalan sepenuhnya di server ini: pertanyaan Anda tidak dikirim ke layanan AI mana pun. "
            "Jawaban mengutip bagian artikel yang dipakai; jika artikel tidak menyebutkannya, Kabar "
            "mengatakannya."
        ),
        "sources_none": "Belum ada jawaban bersumber di obrolan ini: silakan bertanya dulu.",
        "sources_abstained": "Jawaban terakhir saya tidak mengutip apa pun (artikel tidak menjawabnya).",
        "sources_head": "Kutipan di balik jawaban terakhir (\"{question}\"):",
        "sources_label": "Sumber",
        "reset": "Baik, percakapan ini sudah saya lupakan. Pertanyaan berikutnya dimulai dari awal.",
        "private": "Maaf, bot ini bersifat pribadi.",
        "only_text": "Maaf, saya hanya memahami pertanyaan berupa teks. Silakan ketik pertanyaan Anda.",
        "empty": "Silakan ketik pertanyaan tentang artikel berita, misalnya \"{example}\".",
        "rate_limited": "Terlalu cepat: tunggu {seconds} detik sebelum pertanyaan berikutnya.",
        "busy": "Saya sedang sibuk melayani banyak pertanyaan. Silakan coba lagi sebentar lagi.",
        "queued": "⏳ Ada {ahead} pertanyaan sebelum pertanyaan Anda; saya akan menjawab secepatnya.",
        "failed": "Maaf, terjadi kesalahan saat menjawab. Silakan coba lagi.",
        "unavailable": "Maaf, saya belum bisa menjawab sekarang: layanan penjawab sedang tidak tersedia. "
                       "Silakan coba lagi beberapa menit lagi.",
        "oops": "Maaf, terjadi kesalahan. Silakan coba lagi.",
        "restarting": "Maaf, saya sedang dimulai ulang dan belum sempat menjawab. Silakan tanya lagi nanti.",
        "unknown_outlet": "media tidak diketahui",
    },
}

# The command menu (set_my_commands): default English, Indonesian for users whose app is in Indonesian.
COMMANDS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("start", "What I know and how to ask"),
        ("help", "How to use Kabar"),
        ("sources", "Full passages behind the last answer"),
        ("reset", "Forget this conversation"),
        ("about", "About Kabar"),
    ],
    "id": [
        ("start", "Apa yang saya ketahui dan cara bertanya"),
        ("help", "Cara memakai Kabar"),
        ("sources", "Kutipan lengkap jawaban terakhir"),
        ("reset", "Lupakan percakapan ini"),
        ("about", "Tentang Kabar"),
    ],
}


def ui_lang(language_code: str | None) -> str:
    """The language of the bot's fixed messages for a Telegram user (their app's language)."""
    return "id" if (language_code or "").lower().startswith("id") else "en"


def t(lang: str, key: str, **values: Any) -> str:
    """A fixed message in `lang` (English when unknown), with `values` filled in."""
    return TEXTS.get(lang, TEXTS["en"])[key].format(**values)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")


def _cut_point(window: str) -> int:
    """Where to end a part inside `window`: a paragraph, line, sentence or word boundary, else anywhere.

    Boundaries in the first third are not used, so a split never leaves a tiny message behind.
    """
    floor = len(window) // 3
    for finder in (lambda w: w.rfind("\n\n"), lambda w: w.rfind("\n")):
        at = finder(window)
        if at > floor:
            return at
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() > floor]
    if ends:
        return ends[-1]
    at = max(window.rfind(" "), window.rfind("\t"))
    return at if at > floor else len(window)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` as Telegram messages of at most `limit` units, split at the most natural boundary.

    The split of a prefix only depends on the first `limit` characters of what is left, so while
    an answer streams, parts that are already full never change as more text arrives.
    """
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        window = rest[: _fitting_prefix(rest, limit)]
        cut = _cut_point(window)
        part = rest[:cut].rstrip()
        if not part:  # only whitespace before the cut: take the window as is
            part, cut = window, len(window)
        parts.append(part)
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _where(outlet: str, date: str, lang: str) -> str:
    return ", ".join(x for x in (outlet, date) if x) or t(lang, "unknown_outlet")


def source_list(answer: Answer) -> str:
    """The compact list under an answer: `[1, 3] Title — Outlet, date`, one line per cited article."""
    by_source: dict[str, list[Any]] = {}
    for c in answer.citations:
        by_source.setdefault(c.source, []).append(c)
    lines = [t(answer.lang, "sources_label") + ":"]
    for cites in by_source.values():
        first = cites[0]
        numbers = ", ".join(str(c.n) for c in cites)
        title = _shorten(first.title or first.source, TITLE_CHARS)
        lines.append(f"[{numbers}] {title} — {_where(first.outlet, first.date, answer.lang)}")
    return "\n".join(lines)


def answer_text(answer: Answer) -> str:
    """The final reply: the checked answer, then its sources (none for an honest "don't know")."""
    text = answer.text.strip() or "…"
    if answer.citations and not answer.abstained:
        text += "\n\n" + source_list(answer)
    return text


def sources_text(answer: Answer | None, lang: str) -> str:
    """What /sources shows: each cited passage in full, with its article."""
    if answer is None:
        return t(lang, "sources_none")
    if answer.abstained or not answer.citations:
        return t(answer.lang, "sources_abstained")
    contexts = {c.rank: c for c in answer.contexts}
    blocks = [t(answer.lang, "sources_head", question=_shorten(answer.question, 120))]
    for c in answer.citations:
        ctx = contexts.get(c.n)
        passage = (ctx.full_text or ctx.text) if ctx else c.quote
        head = f"[{c.n}] {c.title or c.source} — {_where(c.outlet, c.date, answer.lang)} ({c.source})"
        blocks.append(f"{head}\n{passage.strip()}")
    return "\n\n".join(blocks)


def start_text(info: dict[str, Any], lang: str, username: str, group: bool) -> str:
    """The /start message: what the bot knows (articles, outlets, dates) and how to ask."""
    if not info.get("documents"):
        return t(lang, "start_empty")
    outlets = list(info.get("outlets") or [])
    shown = ", ".join(outlets[:6]) + (f" (+{len(outlets) - 6})" if len(outlets) > 6 else "")
    dates = info.get("date_range", "").replace(" .. ", " – ")
    return t(
        lang, "start",
        documents=info["documents"],
        outlets=t(lang, "from_outlets", outlets=shown) if outlets else "",
        dates=t(lang, "dates", dates=dates) if dates else "",
        example=t(lang, "example"),
        group_hint=t(lang, "group_hint", username=username) if group else "",
    )


def strip_mentions(text: str, username: str) -> str:
    """The question without the bot's @mention(s)."""
    if not username:
        return text.strip()
    stripped = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(stripped.split())


def user_error(message: str) -> str:
    """A KabarError's one-line message as a sentence for the chat."""
    message = message.strip()
    return (message[:1].upper() + message[1:]) if message else message

