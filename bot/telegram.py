"""`kabar telegram`: the Telegram front end (python-telegram-bot v22), by polling or by webhook.

The modules beside this one hold the parts: tg_handlers (updates → questions), tg_queue (one model,
many users), tg_stream (streamed edits, retried API calls), tg_format (texts and splitting).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from telegram import Update
from telegram.ext import AIORateLimiter, Application

from bot.tg_handlers import KabarBot
from rag.config import Settings
from rag.errors import KabarError

log = logging.getLogger("kabar.telegram")

# "123456789:AAH…": the bot's numeric id, a colon, then ~35 URL-safe characters.
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
# What Telegram accepts as a webhook secret.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Only new messages are asked for: edits and channel posts are ignored anyway.
ALLOWED_UPDATES = [Update.MESSAGE]
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


def resolve_token(settings: Settings) -> str:
    """The bot token from $TELEGRAM_BOT_TOKEN, else `telegram.token`; KabarError when missing or malformed."""
    token = (os.environ.get(TOKEN_ENV) or settings.telegram.token or "").strip()
    if not token:
        raise KabarError(f"no Telegram bot token: set {TOKEN_ENV} (get a token from @BotFather)")
    if not _TOKEN_RE.match(token):
        # Never echo the value: a mistyped token is still mostly a secret.
        raise KabarError(
            f"the Telegram bot token looks malformed (expected digits:35 characters); check {TOKEN_ENV}"
        )
    return token


class TokenFilter(logging.Filter):
    """Replaces the bot token in log records (httpx and PTB log URLs that contain it)."""

    def __init__(self, token: str):
        super().__init__("kabar-token")
        self.secrets = [s for s in {token, quote(token, safe="")} if s]

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business, not ours
            return True
        if any(s in message for s in self.secrets):
            record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the traceback is redacted once here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True


def protect_logs(token: str) -> None:
    """Keep the token out of logs: quiet httpx's per-request lines, redact it on every root handler."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenFilter) for f in handler.filters):
            handler.addFilter(TokenFilter(token))


def configure_logging(token: str, level: int = logging.INFO) -> None:
    """Log lines on stderr (journald picks them up) with the token redacted."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect_logs(token)


def base_urls(base_url: str) -> tuple[str, str]:
    """The Bot API URL and its file URL (…/bot → …/file/bot), e.g. for a self-hosted Bot API server."""
    api = base_url.strip()
    at = api.rfind("/bot")
    files = api[:at] + "/file" + api[at:] if at >= 0 else api.rstrip("/") + "/file/bot"
    return api, files


def build_application(settings: Settings, pipeline: Any, token: str | None = None) -> Application:
    """The PTB Application with Kabar's handlers; `application.bot_data["kabar"]` is the KabarBot.

    Start it with `run_polling`/`run_webhook`, or (tests) initialize → post_init → start.
    """
    token = token or resolve_token(settings)
    protect_logs(token)
    api, files = base_urls(settings.telegram.base_url)
    kabar = KabarBot(settings, pipeline)
    app = (
        Application.builder()
        .token(token)
        .base_url(api)
        .base_file_url(files)
        .rate_limiter(AIORateLimiter(max_retries=settings.telegram.flood_retries))
        .post_init(kabar.post_init)
        .post_stop(kabar.post_stop)
        .build()
    )
    kabar.attach(app)
    app.bot_data["kabar"] = kabar
    return app


def check_webhook(webhook_url: str, secret_token: str | None) -> str:
    """The listener's URL path for `webhook_url`; KabarError when the URL or the secret won't do."""
    parts = urlsplit(webhook_url)
    if parts.scheme != "https" or not parts.netloc:
        raise KabarError(f"the webhook URL must be an https:// URL (got {webhook_url!r})")
    if not secret_token:
        raise KabarError("webhook mode needs --secret-token (or TELEGRAM_WEBHOOK_SECRET)")
    if not _SECRET_RE.match(secret_token):
        raise KabarError("the webhook secret may only use A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
    return parts.path.lstrip("/")


def run_bot(settings: Settings, webhook_url: str | None = None, listen: str = "127.0.0.1", port: int = 8443,
            secret_token: str | None = None, pipeline_factory: Callable[[], Any] | None = None) -> None:
    """Run the bot until interrupted: long polling, or a webhook listener when `webhook_url` is given.

    Everything that can be checked (token, webhook settings) is checked before the model loads.
    """
    token = resolve_token(settings)
    url_path = check_webhook(webhook_url, secret_token) if webhook_url else ""
    configure_logging(token)
    if pipeline_factory is None:
        from rag.answer import Pipeline

        def pipeline_factory() -> Any:
            return Pipeline.from_settings(settings)

    log.info("loading the model…")
    app = build_application(settings, pipeline_factory(), token)
    if not settings.telegram.allowed_users and not settings.telegram.allowed_chats:
        log.warning("telegram.allowed_users and allowed_chats are empty: anyone can use this bot")
    if webhook_url:
        log.info("webhook mode: listening on %s:%d/%s", listen, port, url_path)
        app.run_webhook(listen=listen, port=port, url_path=url_path, webhook_url=webhook_url,
                        secret_token=secret_token, allowed_updates=ALLOWED_UPDATES)
    else:
        log.info("polling for messages (Ctrl-C to stop)")
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
