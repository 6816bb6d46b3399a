"""A fake Telegram Bot API server on 127.0.0.1 for tests and benchmarks, plus helpers to drive a bot.

It speaks the HTTP protocol PTB uses (`POST /bot<token>/<method>`, form-encoded parameters, JSON
answers), keeps the chats' messages so a test can read what a user would see, records every call,
and can be told to answer a method with a 429 (retry_after) or a 500. Like the real API it rejects
a message over 4096 UTF-16 units, an empty one, and an edit that changes nothing.

Unlike the real API it ignores `allowed_updates` on purpose: the bot must ignore edited messages
and channel posts by itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
BOT_ID = 123456789
BOT_USERNAME = "kabar_test_bot"
# Parameters whose values are free text (everything else PTB sends JSON-encoded).
_TEXT_PARAMS = {"text", "caption", "secret_token", "url", "language_code", "action", "ip_address"}
# Longest long poll served, so a test's shutdown is never held up for long.
_MAX_POLL_S = 5.0


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class BotMessage:
    """A message the bot sent, as the chat shows it now."""

    chat_id: int
    message_id: int
    text: str
    reply_to: int | None = None
    history: list[str] = field(default_factory=list)  # every text it had, first to last
    deleted: bool = False
    sent_at: float = field(default_factory=time.monotonic)
    updated_at: float = field(default_factory=time.monotonic)  # last edit (or sending)


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


class FakeBotAPI:
    """The fake server. Use as a context manager, or call start()/stop()."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME, bot_id: int = BOT_ID):
        self.token, self.username, self.bot_id = token, username, bot_id
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], BotMessage] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {}
        self.injected_at: dict[tuple[int, int], float] = {}  # (chat, message id) → when it was injected
        self._chats: dict[int, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._failures: defaultdict[str, deque[tuple[int, int | None]]] = defaultdict(deque)
        self._cond = threading.Condition()
        self._closing = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        """Serve on a free port of 127.0.0.1 in a background thread."""
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release waiting long polls and stop serving."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The value for `telegram.base_url`."""
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/bot"

    # --- what users do -----------------------------------------------------------------------

    def _chat(self, chat_id: int, chat_type: str, title: str | None = None) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{chat_id}"
        else:
            chat["title"] = title or f"Chat {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def message(self, text: str | None = None, user_id: int = 1001, chat_id: int | None = None,
                chat_type: str = "private", reply_to: int | None = None, language_code: str = "en",
                **content: Any) -> dict[str, Any]:
        """A user's message object (not yet delivered): text, or other content such as sticker=…."""
        chat_id = user_id if chat_id is None else chat_id
        with self._cond:
            message_id = next(self._message_ids[chat_id])
            chat = self._chat(chat_id, chat_type)
        msg: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()), "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}",
                     "language_code": language_code},
        }
        if text is not None:
            msg["text"] = text
            mentions = _mentions(text)
            if text.startswith("/"):
                mentions.insert(0, {"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])})
            if mentions:
                msg["entities"] = mentions
        if reply_to is not None:
            replied = self.messages.get((chat_id, reply_to))
            author = {"id": self.bot_id, "is_bot": True, "first_name": "Kabar", "username": self.username} \
                if replied else {"id": user_id + 1, "is_bot": False, "first_name": "Someone"}
            msg["reply_to_message"] = {"message_id": reply_to, "date": int(time.time()), "chat": chat,
                                       "from": author, "text": replied.text if replied else "earlier"}
        msg.update(content)
        return msg

    def push(self, kind: str, body: dict[str, Any]) -> int:
        """Deliver an update (`kind` = message, edited_message, channel_post …); returns its update_id."""
        with self._cond:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, kind: body})
            if "message_id" in body:
                self.injected_at[(body["chat"]["id"], body["message_id"])] = time.monotonic()
            self._cond.notify_all()
        return update_id

    def say(self, text: str | None = None, **kwargs: Any) -> int:
        """A user sends a message (see :meth:`message`); returns the message id."""
        msg = self.message(text, **kwargs)
        self.push("message", msg)
        return msg["message_id"]

    def update_json(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """A complete update body (for POSTing to a webhook listener), not queued here."""
        with self._cond:
            update_id = next(self._update_ids)
        return {"update_id": update_id, "message": self.message(text, **kwargs)}

    # --- failure injection -------------------------------------------------------------------

    def fail(self, method: str, status: int = 500, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with an error (429 with retry_after, or e.g. 500)."""
        with self._cond:
            self._failures[method].extend([(status, retry_after)] * times)

    # --- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        """The recorded calls of `method` (answered or failed), optionally only for one chat."""
        with self._cond:
            return [c for c in self.calls
                    if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def unconfirmed(self) -> int:
        """Updates the bot has not confirmed yet (fetched or not)."""
        with self._cond:
            return len(self._updates)

    def chat(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, deleted ones left out."""
        with self._cond:
            found = [m for (c, _), m in self.messages.items() if c == chat_id and not m.deleted]
        return sorted(found, key=lambda m: m.message_id)

    def texts(self, chat_id: int) -> list[str]:
        """What the chat shows of the bot now: one string per message."""
        return [m.text for m in self.chat(chat_id)]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
        """Poll `predicate` until it returns something truthy; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.05)

    # --- the API -----------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> Any:
        """Answer one API call (server thread); raises ApiError for an error answer."""
        call = Call(method, params, time.monotonic())
        with self._cond:
            self.calls.append(call)
            failures = self._failures.get(method)
            if failures:
                status, retry_after = failures.popleft()
                call.status = status
                raise ApiError(status, "Too Many Requests" if status == 429 else "Internal Server Error",
                               retry_after)
        if method == "getUpdates":
            return self._get_updates(params)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            raise ApiError(404, "Not Found: method not found")
        with self._cond:
            try:
                return handler(params)
            except ApiError as exc:
                call.status = exc.status
                raise

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), _MAX_POLL_S)
        with self._cond:
            if offset:  # confirms everything before it, as Telegram does
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            return self._updates[:limit]

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Kabar", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user()

    def _check_text(self, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    def _message_json(self, m: BotMessage) -> dict[str, Any]:
        chat = self._chats.get(m.chat_id) or {"id": m.chat_id, "type": "private", "first_name": "User"}
        return {"message_id": m.message_id, "date": int(time.time()), "chat": chat, "from": self._bot_user(),
                "text": m.text}

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        text = self._check_text(params.get("text"))
        reply = params.get("reply_parameters") or {}
        m = BotMessage(chat_id, next(self._message_ids[chat_id]), text, reply.get("message_id"), [text])
        self.messages[(chat_id, m.message_id)] = m
        return self._message_json(m)

    def _existing(self, params: dict[str, Any], action: str) -> BotMessage:
        m = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if m is None or m.deleted:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return m

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        m = self._existing(params, "edit")
        text = self._check_text(params.get("text"))
        if text == m.text:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup "
                                "of the message")
        m.text, m.updated_at = text, time.monotonic()
        m.history.append(text)
        return self._message_json(m) | {"edit_date": int(time.time())}

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        self._existing(params, "delete").deleted = True
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands[params.get("language_code") or ""] = params.get("commands") or []
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(params.get("language_code") or "", [])

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}


def _mentions(text: str) -> list[dict[str, Any]]:
    """`mention` entities for every @name in `text` (offsets in UTF-16 units, as Telegram sends them)."""
    entities = []
    i = 0
    while (at := text.find("@", i)) >= 0:
        end = at + 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        if end - at > 1:
            entities.append({"type": "mention", "offset": utf16_len(text[:at]),
                             "length": utf16_len(text[at:end])})
        i = end
    return entities


def _decode(params: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in params.items():
        value = values[-1]
        if key not in _TEXT_PARAMS:
            with suppress(ValueError):
                value = json.loads(value)
        out[key] = value
    return out


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a long poll cancelled at shutdown) is normal here.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(api: FakeBotAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _params(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(raw or "{}")
            query = self.path.partition("?")[2]
            return _decode(parse_qs(raw or query, keep_blank_values=True))

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.partition("?")[0]
            prefix = f"/bot{api.token}/"
            params = self._params()
            if not path.startswith(prefix):
                self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            try:
                result = api.handle(path[len(prefix):], params)
            except ApiError as exc:
                body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
                if exc.retry_after is not None:
                    body["parameters"] = {"retry_after": exc.retry_after}
                self._reply(exc.status, body)
                return
            self._reply(200, {"ok": True, "result": result})

        do_GET = do_POST

    return Handler


async def settle(api: FakeBotAPI, app: Any, timeout: float = 30.0) -> None:
    """Wait until the bot has fetched every update, handled it, and delivered every answer."""
    await api.wait_for(lambda: api.unconfirmed() == 0, timeout, "the bot to fetch all updates")
    await api.wait_for(lambda: app.update_queue.empty(), timeout, "the bot to take all updates")
    kabar = app.bot_data["kabar"]
    for _ in range(2):  # twice: a handler may still have been enqueuing during the first check
        await asyncio.sleep(0.15)
        await kabar.drained(timeout)


@asynccontextmanager
async def running(app: Any, poll_timeout: int = 1) -> AsyncIterator[Any]:
    """Run a PTB Application by polling inside the current event loop, as `run_polling` would.

    Yields the KabarBot (`app.bot_data["kabar"]`).
    """
    from bot.telegram import ALLOWED_UPDATES

    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    try:
        yield app.bot_data["kabar"]
    finally:
        await app.updater.stop()
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
        await app.shutdown()
