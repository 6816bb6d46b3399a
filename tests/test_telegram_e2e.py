"""End to end: the real PTB Application, the real pipeline (store of the seed articles, packaged LLM),
and the fake Bot API server on 127.0.0.1. What a Telegram user would see is read back from the server.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest

from bot.telegram import build_application
from rag.config import Settings
from tests.fake_bot_api import TOKEN, FakeBotAPI, running, settle

pytestmark = pytest.mark.e2e

GROUP = -100777
# Generous: on a busy 2-core machine one answer can take a minute.
SETTLE_S = 600.0


class CountingPipeline:
    """The real pipeline, counting questions and how many generations ever ran at once."""

    def __init__(self, pipeline: Any):
        self.pipeline = pipeline
        self.asked: list[str] = []
        self.active = self.max_active = 0
        self._lock = threading.Lock()

    def ask(self, question: str, conversation: Any = None,
            on_token: Callable[[str], None] | None = None) -> Any:
        with self._lock:
            self.asked.append(question)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            return self.pipeline.ask(question, conversation, on_token)
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def _settings(seed_settings: Settings, api: FakeBotAPI, **telegram: Any) -> Settings:
    values = {"base_url": api.base_url, "edit_interval_s": 0.5, **telegram}
    return seed_settings.model_copy(update={"telegram": seed_settings.telegram.model_copy(update=values)})


def _run(scenario: Callable[[], Any]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), SETTLE_S * 2))


def _final(api: FakeBotAPI, chat_id: int) -> list[str]:
    """The chat's bot messages that are not queue notices."""
    return [t for t in api.texts(chat_id) if not t.startswith("⏳")]


def test_start_indonesian_question_follow_up_and_sources(api: FakeBotAPI, seed_settings, pipeline) -> None:
    counting = CountingPipeline(pipeline)
    app = build_application(_settings(seed_settings, api), counting, TOKEN)

    async def scenario() -> None:
        async with running(app) as kabar:
            api.say("/start", language_code="id")
            await settle(api, app)
            api.say("Kapan KTT SCO di Tianjin berlangsung?", language_code="id")
            await settle(api, app, SETTLE_S)
            api.say("Sampai kapan Putin berada di sana?", language_code="id")
            await settle(api, app, SETTLE_S)
            assert len(kabar.conversations[1001].turns) == 2  # the follow-up went through the chat's history
            api.say("/sources", language_code="id")
            await settle(api, app)

    _run(scenario)
    start, answer, follow_up, sources = api.texts(1001)
    # /start: what the bot knows, from the real store.
    assert "5 artikel berita" in start and "iNews.id" in start and "2022-09-15 – 2025-08-27" in start
    # The Indonesian answer: the right date, a [n] marker, and a source list naming article 000.
    body, _, source_list = answer.partition("\n\nSumber:\n")
    assert "31 Agustus" in body and re.search(r"\[\d+\]", body), answer
    assert re.search(r"^\[[\d, ]+\] .*Presiden Rusia.* — .*2025-08-27$", source_list, re.M), answer
    # It was streamed into the message before the final text (sources added at the end).
    first = api.chat(1001)[1]
    assert len(first.history) >= 2 and first.history[0].endswith(" …")
    # The follow-up ("there" = Tianjin/China, from the history) is answered, not failed.
    assert "kesalahan" not in follow_up and follow_up.strip()
    assert "3 September" in follow_up or "tidak menyebutkan" in follow_up, follow_up
    # /sources: the full passage behind the last answer.
    assert sources.startswith("Kutipan di balik jawaban terakhir") or sources.startswith("Jawaban terakhir")
    assert counting.asked == ["Kapan KTT SCO di Tianjin berlangsung?", "Sampai kapan Putin berada di sana?"]


def test_english_answer_allow_list_and_group_silence(api: FakeBotAPI, seed_settings, pipeline) -> None:
    counting = CountingPipeline(pipeline)
    settings = _settings(seed_settings, api, allowed_users=[2001], allowed_chats=[GROUP])
    app = build_application(settings, counting, TOKEN)
    question = "Who led the Russian military delegation to North Korea?"  # English, over Indonesian text

    async def scenario() -> None:
        async with running(app):
            api.say("Kapan KTT SCO di Tianjin berlangsung?", user_id=6666)  # a stranger
            api.say("Kapan KTT SCO di Tianjin berlangsung?", user_id=2001, chat_id=GROUP,
                    chat_type="supergroup")  # allowed group, but the bot is not addressed
            api.say(question, user_id=2001)
            await settle(api, app, SETTLE_S)

    _run(scenario)
    assert api.texts(6666) == ["Sorry, this bot is private."]
    assert api.texts(GROUP) == []
    assert counting.asked == [question]
    [answer] = api.texts(2001)
    body, _, sources = answer.partition("\n\nSources:\n")  # English answer, English labels
    assert "Shoigu" in body and re.search(r"\[\d+\]", body), answer
    assert sources and "Sumber" not in answer


def test_burst_of_five_real_questions_from_three_users(api: FakeBotAPI, seed_settings, pipeline) -> None:
    counting = CountingPipeline(pipeline)
    app = build_application(_settings(seed_settings, api), counting, TOKEN)
    questions = {
        3001: ["Kapan KTT SCO di Tianjin berlangsung?", "Kapan Victory Day diperingati di Korea Utara?"],
        3002: ["Siapa yang memimpin delegasi China ke Pyongyang?",
               "Where will the 80th anniversary parade be held?"],
        3003: ["Siapa juru bicara Kepresidenan Rusia?"],
    }
    asked: dict[int, list[int]] = {}

    async def scenario() -> None:
        async with running(app):
            for i in range(2):
                for user, qs in questions.items():
                    if i < len(qs):
                        asked.setdefault(user, []).append(api.say(qs[i], user_id=user))
            await settle(api, app, SETTLE_S)

    _run(scenario)
    assert counting.max_active == 1 and len(counting.asked) == 5
    for user, qs in questions.items():
        finals = api.chat(user)
        finals = [m for m in finals if not m.text.startswith("⏳")]
        assert len(finals) == len(qs), [m.text for m in finals]
        assert not [m for m in finals if "went wrong" in m.text]
        if len(qs) == 2:  # in order: the second answer quotes the second question
            assert finals[1].reply_to == asked[user][1] and finals[0].message_id < finals[1].message_id
