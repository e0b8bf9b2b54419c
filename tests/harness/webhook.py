"""The bot in webhook mode, for the story tests: the real Application through `running`,
its webhook server on a free port of 127.0.0.1, and ways to post to it (well-formed
updates through aiohttp, anything at all through a raw socket)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from bot.clock import Clock, utc_now
from bot.settings import load_settings
from handlers.app import Webhook, build_application, running
from handlers.context import YogaApp
from playground.emulator import BotApiEmulator, SimulatedUser
from tests.harness.bot import TOKEN
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
SECRET = "webhook_secret-0123456789abcdefghijklmnopqrstuv"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WITH_SECRET = {SECRET_HEADER: SECRET}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def webhook_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/telegram"


@contextlib.asynccontextmanager
async def webhook_bot(
    emulator: BotApiEmulator,
    database_url: str,
    port: int,
    *,
    register: bool = True,
    clock: Clock = utc_now,
    webapp_url: str | None = None,
) -> AsyncIterator[YogaApp]:
    """The real Application through `running`, as `yogabot run` starts it with WEBHOOK_URL
    (and, given `webapp_url`, the player on the same server)."""
    settings = load_settings(
        webapp_url=webapp_url,
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=emulator.api_url,
        webhook_url=webhook_url(port),
        webhook_secret=SECRET,
        webhook_port=port,
        webhook_register=register,
    )
    webhook = Webhook.from_settings(settings)
    assert webhook is not None
    application = build_application(settings, clock=clock, catalog=TINY_CATALOG)
    async with running(application, webhook=webhook):
        yield application


def help_update(user: SimulatedUser, update_id: int) -> dict[str, Any]:
    """A /help from `user`, as Telegram would post it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.api(),
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def post(url: str, update: dict[str, Any], headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=update, headers=headers) as response,
    ):
        return response.status


async def post_raw(port: int, request: bytes, *, within: float = 10.0) -> bytes:
    """Send `request` byte for byte (headers included) and read until the server closes the
    connection: the status line and all, or b"" if it closed without answering."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(within):
            return await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def raw_post_request(body: bytes, *, secret: bytes = SECRET.encode()) -> bytes:
    """An HTTP/1.1 POST of `body` to /telegram with `secret` as the secret header's bytes,
    closing the connection after the answer."""
    return (
        b"POST /telegram HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        b"Connection: close\r\n"
        b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"\r\n" + body
    )


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer."""
    return int(answer.split(b" ", 2)[1])
