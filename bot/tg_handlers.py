"""What the bot does with each update: commands, questions, everything else; access and fairness rules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.tg_format import (
    COMMANDS,
    answer_text,
    sources_text,
    split_message,
    start_text,
    strip_mentions,
    t,
    ui_lang,
    user_error,
)
from bot.tg_queue import AnswerQueue, Job, QueueFull, RateLimiter
from bot.tg_stream import StreamingReply, TelegramIO, keep_typing
from rag.answer import Conversation, clean_question
from rag.config import Settings
from rag.errors import KabarError, ServiceUnavailable
from rag.info import gather

log = logging.getLogger("kabar.telegram")

# Telegram allows about 20 messages a minute in one group (edits included), so streamed answers
# in groups are edited less often than in private chats.
GROUP_EDIT_INTERVAL_S = 3.0
# Chats whose conversation is remembered (least recently used ones are forgotten first).
MAX_CONVERSATIONS = 1000
# A stranger is told "this bot is private" at most once per this many seconds.
REFUSAL_EVERY_S = 60.0
# /start facts are re-read at most this often (an ingest may add articles while the bot runs).
INFO_TTL_S = 60.0
# On shutdown, answers already generated get this long to reach Telegram.
DRAIN_TIMEOUT_S = 10.0

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class KabarBot:
    """The bot's state (queue, conversations, limits) and its update handlers.

    One instance per Application; handlers only enqueue work, the queue's single worker runs the
    model in a thread, and each answer is delivered by its own task (see StreamingReply).
    """

    def __init__(self, settings: Settings, pipeline: Any,
                 info: Callable[[Settings], dict[str, Any]] = gather):
        self.settings = settings
        self.tg = settings.telegram
        self.pipeline = pipeline
        self._gather = info
        self.io: TelegramIO | None = None
        self.username = ""
        self.bot_id = 0
        self.queue = AnswerQueue(self.tg.queue_size, self._answer)
        self.rate = RateLimiter(self.tg.rate_limit_per_minute)
        self.conversations: OrderedDict[int, Conversation] = OrderedDict()
        self._chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refused: dict[int, float] = {}
        self._info: tuple[float, dict[str, Any]] | None = None

    # --- wiring ---------------------------------------------------------------------------

    def attach(self, app: Application) -> None:
        """Register the handlers on `app`."""
        self.io = TelegramIO(app.bot)
        # Only new messages: edited messages and channel posts are ignored on purpose (answering an
        # edit would repeat an answer; a channel has no one to answer).
        new = filters.UpdateType.MESSAGE
        commands: dict[str, Handler] = {
            "start": self.cmd_start, "help": self.cmd_help, "sources": self.cmd_sources,
            "reset": self.cmd_reset, "about": self.cmd_about,
        }
        for name, callback in commands.items():
            app.add_handler(CommandHandler(name, callback, filters=new))
        app.add_handler(MessageHandler(new & filters.COMMAND, self.on_unknown_command))
        app.add_handler(MessageHandler(new & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(new & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other))
        app.add_error_handler(self.on_error)

    async def post_init(self, app: Application) -> None:
        """After `Application.initialize`: learn the bot's name, set the command menu, start the worker."""
        self.username, self.bot_id = app.bot.username or "", app.bot.id
        assert self.io is not None
        for lang, menu in COMMANDS.items():
            await self.io.set_commands(menu, None if lang == "en" else lang)
        self.queue.start()

    async def post_stop(self, app: Application) -> None:
        """Before shutdown: stop the worker, tell whoever still waits, let answers in flight be delivered."""
        assert self.io is not None
        for job in await self.queue.stop():
            self._spawn(self.io.send(job.chat_id, t(job.lang, "restarting"), job.reply_to, job.thread_id))
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=DRAIN_TIMEOUT_S)
            for task in pending:
                task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drained(self, timeout: float = 60.0) -> None:
        """Wait until no question is waiting or being answered and every answer is delivered."""
        deadline = time.monotonic() + timeout
        while not (self.queue.idle() and not self._tasks):
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not finish its answers in time")
            await asyncio.sleep(0.05)

    # --- who may ask, and when the bot is addressed ----------------------------------------

    def _allowed(self, update: Update) -> bool:
        if not self.tg.allowed_users and not self.tg.allowed_chats:
            return True
        user, chat = update.effective_user, update.effective_chat
        return bool((user and user.id in self.tg.allowed_users)
                    or (chat and chat.id in self.tg.allowed_chats))

    async def _admit(self, update: Update) -> bool:
        """True when the sender may use the bot; otherwise a short refusal (rate-limited) and False."""
        if self._allowed(update):
            return True
        user, message = update.effective_user, update.effective_message
        key = user.id if user else 0
        now = time.monotonic()
        log.info("refused user %s in chat %s (not in allowed_users/allowed_chats)",
                 key, update.effective_chat.id if update.effective_chat else "?")
        if message and now - self._refused.get(key, -REFUSAL_EVERY_S) >= REFUSAL_EVERY_S:
            self._refused[key] = now
            await self._reply(message, t(_lang(update), "private"))
        return False

    def _mentions_me(self, message: Message) -> bool:
        me = f"@{self.username}".lower()
        for source in (message.parse_entities(), message.parse_caption_entities()):
            for entity, value in source.items():
                if entity.type == MessageEntity.MENTION and value.lower() == me:
                    return True
                if entity.type == MessageEntity.TEXT_MENTION and entity.user \
                        and entity.user.id == self.bot_id:
                    return True
        return False

    def _replies_to_me(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == self.bot_id)

    def _addressed(self, message: Message) -> bool:
        """Private chats: always. Groups: only when mentioned or replied to."""
        if message.chat.type == ChatType.PRIVATE:
            return True
        return self._mentions_me(message) or self._replies_to_me(message)

    # --- replies ---------------------------------------------------------------------------

    async def _reply(self, message: Message, text: str) -> None:
        """Answer `message` in its chat (as a reply in groups), split when long."""
        assert self.io is not None
        group = message.chat.type != ChatType.PRIVATE
        thread = message.message_thread_id if message.is_topic_message else None
        for i, part in enumerate(split_message(text)):
            quote = message.message_id if group and i == 0 else None
            await self.io.send(message.chat_id, part, quote, thread)

    # --- commands --------------------------------------------------------------------------

    async def cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start: what the bot knows and how to ask."""
        message = update.effective_message
        if message is None or not await self._admit(update):
            return
        info = await self._facts()
        group = message.chat.type != ChatType.PRIVATE
        await self._reply(message, start_text(info, _lang(update), self.username, group))

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help: how to use the bot."""
        message = update.effective_message
        if message is None or not await self._admit(update):
            return
        limit = self.settings.answer.max_question_chars
        await self._reply(message, t(_lang(update), "help", username=self.username, limit=limit))

    async def cmd_about(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/about: what Kabar is."""
        message = update.effective_message
        if message is None or not await self._admit(update):
            return
        await self._reply(message, t(_lang(update), "about"))

    async def cmd_sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/sources: the full passages cited by this chat's last answer."""
        message = update.effective_message
        if message is None or not await self._admit(update):
            return
        conversation = self.conversations.get(message.chat_id)
        await self._reply(message, sources_text(conversation.last if conversation else None, _lang(update)))

    async def cmd_reset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reset: forget this chat's conversation."""
        message = update.effective_message
        if message is None or not await self._admit(update):
            return
        conversation = self.conversations.get(message.chat_id)
        if conversation is not None:
            conversation.reset()
        await self._reply(message, t(_lang(update), "reset"))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot doesn't have: the help text in private chats or when addressed to this bot."""
        message = update.effective_message
        if message is None or not message.text:
            return
        command = message.text.split()[0]
        to_me = command.lower().endswith(f"@{self.username}".lower())
        if (message.chat.type == ChatType.PRIVATE or to_me) and await self._admit(update):
            await self.cmd_help(update, context)

    async def _facts(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._info is None or now - self._info[0] > INFO_TTL_S:
            try:
                facts = await asyncio.to_thread(self._gather, self.settings)
            except KabarError as exc:
                log.warning("cannot read what the store holds: %s", exc)
                facts = {}
            self._info = (now, facts)
        return self._info[1]

    # --- questions -------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text message: a question (in groups only when the bot is addressed)."""
        message = update.effective_message
        if message is None or not message.text or not self._addressed(message):
            return
        if not await self._admit(update):
            return
        lang = _lang(update)
        question = strip_mentions(message.text, self.username)
        try:
            clean_question(question, self.settings.answer.max_question_chars)
        except KabarError as exc:
            empty = not any(ch.isalnum() for ch in question)
            await self._reply(message, t(lang, "empty", example=t(lang, "example")) if empty
                              else user_error(str(exc)))
            return
        user_id = update.effective_user.id if update.effective_user else message.chat_id
        wait = self.rate.retry_in(user_id)
        if wait:
            await self._reply(message, t(lang, "rate_limited", seconds=max(1, round(wait))))
            return
        await self._enqueue(message, user_id, question, lang)

    async def _enqueue(self, message: Message, user_id: int, question: str, lang: str) -> None:
        group = message.chat.type != ChatType.PRIVATE
        # In a private chat a quote is only needed to tell apart answers to several waiting questions.
        quote = group or self.queue.pending(message.chat_id) > 0
        job = Job(message.chat_id, user_id, question, lang, group,
                  reply_to=message.message_id if quote else None,
                  thread_id=message.message_thread_id if message.is_topic_message else None)
        try:
            ahead = self.queue.submit(job)
        except QueueFull:
            log.warning("queue full (%d questions): turned a question away", self.tg.queue_size)
            await self._reply(message, t(lang, "busy"))
            return
        if ahead:
            # Not awaited: a slow send (flood control in a busy group) must not hold up other updates.
            self._spawn(self._queue_notice(message, job, ahead))

    async def _queue_notice(self, message: Message, job: Job, ahead: int) -> None:
        assert self.io is not None
        text = t(job.lang, "queued", ahead=ahead, s="" if ahead == 1 else "s")
        notice = await self.io.send(message.chat_id, text, message.message_id, job.thread_id)
        if notice is None:
            return
        if job.started_at is None:
            job.notice_id = notice.message_id
        else:  # the answer is already on its way: the notice is stale
            await self.io.delete(message.chat_id, notice.message_id)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, documents …: say that only text is understood (when addressed)."""
        message = update.effective_message
        if message is None or not self._addressed(message) or not await self._admit(update):
            return
        await self._reply(message, t(_lang(update), "only_text"))

    # --- answering (runs in the queue's worker) ----------------------------------------------

    def _conversation(self, chat_id: int) -> Conversation:
        conversation = self.conversations.pop(chat_id, None) or Conversation()
        self.conversations[chat_id] = conversation  # most recently used last
        while len(self.conversations) > MAX_CONVERSATIONS:
            self.conversations.popitem(last=False)
        return conversation

    def _chat_lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        return lock

    async def _answer(self, job: Job) -> None:
        """Generate one answer while its delivery task streams it to the chat."""
        assert self.io is not None
        if job.notice_id:
            self._spawn(self.io.delete(job.chat_id, job.notice_id))
        interval = max(self.tg.edit_interval_s, GROUP_EDIT_INTERVAL_S if job.group else 0.0)
        reply = StreamingReply(self.io, job.chat_id, job.reply_to, interval, job.thread_id)
        # The delivery runs on its own, so the model can start on the next question while Telegram
        # still receives this one; the chat lock keeps one chat's answers in order.
        self._spawn(reply.run(self._chat_lock(job.chat_id)))
        working = asyncio.Event()
        self._spawn(keep_typing(self.io, job.chat_id, job.thread_id, working))
        try:
            reply.finish(await self._generate(job, reply))
            log.info("answered in chat %s: waited %.1f s, answered in %.1f s", job.chat_id,
                     (job.started_at or job.enqueued_at) - job.enqueued_at,
                     time.monotonic() - (job.started_at or job.enqueued_at))
        except asyncio.CancelledError:  # shutting down mid-answer: say so rather than go quiet
            reply.finish(t(job.lang, "restarting"))
            raise
        finally:
            working.set()

    async def _generate(self, job: Job, reply: StreamingReply) -> str:
        loop = asyncio.get_running_loop()

        def on_token(piece: str) -> None:  # called in the generation thread
            with contextlib.suppress(RuntimeError):  # the loop closed: the bot is shutting down
                loop.call_soon_threadsafe(reply.feed, piece)

        conversation = self._conversation(job.chat_id)
        try:
            answer = await asyncio.to_thread(self.pipeline.ask, job.question, conversation, on_token)
        except ServiceUnavailable as exc:
            # The Chroma or LLM server is down: the details are for the admin, not the chat.
            log.warning("could not answer: %s", exc)
            return t(job.lang, "unavailable")
        except KabarError as exc:
            return user_error(str(exc))
        except Exception:
            log.exception("the pipeline failed on a question")
            return t(job.lang, "failed")
        return answer_text(answer)

    # --- errors ----------------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log any error a handler raised (or polling met) and tell the user, when there is one."""
        error = context.error
        if isinstance(error, (NetworkError, RetryAfter)):
            # Polling hiccups: PTB retries them itself, a traceback would only be noise.
            log.warning("Telegram API problem: %s", error)
        else:
            log.error("error while handling an update", exc_info=error)
        if isinstance(update, Update) and update.message and self.io is not None:
            with contextlib.suppress(Exception):  # the error report must never raise itself
                await self._reply(update.message, t(_lang(update), "oops"))


def _lang(update: Update) -> str:
    user = update.effective_user
    return ui_lang(user.language_code if user else None)
