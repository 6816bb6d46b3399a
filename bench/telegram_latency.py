"""Telegram latency through the fake Bot API server, with the real model and the seed articles.

    python bench/telegram_latency.py [--data-dir DIR] [--questions 10] [--burst 20] [--users 5]

(In-process, with the bot's queue statistics. `bench/run.py` uses :func:`bot_under_load` instead: a real
`kabar telegram` process against the fake server, for its peak memory.)

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
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import kabar_cmd, kabar_env, mapped_model_mb, percentile  # noqa: E402
from bot.telegram import build_application  # noqa: E402
from bot.tg_format import CURSOR  # noqa: E402
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


@dataclass
class LoadRun:
    """A `kabar telegram` process answering a burst of questions from several users."""

    ready_s: float  # process start → polling for updates (model loaded)
    first: list[float]  # per question: message → first text shown
    final: list[float]  # per question: message → final answer
    burst_s: float  # first message sent → last final answer
    max_rss_mb: float
    returncode: int
    model_mapped_mb: float  # resident part of the mmapped GGUF after the burst


# How often the fake server's state is checked while waiting for the bot (seconds).
_POLL_S = 0.1


def _wait(predicate: Any, deadline: float, proc: subprocess.Popen, what: str) -> None:
    while not predicate():
        if proc.poll() is not None:
            raise RuntimeError(f"kabar telegram exited with {proc.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(_POLL_S)


def _reap(proc: subprocess.Popen, grace_s: float) -> tuple[int, float]:
    """Stop the bot (Ctrl-C, then kill after `grace_s`); (exit code, peak RSS in MB from wait4)."""
    if proc.returncode is not None:  # already reaped by Popen.poll: its rusage is gone
        return proc.returncode, float("nan")
    proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
            return proc.returncode, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            deadline = float("inf")
        time.sleep(_POLL_S)


def bot_under_load(data_dir: Path, users: int, per_user: int, timeout_s: float = 900.0) -> LoadRun:
    """Start `kabar telegram` on `data_dir` against a fake Bot API; `users` users each send `per_user`
    questions at once; wait for every final answer; stop the bot and read its peak RSS."""
    count = users * per_user
    with FakeBotAPI() as api, tempfile.TemporaryFile() as log_file:
        env = kabar_env(TELEGRAM_BOT_TOKEN=TOKEN, KABAR_TELEGRAM__BASE_URL=api.base_url,
                        KABAR_TELEGRAM__QUEUE_SIZE=str(max(count, 1)),
                        KABAR_TELEGRAM__RATE_LIMIT_PER_MINUTE=str(max(per_user, 1)))
        started = time.monotonic()
        proc = subprocess.Popen(kabar_cmd(data_dir, "telegram"), stdin=subprocess.DEVNULL, stdout=log_file,
                                stderr=log_file, env=env, cwd=ROOT)
        try:
            deadline = started + timeout_s
            _wait(lambda: api.calls_to("getUpdates"), deadline, proc, "the bot to start polling")
            ready = time.monotonic() - started
            asked: dict[int, list[int]] = {}
            burst_start = time.monotonic()
            for round_ in range(per_user):
                for u in range(users):
                    chat = 30_000 + u
                    question = QUESTIONS[(u * per_user + round_) % len(QUESTIONS)]
                    asked.setdefault(chat, []).append(api.say(question, user_id=chat))

            def done() -> bool:
                for chat, ids in asked.items():
                    got = answers(api, chat)
                    if len(got) < len(ids) or any(m.text.endswith(CURSOR) for m in got):
                        return False
                return True

            _wait(done, deadline, proc, "every answer")
            burst = time.monotonic() - burst_start
            mapped = mapped_model_mb(proc.pid)
            first, final = [], []
            for chat, ids in asked.items():
                for message_id, answer in zip(ids, answers(api, chat), strict=False):
                    a, b = timing(api, chat, message_id, answer)
                    first.append(a)
                    final.append(b)
        except BaseException:
            log_file.seek(0)
            print(log_file.read().decode(errors="replace")[-2000:], file=sys.stderr)
            _reap(proc, 10.0)
            raise
        code, rss = _reap(proc, 30.0)
    if code != 0:
        raise RuntimeError(f"kabar telegram exited with {code} when stopped with Ctrl-C")
    return LoadRun(ready, first, final, burst, rss, code, mapped)


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
