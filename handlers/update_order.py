"""Updates of one chat one at a time, across every worker; different chats side by side.

PTB's update processor hook: each update runs inside its chat's lock (bot/store/chat_locks.py),
so two workers behind a load balancer never handle one chat's updates at once, and a
chat's updates, cue timers and re-sends keep their order.

Different chats go side by side on SQLite too: a chat whose update waits on Telegram (a
call that hangs until its timeout, a 429 being waited out) holds up only its own later
updates. What SQLite cannot do side by side, write, the store queues by itself: one write
unit at a time in the process, each short and never around a Telegram call
(bot/store/unit_of_work.py).

A chat's update first waits for the update before it of the same chat (a queue per chat
in this process), then for one of the CONCURRENT_UPDATES places, and only then takes the
chat's lock, the one cue timers and other workers take too: updates queued behind a
hanging one of their own chat take no place that another chat's update could use, and
updates waiting for a place hold none of the connections PostgreSQL's chat locks use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.store.chat_locks import ProcessChatLocks
from handlers.context import SERVICES

# Updates a worker handles at once, each of a different chat (on SQLite and PostgreSQL
# alike): while one waits on Telegram (5 s at most, PTB's read timeout) the others go on.
CONCURRENT_UPDATES = 16
# Updates a worker takes in hand at once, most of them waiting for their chat's lock
# behind an earlier update of the same chat. PTB queues any beyond this.
UPDATES_IN_HAND = 1024


class ChatOrderedUpdates(BaseUpdateProcessor):
    def __init__(
        self, concurrent: int = CONCURRENT_UPDATES, in_hand: int = UPDATES_IN_HAND
    ) -> None:
        super().__init__(max(concurrent, in_hand))
        self._places = asyncio.Semaphore(concurrent)
        # Each chat's updates in the order they came, before they take a place.
        self._queues = ProcessChatLocks()
        # The application's bot_data, once the Application is built (it holds the services).
        self.bot_data: dict[Any, Any] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        services = self.bot_data.get(SERVICES)
        chat = update.effective_chat if isinstance(update, Update) else None
        if services is None or chat is None:
            async with self._places:
                await coroutine
            return
        # Tasks reach their chat's (first come, first served) queue in the order PTB
        # created them, the order the updates arrived: nothing is awaited before it.
        async with (
            self._queues.hold(chat.id),
            self._places,
            services.chat_locks.hold(chat.id),
        ):
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
