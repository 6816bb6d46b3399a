"""Telegram latency through the fake Bot API server, with the real model and the seed articles.

    python bench/telegram_latency.py [--data-dir DIR] [--questions 10] [--burst 20] [--users 5]

Measures, as the Bot API server sees it: time from a user's message to the first streamed text
(the answer's first sendMessage) and to the final text (its last edit), p50 over `--questions`
questions asked one at a time; then a burst of `--burst` questions from `--users` users at once:
queue wait p50/p95 (from the bot's queue) and time to the final answer p50/p95. Prints Markdown.
Without --data-dir the seed articles are ingested into a temporary folder first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.telegram import build_application  # noqa: E402
from rag.answer import Pipeline  # noqa: E402
from rag.config import Settings, load_settings  # noqa: E402
from tests.fake_bot_api import TOKEN, FakeBotAPI, running, settle  # noqa: E402

QUESTIONS = [
    "Kapan KTT SCO di Tianjin berlangsung?",
    "Siapa juru bicara Kepresidenan Rusia?",
    "Kapan Putin mengunjungi China sebelumnya?",
    "Di mana peringatan 80 tahun berakhirnya Perang Dunia II dilaksanakan?",
    "Siapa yang memimpin delegasi militer Rusia ke Korea Utara?",
    "Kapan Victory Day diperingati di Korea Utara?",
    "Siapa yang memimpin delegasi China ke Pyongyang?",
    "When will the SCO summit in Tianjin take place?",
    "Who is the spokesman of the Russian presidency?",
    "Where will the 80th anniversary parade be held?",
]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between the sorted values; nan for none."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def answers(api: FakeBotAPI, chat_id: int) -> list[Any]:
    """The bot's answer messages in a chat, in order (queue notices left out)."""
    return [m for m in api.chat(chat_id) if not m.text.startswith("⏳")]


def timing(api: FakeBotAPI, chat_id: int, message_id: int, answer: Any) -> tuple[float, float]:
    """(first text shown, final text) of `answer` to a user's message, in seconds after it was sent."""
    sent = api.injected_at[(chat_id, message_id)]
    return answer.sent_at - sent, answer.updated_at - sent


async def sequential(api: FakeBotAPI, app: Any, questions: list[str]) -> tuple[list[float], list[float]]:
    """Ask one question at a time (a fresh chat each, so no follow-up context)."""
    first, final = [], []
    for i, question in enumerate(questions):
        chat = 10_000 + i
        message_id = api.say(question, user_id=chat)
        await settle(api, app, 900)
        a, b = timing(api, chat, message_id, answers(api, chat)[0])
        first.append(a)
        final.append(b)
        print(f"  {a:6.2f} s first, {b:6.2f} s final: {question}", file=sys.stderr)
    return first, final


async def burst(api: FakeBotAPI, app: Any, count: int, users: int) -> tuple[list[float], list[float], float]:
    """`count` questions from `users` users at once; queue waits, times to final answer, total time."""
    kabar = app.bot_data["kabar"]
    waits_before = len(kabar.queue.waits)
    asked: dict[int, list[int]] = {}
    started = time.monotonic()
    for i in range(count):
        chat = 20_000 + i % users
        asked.setdefault(chat, []).append(api.say(QUESTIONS[i % len(QUESTIONS)], user_id=chat))
    await settle(api, app, 3600)
    total = time.monotonic() - started
    waits = list(kabar.queue.waits)[waits_before:]
    finals = []
    for chat, message_ids in asked.items():
        # One chat's answers come in order, so its k-th answer is for its k-th question.
        for message_id, answer in zip(message_ids, answers(api, chat), strict=True):
            finals.append(timing(api, chat, message_id, answer)[1])
    return waits, finals, total


def seed_settings(data_dir: str | None, scratch: str) -> Settings:
    """Settings over `data_dir`, or over a store of the seed articles built in `scratch`."""
    if data_dir:
        return load_settings(data_dir=data_dir)
    from rag.ingest import ingest

    settings = load_settings(data_dir=scratch)
    ingest(settings, progress=False)
    return settings


async def main_async(args: argparse.Namespace, scratch: str) -> None:
    settings = seed_settings(args.data_dir, scratch)
    loaded = time.monotonic()
    pipeline = Pipeline.from_settings(settings)
    print(f"model loaded in {time.monotonic() - loaded:.1f} s", file=sys.stderr)
    with FakeBotAPI() as api:
        tg = settings.telegram.model_copy(update={"base_url": api.base_url, "queue_size": max(args.burst, 20),
                                                  "rate_limit_per_minute": 60})
        app = build_application(settings.model_copy(update={"telegram": tg}), pipeline, TOKEN)
        async with running(app):
            first, final = await sequential(api, app, (QUESTIONS * 2)[: args.questions])
            waits, burst_finals, total = await burst(api, app, args.burst, args.users)
    print(f"\nTelegram latency through the fake Bot API (real model, edit interval "
          f"{settings.telegram.edit_interval_s:g} s, {os.cpu_count()} cores)\n")
    print("| measure | p50 | p95 | n |")
    print("|---|---|---|---|")
    rows = [
        ("message → first streamed text", first),
        ("message → final answer", final),
        (f"burst ({args.burst} q, {args.users} users): queue wait", waits),
        ("burst: message → final answer", burst_finals),
    ]
    for name, values in rows:
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"| {name} | {p50:.2f} s | {p95:.2f} s | {len(values)} |")
    print(f"\nBurst total: {total:.1f} s for {args.burst} questions "
          f"({total / max(1, args.burst):.2f} s per question).")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="an existing store (default: ingest the seeds into a temp dir)")
    parser.add_argument("--questions", type=int, default=10, help="questions asked one at a time")
    parser.add_argument("--burst", type=int, default=20, help="questions sent at once")
    parser.add_argument("--users", type=int, default=5, help="users sending the burst")
    with tempfile.TemporaryDirectory(prefix="kabar-bench-") as scratch:
        asyncio.run(main_async(parser.parse_args(), scratch))


if __name__ == "__main__":
    main()
