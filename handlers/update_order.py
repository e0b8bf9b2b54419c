"""Updates of one chat one at a time, across every worker; different chats side by side.

PTB's update processor hook: each update runs inside its chat's lock (bot/store/chat_locks.py),
so two workers behind a load balancer never handle one chat's updates at once, and a
chat's updates, cue timers and re-sends keep their order.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers.context import SERVICES

# Updates a worker handles at once when several workers share the database; one process
# on SQLite handles them one by one, as PTB does by default.
SHARED_CONCURRENCY = 16


class ChatOrderedUpdates(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        # The application's bot_data, once the Application is built (it holds the services).
        self.bot_data: dict[Any, Any] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        services = self.bot_data.get(SERVICES)
        chat = update.effective_chat if isinstance(update, Update) else None
        if services is None or chat is None:
            await coroutine
            return
        async with services.chat_locks.hold(chat.id):
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
