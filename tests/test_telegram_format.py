"""Telegram front end, pure parts: splitting, source lists, texts, token and webhook checks, log redaction."""

from __future__ import annotations

import io
import logging

import pytest

from bot.telegram import TokenFilter, base_urls, check_webhook, protect_logs, resolve_token, run_bot
from bot.tg_format import (
    answer_text,
    source_list,
    sources_text,
    split_message,
    start_text,
    strip_mentions,
    utf16_len,
)
from bot.tg_queue import RateLimiter
from rag.answer import Answer, Citation, Context
from rag.errors import KabarError

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"


def _answer(lang: str = "id") -> Answer:
    cites = [
        Citation(1, "000.txt", "000.txt#a", "Putin akan ke China", "q1", "iNews.id", "2025-08-27"),
        Citation(2, "003.txt", "003.txt#b", "Shoigu tiba di Pyongyang", "q2", "", "2023-07-27"),
        Citation(3, "000.txt", "000.txt#c", "Putin akan ke China", "q3", "iNews.id", "2025-08-27"),
    ]
    contexts = [Context(n, c.source, c.chunk_id, 1.0, f"excerpt {n}", c.title, c.outlet, c.date,
                        f"full passage {n}") for n, c in zip((1, 2, 3), cites, strict=True)]
    text = "KTT SCO 31 Agustus [1][3], kata Shoigu [2]."
    return Answer("Kapan KTT SCO?", text, False, lang, cites, contexts)


# --- splitting ---------------------------------------------------------------------------------


def test_short_text_is_one_message() -> None:
    assert split_message("  Halo.  ") == ["Halo."]


def test_split_prefers_paragraphs_then_sentences() -> None:
    paragraphs = [f"Kalimat pertama paragraf {i}. Kalimat kedua yang lebih panjang sedikit." * 8
                  for i in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_message(text, 1000)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 1000 for p in parts)
    # Paragraph boundaries: every part is whole paragraphs.
    assert all(p.endswith(".") for p in parts)
    assert "\n\n".join(parts) == text


def test_split_without_paragraphs_cuts_after_a_sentence() -> None:
    text = " ".join(f"Ini kalimat nomor {i} dalam jawaban yang panjang." for i in range(200))
    parts = split_message(text, 500)
    assert all(utf16_len(p) <= 500 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_split_counts_utf16_units_and_handles_unbreakable_text() -> None:
    emoji = "🙂" * 3000  # 6000 UTF-16 units, no boundary anywhere
    parts = split_message(emoji, 4096)
    assert [utf16_len(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == emoji


def test_split_is_stable_while_text_grows() -> None:
    text = " ".join(f"Sentence {i} of a long streamed answer." for i in range(400))
    final = split_message(text, 700)
    for end in range(800, len(text), 357):
        streamed = split_message(text[:end], 700)
        # Every part that is complete in the stream is already what the final text will show.
        assert streamed[:-1] == final[: len(streamed) - 1]


# --- answers, sources, texts -------------------------------------------------------------------


def test_source_list_groups_citations_by_article() -> None:
    lines = source_list(_answer("id")).splitlines()
    assert lines == ["Sumber:", "[1, 3] Putin akan ke China — iNews.id, 2025-08-27",
                     "[2] Shoigu tiba di Pyongyang — 2023-07-27"]
    assert source_list(_answer("en")).startswith("Sources:\n")


def test_answer_text_ends_with_sources_unless_abstained() -> None:
    answer = _answer()
    assert answer_text(answer).startswith(answer.text + "\n\nSumber:\n[1, 3]")
    answer.abstained, answer.citations = True, []
    answer.text = "Artikel-artikel yang ada tidak menyebutkan hal itu."
    assert answer_text(answer) == answer.text


def test_sources_text_shows_full_passages() -> None:
    text = sources_text(_answer("en"), "en")
    assert "full passage 1" in text and "full passage 2" in text and "full passage 3" in text
    assert "[2] Shoigu tiba di Pyongyang — 2023-07-27 (003.txt)" in text
    assert "no answer" in sources_text(None, "en")
    assert "Belum ada" in sources_text(None, "id")


def test_start_text_lists_what_the_bot_knows() -> None:
    info = {"documents": 5, "outlets": ["iNews.id", "Solopos.com"], "date_range": "2022-09-15 .. 2025-08-27"}
    text = start_text(info, "en", "kabar_bot", group=True)
    assert "5 news articles" in text and "iNews.id, Solopos.com" in text
    assert "2022-09-15 – 2025-08-27" in text
    assert "@kabar_bot" in text
    assert "5 artikel" in start_text(info, "id", "kabar_bot", group=False)
    assert "kabar ingest" in start_text({"documents": 0}, "en", "kabar_bot", group=False)


def test_strip_mentions() -> None:
    assert strip_mentions("@Kabar_Bot kapan KTT SCO?", "kabar_bot") == "kapan KTT SCO?"
    assert strip_mentions("kapan KTT SCO @kabar_bot ?", "kabar_bot") == "kapan KTT SCO ?"
    assert strip_mentions("tanya @kabar_botx", "kabar_bot") == "tanya @kabar_botx"


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(2, window_s=60)
    assert limiter.retry_in(1, now=0) == 0 and limiter.retry_in(1, now=1) == 0
    assert limiter.retry_in(1, now=2) == pytest.approx(58)
    assert limiter.retry_in(2, now=2) == 0  # per user
    assert limiter.retry_in(1, now=60.5) == 0


# --- token, URLs, webhook settings -------------------------------------------------------------


def test_token_from_env_or_config(tmp_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(KabarError, match="TELEGRAM_BOT_TOKEN"):
        resolve_token(tmp_settings)
    configured = tmp_settings.model_copy(
        update={"telegram": tmp_settings.telegram.model_copy(update={"token": TOKEN})})
    assert resolve_token(configured) == TOKEN
    from_env = "987654321:" + "x" * 35
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", f" {from_env}\n")  # the environment wins, whitespace ignored
    assert resolve_token(configured) == from_env
    for bad in ("abc", "123456789", "123456789:short", "12345:" + "A" * 35 + "!"):
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bad)
        with pytest.raises(KabarError, match="malformed") as info:
            resolve_token(tmp_settings)
        assert bad not in str(info.value)


def test_base_urls() -> None:
    assert base_urls("https://api.telegram.org/bot") == ("https://api.telegram.org/bot",
                                                         "https://api.telegram.org/file/bot")
    assert base_urls("http://127.0.0.1:8081/bot") == ("http://127.0.0.1:8081/bot",
                                                      "http://127.0.0.1:8081/file/bot")


def test_webhook_needs_https_and_a_secret() -> None:
    assert check_webhook("https://bot.example.com/kabar/hook", "s3cret_-X") == "kabar/hook"
    with pytest.raises(KabarError, match="secret"):
        check_webhook("https://bot.example.com/hook", None)
    with pytest.raises(KabarError, match="A-Z"):
        check_webhook("https://bot.example.com/hook", "has space")
    with pytest.raises(KabarError, match="https"):
        check_webhook("http://bot.example.com/hook", "s3cret")


def test_run_bot_checks_everything_before_loading_the_model(tmp_settings, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)

    def no_model():
        raise AssertionError("the model must not load when the settings are wrong")

    with pytest.raises(KabarError, match="secret"):
        run_bot(tmp_settings, webhook_url="https://bot.example.com/hook", pipeline_factory=no_model)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "nope")
    with pytest.raises(KabarError, match="malformed"):
        run_bot(tmp_settings, pipeline_factory=no_model)


# --- logs --------------------------------------------------------------------------------------


def test_token_is_redacted_from_logs() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        protect_logs(TOKEN)
        assert any(isinstance(f, TokenFilter) for f in handler.filters)
        assert logging.getLogger("httpx").level == logging.WARNING
        url = f"https://api.telegram.org/bot{TOKEN}/getMe"
        logging.getLogger("httpx").warning("HTTP Request: POST %s", url)
        logging.getLogger("telegram.Bot").warning("url %s", f"https://x/bot{TOKEN.replace(':', '%3A')}/getMe")
        try:
            raise RuntimeError(f"failed https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            logging.getLogger("telegram.ext.Updater").exception("request failed")
    finally:
        root.removeHandler(handler)
    text = out.getvalue()
    assert TOKEN not in text and TOKEN.replace(":", "%3A") not in text
    assert text.count("<token>") == 3  # two log lines and the traceback
