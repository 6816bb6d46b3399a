"""Webhook mode: PTB's own listener on 127.0.0.1 checks the secret token; answers go to the fake Bot API."""

from __future__ import annotations

import asyncio
import socket

import httpx

from bot.telegram import ALLOWED_UPDATES, build_application, check_webhook
from tests.fake_bot_api import TOKEN, FakeBotAPI
from tests.fake_pipeline import FakePipeline

SECRET = "kabar_Webhook-secret_123"
PUBLIC_URL = "https://kabar.example.org/telegram/hook"  # only handed to the fake server, never contacted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_answers_the_right_secret_and_refuses_others(tmp_settings) -> None:
    pipeline = FakePipeline()
    port = _free_port()
    with FakeBotAPI() as api:
        tg = tmp_settings.telegram.model_copy(update={"base_url": api.base_url, "edit_interval_s": 0.2})
        app = build_application(tmp_settings.model_copy(update={"telegram": tg}), pipeline, TOKEN)
        url = f"http://127.0.0.1:{port}/{check_webhook(PUBLIC_URL, SECRET)}"

        async def scenario() -> dict[str, int]:
            await app.initialize()
            await app.post_init(app)
            await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="telegram/hook",
                                            webhook_url=PUBLIC_URL, secret_token=SECRET,
                                            allowed_updates=ALLOWED_UPDATES)
            await app.start()
            statuses = {}
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                    for name, hdrs in (("wrong", {"X-Telegram-Bot-Api-Secret-Token": "not-it"}),
                                       ("missing", {}), ("right", headers)):
                        update = api.update_json(f"question with the {name} secret?", user_id=1001)
                        response = await client.post(url, json=update, headers=hdrs)
                        statuses[name] = response.status_code
                await api.wait_for(lambda: any("Sources:" in t for t in api.texts(1001)), 20, "the answer")
                await app.bot_data["kabar"].drained()
            finally:
                await app.updater.stop()
                await app.stop()
                await app.post_stop(app)
                await app.shutdown()
            return statuses

        statuses = asyncio.run(asyncio.wait_for(scenario(), 60))

    assert statuses == {"wrong": 403, "missing": 403, "right": 200}
    # PTB registered the webhook with the secret, so Telegram would send it.
    assert api.calls_to("setWebhook")[0].params["url"] == PUBLIC_URL
    assert api.calls_to("setWebhook")[0].params["secret_token"] == SECRET
    assert pipeline.asked == ["question with the right secret?"]
    assert api.texts(1001) == ["Answer to «question with the right secret?» [1].\n\n"
                               "Sources:\n[1] Putin akan ke China — iNews.id, 2025-08-27"]
    assert not api.calls_to("getUpdates")  # no polling in webhook mode
