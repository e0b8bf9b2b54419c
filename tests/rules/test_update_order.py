"""The update processor: one chat's updates one at a time and in order, different chats
side by side, and a chat's queued updates take no place from another chat's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update

from bot.store.chat_locks import ProcessChatLocks
from handlers.context import SERVICES
from handlers.update_order import ChatOrderedUpdates

WHEN = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class LocksOnly:
    """The one service the processor uses."""

    def __init__(self) -> None:
        self.chat_locks: ProcessChatLocks = ProcessChatLocks()


def update_in(chat_id: int, number: int) -> Update:
    chat = Chat(id=chat_id, type=Chat.PRIVATE)
    return Update(number, message=Message(number, WHEN, chat, text=f"m{number}"))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_hanging_update_holds_up_its_own_chat_only_and_its_chat_keeps_its_order() -> None:
    places = 2
    processor = ChatOrderedUpdates(places)
    processor.bot_data[SERVICES] = LocksOnly()
    done: list[str] = []
    hang = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()  # Telegram silent on this chat's call
        done.append(name)

    def process(update: Update, name: str, wait: asyncio.Event | None = None) -> Any:
        return asyncio.create_task(processor.process_update(update, handle(name, wait)))

    tasks = [process(update_in(1, 1), "ana-1", hang)]
    # More of Ana's updates than there are places: they wait for her chat, taking none.
    tasks += [process(update_in(1, n), f"ana-{n}") for n in range(2, 2 + 2 * places)]
    tasks += [process(update_in(2, 10), "ben"), process(update_in(3, 11), "cai")]
    await settle()
    assert done == ["ben", "cai"]
    hang.set()
    await asyncio.gather(*tasks)
    assert [name for name in done if name.startswith("ana")] == [
        f"ana-{n}" for n in range(1, 2 + 2 * places)
    ]


class CountingLocks(ProcessChatLocks):
    """Chat locks that count how many are held at once (on PostgreSQL each holds a
    connection of the chat locks' pool)."""

    def __init__(self) -> None:
        super().__init__()
        self.held = self.most = 0

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        async with super().hold(chat_id):
            self.held += 1
            self.most = max(self.most, self.held)
            try:
                yield
            finally:
                self.held -= 1


async def test_updates_waiting_for_a_place_hold_no_chat_lock() -> None:
    places = 2
    processor = ChatOrderedUpdates(places)
    services = LocksOnly()
    services.chat_locks = locks = CountingLocks()
    processor.bot_data[SERVICES] = services
    slow = asyncio.Event()

    async def handle() -> None:
        await slow.wait()

    tasks = [
        asyncio.create_task(processor.process_update(update_in(chat, chat), handle()))
        for chat in range(1, 11)
    ]
    await settle()
    assert locks.held == places
    slow.set()
    await asyncio.gather(*tasks)
    assert locks.most == places
