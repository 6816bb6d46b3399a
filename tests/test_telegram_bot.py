"""The Telegram bot against the fake Bot API server, with a fast fake pipeline.

The real PTB Application polls the fake server over HTTP on 127.0.0.1; assertions read what the
chats show (the fake server keeps every message the bot sent or edited) and the calls it made.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bot.telegram import build_application
from rag.config import Settings
from tests.fake_bot_api import BOT_ID, TOKEN, FakeBotAPI, running, settle, utf16_len
from tests.fake_pipeline import FakePipeline

SOURCES = "Sources:\n[1] Putin akan ke China — iNews.id, 2025-08-27"
GROUP = -100200300


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def settings_for(base: Settings, api: FakeBotAPI, **telegram: Any) -> Settings:
    """`base` pointed at the fake server (short edit interval unless given)."""
    values = {"base_url": api.base_url, "edit_interval_s": 0.2, **telegram}
    return base.model_copy(update={"telegram": base.telegram.model_copy(update=values)})


def run(test: Callable[[], Coroutine[Any, Any, None]], timeout: float = 90) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def answers(api: FakeBotAPI, chat_id: int) -> list[str]:
    """The bot's finished answers in a chat (they end with their source list)."""
    return [t for t in api.texts(chat_id) if "Sources:" in t]


def sent_texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage", chat_id)]


# --- startup, commands ---------------------------------------------------------------------------


def test_startup_registers_the_command_menu_and_commands_answer(api: FakeBotAPI, tmp_settings) -> None:
    app = build_application(settings_for(tmp_settings, api), FakePipeline(), TOKEN)

    async def scenario() -> None:
        async with running(app):
            api.say("/help")
            api.say("/about", user_id=1002, language_code="id")
            api.say("/nosuchcommand", user_id=1003)
            api.say("/sources", user_id=1004)
            await settle(api, app)

    run(scenario)
    english = [c["command"] for c in api.commands[""]]
    assert english == ["start", "help", "sources", "reset", "about"]
    assert [c["command"] for c in api.commands["id"]] == english
    assert api.commands["id"][4]["description"] == "Tentang Kabar"
    help_text = api.texts(1001)[0]
    assert "/sources" in help_text and "@kabar_test_bot" in help_text and "1000 characters" in help_text
    assert "server ini" in api.texts(1002)[0]  # /about in Indonesian for an Indonesian app
    assert "/sources" in api.texts(1003)[0]  # an unknown command gets the help
    assert "no answer" in api.texts(1004)[0]
    # Plain text only: no parse_mode anywhere, so nothing ever needs escaping.
    assert all("parse_mode" not in c.params for c in api.calls_to("sendMessage"))


# --- questions -----------------------------------------------------------------------------------


def test_answer_streams_by_throttled_edits_then_ends_with_sources(api: FakeBotAPI, tmp_settings) -> None:
    long_answer = " ".join(f"Kalimat {i} dari jawaban." for i in range(40)) + " [1]"
    pipeline = FakePipeline(lambda q: long_answer, delay=3.0, pieces=30)
    app = build_application(settings_for(tmp_settings, api, edit_interval_s=0.5), pipeline, TOKEN)

    async def scenario() -> None:
        async with running(app):
            api.say("Kapan KTT SCO di Tianjin berlangsung?")
            await settle(api, app)

    run(scenario)
    [message] = api.chat(1001)
    assert message.text == f"{long_answer}\n\n{SOURCES}"
    streamed = message.history[:-1]
    assert len(streamed) >= 3, message.history  # it really streamed
    assert all(s.endswith(" …") for s in streamed)
    assert all(len(a) <= len(b) for a, b in zip(streamed, streamed[1:], strict=False))  # growing text
    assert api.calls_to("sendChatAction", 1001)[0].params["action"] == "typing"
    assert api.calls_to("sendChatAction", 1001)[0].at < api.calls_to("sendMessage", 1001)[0].at
    # Edits at most every edit_interval_s (the final one may follow sooner).
    edits = [c.at for c in api.calls_to("editMessageText", 1001)]
    assert all(b - a >= 0.45 for a, b in zip(edits[:-2], edits[1:-1], strict=False)), edits
    assert len(edits) <= 3.0 / 0.5 + 2
    assert pipeline.threads and "MainThread" not in pipeline.threads  # generation runs off the event loop


def test_follow_up_sources_and_reset_use_the_chat_s_conversation(api: FakeBotAPI, tmp_settings) -> None:
    app = build_application(settings_for(tmp_settings, api), FakePipeline(), TOKEN)

    async def scenario() -> None:
        async with running(app) as kabar:
            api.say("Kapan KTT SCO di Tianjin berlangsung?")
            await settle(api, app)
            api.say("Siapa yang hadir di sana?")
            api.say("Other chat's question?", user_id=2002)
            await settle(api, app)
            conversation = kabar.conversations[1001]
            assert [t.question for t in conversation.turns] == ["Kapan KTT SCO di Tianjin berlangsung?",
                                                                "Siapa yang hadir di sana?"]
            assert [t.question for t in kabar.conversations[2002].turns] == ["Other chat's question?"]
            api.say("/sources")
            await settle(api, app)
            api.say("/reset")
            await settle(api, app)
            assert conversation.turns == [] and conversation.last is None
            api.say("/sources")
            await settle(api, app)

    run(scenario)
    texts = api.texts(1001)
    assert answers(api, 1001) == [f"Answer to «Kapan KTT SCO di Tianjin berlangsung?» [1].\n\n{SOURCES}",
                                  f"Answer to «Siapa yang hadir di sana?» [1].\n\n{SOURCES}"]
    sources = texts[2]
    assert "Siapa yang hadir di sana?" in sources
    assert "[1] Putin akan ke China — iNews.id, 2025-08-27 (000_c5a5360e97af4f8b.txt)" in sources
    assert "31 Agustus hingga 1 September. (full chunk)" in sources
    assert texts[3].startswith("Done: I forgot this conversation")
    assert "no answer" in texts[4]


# --- access --------------------------------------------------------------------------------------


def test_allow_list_refuses_strangers_once_and_never_asks_the_model(api: FakeBotAPI, tmp_settings) -> None:
    pipeline = FakePipeline()
    settings = settings_for(tmp_settings, api, allowed_users=[1001], allowed_chats=[GROUP])
    app = build_application(settings, pipeline, TOKEN)

    async def scenario() -> None:
        async with running(app):
            api.say("allowed user?")
            api.say("stranger?", user_id=6666)
            api.say("stranger again?", user_id=6666)
            api.say("/start", user_id=6666)
            api.say("@kabar_test_bot question from the allowed group?", user_id=7777, chat_id=GROUP,
                    chat_type="supergroup")
            api.say("@kabar_test_bot stranger's group?", user_id=7777, chat_id=-999, chat_type="group")
            await settle(api, app)

    run(scenario)
    assert pipeline.asked == ["allowed user?", "question from the allowed group?"]
    assert api.texts(6666) == ["Sorry, this bot is private."]  # one refusal, not one per message
    assert api.texts(-999) == ["Sorry, this bot is private."]
    assert len(answers(api, GROUP)) == 1 and len(answers(api, 1001)) == 1


def test_rate_limit_per_user(api: FakeBotAPI, tmp_settings) -> None:
    pipeline = FakePipeline()
    app = build_application(settings_for(tmp_settings, api, rate_limit_per_minute=2), pipeline, TOKEN)

    async def scenario() -> None:
        async with running(app):
            for i in range(3):
                api.say(f"question {i}?")
            api.say("someone else?", user_id=1002)
            await settle(api, app)

    run(scenario)
    assert pipeline.asked == ["question 0?", "question 1?", "someone else?"]
    assert len(answers(api, 1001)) == 2
    assert re.search(r"please wait \d+ s before the next question", api.texts(1001)[-1]) or any(
        "please wait" in t for t in api.texts(1001))


# --- groups --------------------------------------------------------------------------------------


def test_group_answers_only_mentions_replies_and_commands(api: FakeBotAPI, tmp_settings) -> None:
    pipeline = FakePipeline()
    app = build_application(settings_for(tmp_settings, api), pipeline, TOKEN)
    group = {"chat_id": GROUP, "chat_type": "supergroup"}

    async def scenario() -> None:
        async with running(app):
            api.say("Kapan KTT SCO berlangsung?", user_id=11, **group)  # not addressed: silence
            api.say("/help@other_bot", user_id=11, **group)  # another bot's command: silence
            api.push("message", api.message(user_id=11, sticker=_sticker(), **group))  # silence
            asked = api.say("@kabar_test_bot Kapan KTT SCO berlangsung?", user_id=12, **group)
            await settle(api, app)
            assert len(api.chat(GROUP)) == 1
            answer_id = api.chat(GROUP)[0].message_id
            follow = api.say("Dan siapa yang hadir?", user_id=13, reply_to=answer_id, **group)
            api.say("Kapan?", user_id=14, reply_to=asked, **group)  # a reply to a human: silence
            help_asked = api.say("/help@kabar_test_bot", user_id=15, **group)
            await settle(api, app)

            # Every reply quotes the message it answers.
            by_quote = {m.reply_to: m.text for m in api.chat(GROUP)}
            assert sorted(by_quote) == [asked, follow, help_asked]
            assert by_quote[follow].startswith("Answer to «Dan siapa yang hadir?»")
            assert by_quote[help_asked].startswith("Send me a question")

    run(scenario)
    # The mention is stripped from the question.
    assert pipeline.asked == ["Kapan KTT SCO berlangsung?", "Dan siapa yang hadir?"]


# --- bad input -----------------------------------------------------------------------------------


def _sticker() -> dict[str, Any]:
    return {"file_id": "s1", "file_unique_id": "u1", "width": 512, "height": 512, "is_animated": False,
            "is_video": False, "type": "regular"}


def test_bad_input_gets_a_clear_reply_or_deliberate_silence(api: FakeBotAPI, tmp_settings, caplog) -> None:
    pipeline = FakePipeline()
    app = build_application(settings_for(tmp_settings, api), pipeline, TOKEN)
    media = {
        "sticker": _sticker(),
        "photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}],
        "voice": {"file_id": "v1", "file_unique_id": "vu1", "duration": 3},
        "document": {"file_id": "d1", "file_unique_id": "du1", "file_name": "a.pdf"},
    }

    async def scenario() -> None:
        async with running(app):
            for i, (kind, content) in enumerate(media.items()):
                api.push("message", api.message(user_id=3000 + i, **{kind: content}))
            api.say("  ?!  ", user_id=3010)
            api.say("x" * 4000, user_id=3011)
            api.say("@kabar_test_bot", user_id=3012, chat_id=GROUP, chat_type="group")
            edited = api.message("an edited question?", user_id=3013)
            api.push("edited_message", edited | {"edit_date": int(time.time())})
            channel = {"message_id": 1, "date": int(time.time()), "text": "a channel post?",
                       "chat": {"id": -1001234, "type": "channel", "title": "News"},
                       "sender_chat": {"id": -1001234, "type": "channel", "title": "News"}}
            api.push("channel_post", channel)
            await settle(api, app)

    with caplog.at_level(logging.WARNING):
        run(scenario)
    for i in range(len(media)):
        assert api.texts(3000 + i) == ["Sorry, I only understand text questions. Please type your question."]
    assert api.texts(3010)[0].startswith("Please type a question about the news articles")
    assert api.texts(3011) == ["The question is too long (4000 characters; the limit is 1000)"]
    assert api.texts(GROUP)[0].startswith("Please type a question")
    assert api.texts(3013) == [] and api.texts(-1001234) == []  # ignored on purpose
    assert pipeline.asked == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- long answers --------------------------------------------------------------------------------


def test_reply_over_4096_characters_is_split_while_streaming(api: FakeBotAPI, tmp_settings) -> None:
    paragraph = " ".join(f"Kalimat {i} yang cukup panjang untuk paragraf ini 🙂." for i in range(12))
    long_answer = "\n\n".join(f"{n}. {paragraph}" for n in range(16)) + " [1]"
    assert len(long_answer) > 9000
    pipeline = FakePipeline(lambda q: long_answer, delay=2.0, pieces=40)
    app = build_application(settings_for(tmp_settings, api), pipeline, TOKEN)

    async def scenario() -> None:
        async with running(app):
            api.say("Ceritakan semuanya?")
            await settle(api, app)

    run(scenario)
    messages = api.chat(1001)
    texts = [m.text for m in messages]
    assert len(texts) == 3
    assert all(utf16_len(t) <= 4096 for t in texts)
    assert all(t.endswith("🙂.") for t in texts[:-1])  # cut at a paragraph end
    assert "\n\n".join(texts) == f"{long_answer}\n\n{SOURCES}"
    # The first message was already full while the answer streamed, and a second one was started.
    assert messages[0].history[0].endswith(" …") and len(messages[1].history) >= 2
    assert all(c.status == 200 for c in api.calls if c.method != "getUpdates")  # nothing too long was sent


# --- one model, many users -----------------------------------------------------------------------


def test_burst_of_20_questions_from_5_users(api: FakeBotAPI, tmp_settings) -> None:
    pipeline = FakePipeline(delay=0.15, pieces=3)
    app = build_application(settings_for(tmp_settings, api, queue_size=20), pipeline, TOKEN)
    users = [4001, 4002, 4003, 4004, 4005]

    async def scenario() -> None:
        async with running(app) as kabar:
            for i in range(4):
                for user in users:
                    api.say(f"q{i} from {user}?", user_id=user)
            await settle(api, app, timeout=60)
            assert len(kabar.queue.waits) == 20

    run(scenario)
    assert pipeline.max_active == 1  # never two generations at once
    for user in users:
        got = answers(api, user)
        assert got == [f"Answer to «q{i} from {user}?» [1].\n\n{SOURCES}" for i in range(4)], got
        # Waiting questions were told their place; the notices are gone once answered.
        notices = [t for t in sent_texts(api, user) if t.startswith("⏳")]
        assert notices and all(re.match(r"⏳ \d+ questions? ahead of yours", t) for t in notices)
        assert not [t for t in api.texts(user) if t.startswith("⏳")]
    places = sorted(int(t.split()[1]) for t in sent_texts(api, 4005) if t.startswith("⏳"))
    assert places[-1] >= 15  # the last question waited behind (almost) all the others


def test_full_queue_says_busy_never_silent(api: FakeBotAPI, tmp_settings) -> None:
    pipeline = FakePipeline(delay=1.0, pieces=2)
    app = build_application(settings_for(tmp_settings, api, queue_size=2), pipeline, TOKEN)
    users = range(5001, 5007)

    async def scenario() -> None:
        async with running(app):
            for user in users:
                api.say(f"question from {user}?", user_id=user)
            await settle(api, app)

    run(scenario)
    busy = [u for u in users if api.texts(u)[-1:] == [
        "I'm busy with many questions right now. Please try again in a minute."]]
    answered = [u for u in users if len(answers(api, u)) == 1]
    assert busy and len(answered) >= 2
    assert sorted(busy + answered) == list(users)  # every question got an answer or a "busy"


# --- Telegram trouble ----------------------------------------------------------------------------


def test_flood_control_429_and_server_errors_are_retried(api: FakeBotAPI, tmp_settings, monkeypatch) -> None:
    monkeypatch.setattr("bot.tg_stream.RETRY_BACKOFF_S", 0.05)  # same retries, shorter waits
    app = build_application(settings_for(tmp_settings, api), FakePipeline(), TOKEN)

    async def scenario() -> None:
        async with running(app):
            api.fail("sendMessage", 429, retry_after=1)
            started = time.monotonic()
            api.say("first question?")
            await settle(api, app)
            assert time.monotonic() - started >= 1.0  # waited as told
            api.fail("sendMessage", 500, times=2)
            api.fail("editMessageText", 500)
            api.say("second question?")
            await settle(api, app)
            api.fail("sendMessage", 500, times=10)  # more than the retries: this answer is lost …
            api.say("third question?")
            await settle(api, app)
            api.say("fourth question?")  # … but the bot carries on
            await settle(api, app)

    run(scenario)
    statuses = [c.status for c in api.calls_to("sendMessage", 1001)]
    assert statuses[:2] == [429, 200] and 500 in statuses
    assert [a.split("\n")[0] for a in answers(api, 1001)] == [
        "Answer to «first question?» [1].", "Answer to «second question?» [1].",
        "Answer to «fourth question?» [1]."]


def test_errors_are_logged_and_the_user_is_told(api: FakeBotAPI, tmp_settings, caplog) -> None:
    pipeline = FakePipeline(error=RuntimeError("model exploded"))
    app = build_application(settings_for(tmp_settings, api), pipeline, TOKEN)
    kabar = app.bot_data["kabar"]

    def broken_store(settings: Settings) -> dict[str, Any]:
        raise RuntimeError("store exploded")

    kabar._gather = broken_store

    async def scenario() -> None:
        async with running(app):
            api.say("a question?")
            await settle(api, app)
            pipeline.error = None
            api.say("another question?")
            api.say("/start", user_id=1002)
            await settle(api, app)

    with caplog.at_level(logging.ERROR):
        run(scenario)
    texts = api.texts(1001)
    assert texts[0] == "Sorry, something went wrong while answering. Please try again."
    assert texts[1].startswith("Answer to «another question?»")  # the worker survived
    assert api.texts(1002) == ["Sorry, something went wrong. Please try again."]  # via the error handler
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "model exploded" in logged and "store exploded" in logged


def test_the_token_never_reaches_the_logs(api: FakeBotAPI, tmp_settings, capfd) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()  # stderr, captured by capfd
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in ("telegram", "httpx")}
    logging.getLogger("telegram").setLevel(logging.DEBUG)  # PTB logs its API URLs at DEBUG
    try:
        app = build_application(settings_for(tmp_settings, api), FakePipeline(), TOKEN)

        async def scenario() -> None:
            async with running(app):
                api.say("a question?")
                await settle(api, app)

        run(scenario)
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    err = capfd.readouterr().err
    assert "<token>" in err  # PTB did log its URL …
    assert TOKEN not in err and TOKEN.split(":")[1] not in err  # … without the token
    assert BOT_ID  # the id alone is public


def test_shutdown_tells_waiting_and_interrupted_users(api: FakeBotAPI, tmp_settings) -> None:
    pipeline = FakePipeline(delay=2.0, pieces=4)
    app = build_application(settings_for(tmp_settings, api), pipeline, TOKEN)
    users = [8001, 8002, 8003]

    async def scenario() -> None:
        async with running(app):
            for user in users:
                api.say(f"question from {user}?", user_id=user)
            await api.wait_for(lambda: api.texts(8001), 10, "the first answer to start streaming")
        # The context manager stopped the bot (as Ctrl-C or SIGTERM would) mid-answer.

    run(scenario)
    restarting = "Sorry, I'm restarting and couldn't answer this. Please ask again in a minute."
    assert api.texts(8001) == [restarting]  # the streamed answer was replaced
    assert api.texts(8002)[-1] == restarting and api.texts(8003)[-1] == restarting
    assert pipeline.asked == ["question from 8001?"]
