"""Running the real Application against the Bot API emulator, for the story tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from bot.app import build_application, running
from bot.clock import Clock, utc_now
from bot.emulator import BotApiEmulator, SimulatedUser
from bot.emulator.state import EmuMessage
from bot.settings import load_settings
from handlers.context import YogaApp
from sequences import YogaClass

TOKEN = "123456:TEST-token-for-the-emulator"


@contextlib.asynccontextmanager
async def bot_running(
    emulator: BotApiEmulator,
    database_url: str,
    *,
    time_scale: float = 1.0,
    clock: Clock = utc_now,
    catalog: dict[str, YogaClass] | None = None,
) -> AsyncIterator[YogaApp]:
    settings = load_settings(
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=emulator.api_url,
        time_scale=time_scale,
    )
    application = build_application(settings, clock=clock, catalog=catalog)
    async with running(application, poll_timeout=1):
        yield application


def cues_titled(user: SimulatedUser, prefix: str) -> list[EmuMessage]:
    return [m for m in user.bot_messages if (m.plain or "").startswith(prefix)]


def has_message(user: SimulatedUser, needle: str) -> Callable[[], EmuMessage | None]:
    def find() -> EmuMessage | None:
        return next((m for m in user.bot_messages if needle in (m.plain or "")), None)

    return find


def button_texts(message: EmuMessage) -> list[str]:
    markup = message.reply_markup or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
