"""Fairness: one model shared by every chat. A bounded queue with one worker, and a per-user rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("kabar.telegram")

# Queue waits kept for statistics (the latency benchmark reads them).
_WAITS_KEPT = 1000


@dataclass
class Job:
    """One question waiting for the model."""

    chat_id: int
    user_id: int
    question: str
    lang: str  # language of the bot's own messages to this user
    group: bool = False  # asked in a group (slower edits: Telegram's per-group limits)
    reply_to: int | None = None  # message to reply to (groups, or when the chat has several waiting)
    thread_id: int | None = None  # forum topic of the question
    enqueued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    notice_id: int | None = None  # the "n questions ahead of yours" message, deleted when work starts


class QueueFull(Exception):
    """The queue holds `queue_size` questions already."""


class AnswerQueue:
    """Questions in arrival order, answered one at a time by a single worker task.

    A single consumer is what guarantees that the model never runs two generations at once and
    that every chat's answers start in the order the questions came in.
    """

    def __init__(self, maxsize: int, handle: Callable[[Job], Awaitable[None]]):
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=maxsize)
        self._handle = handle
        self._worker: asyncio.Task[None] | None = None
        self._busy = False
        self._per_chat: Counter[int] = Counter()
        self.waits: deque[float] = deque(maxlen=_WAITS_KEPT)

    def ahead(self) -> int:
        """Questions a new one would wait behind (waiting ones plus the one being answered)."""
        return self._queue.qsize() + (1 if self._busy else 0)

    def pending(self, chat_id: int) -> int:
        """Questions of `chat_id` waiting or being answered."""
        return self._per_chat.get(chat_id, 0)

    def submit(self, job: Job) -> int:
        """Queue `job`; returns how many questions are ahead of it. Raises QueueFull."""
        ahead = self.ahead()
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise QueueFull from None
        self._per_chat[job.chat_id] += 1
        return ahead

    def idle(self) -> bool:
        """Nothing waiting and nothing being answered."""
        return not self._busy and self._queue.empty()

    def start(self) -> None:
        """Start the worker (in the running event loop)."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="kabar-answer-worker")

    async def stop(self) -> list[Job]:
        """Stop the worker (cancelling the question in progress); returns the questions never started."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        dropped = []
        while not self._queue.empty():
            dropped.append(self._queue.get_nowait())
        return dropped

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self._busy = True
            job.started_at = time.monotonic()
            self.waits.append(job.started_at - job.enqueued_at)
            try:
                await self._handle(job)
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive any single question
                log.exception("answering a question failed")
            finally:
                self._busy = False
                self._per_chat[job.chat_id] -= 1
                if self._per_chat[job.chat_id] <= 0:
                    del self._per_chat[job.chat_id]
                self._queue.task_done()


class RateLimiter:
    """At most `per_minute` questions per user in any 60-second window."""

    def __init__(self, per_minute: int, window_s: float = 60.0):
        self.per_minute, self.window_s = per_minute, window_s
        self._asked: dict[int, deque[float]] = {}

    def retry_in(self, user_id: int, now: float | None = None) -> float:
        """0 when `user_id` may ask now (and counts the question), else seconds until they may."""
        now = time.monotonic() if now is None else now
        times = self._asked.setdefault(user_id, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) >= self.per_minute:
            return self.window_s - (now - times[0])
        times.append(now)
        self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded on a public bot: users with no recent question are dropped.
        if len(self._asked) > 10_000:
            for user_id in [u for u, ts in self._asked.items() if not ts or now - ts[-1] >= self.window_s]:
                del self._asked[user_id]
