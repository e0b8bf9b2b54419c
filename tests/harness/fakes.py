"""Stand-ins for the ports a service talks through, for tests of the services alone, and
a clock for the rate limiter of a running bot that a test can move on."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.account import CopyRemoval
from bot.store.feedback import Copy


@dataclass(frozen=True)
class Armed:
    step: int
    chat_id: int
    at: datetime


class FakeTimers:
    """Records what the practice service asked of its timers; nothing ever fires."""

    def __init__(self) -> None:
        self.armed: dict[int, Armed] = {}
        self.cancelled: list[int] = []

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        self.armed[practice_id] = Armed(step, chat_id, at)

    def cancel(self, practice_id: int) -> None:
        self.armed.pop(practice_id, None)
        self.cancelled.append(practice_id)


class FakeTeamChat:
    """The team's chat as /forget_me meets it: records each copy it is asked to delete and
    answers what the test set for that chat (deleted, by default), or never answers."""

    def __init__(self) -> None:
        self.asked: list[Copy] = []
        self.answers: dict[int, CopyRemoval] = {}
        self.hang = False

    async def remove(self, copy: Copy) -> CopyRemoval:
        self.asked.append(copy)
        if self.hang:
            await asyncio.Event().wait()
        return self.answers.get(copy.chat_id, CopyRemoval.GONE)


class JumpingScheduler:
    """The rate limiter's clock for a running bot: the event loop's time plus however far
    the test has jumped it on. What waits for a time (a chat waiting out a 429) wakes at
    once when a jump passes that time, so a test sees a 20 s wait end without waiting 20 s."""

    def __init__(self) -> None:
        self.offset = 0.0
        # Callbacks not yet run: (when, callback, the loop's handle for it).
        self._pending: dict[int, tuple[float, Callable[[], None], asyncio.TimerHandle]] = {}
        self._numbers = itertools.count()

    def time(self) -> float:
        return asyncio.get_running_loop().time() + self.offset

    def call_at(self, when: float, callback: Callable[[], None]) -> object:
        number = next(self._numbers)
        self._schedule(number, when, callback)
        return number

    def _schedule(self, number: int, when: float, callback: Callable[[], None]) -> None:
        def run() -> None:
            del self._pending[number]
            callback()

        handle = asyncio.get_running_loop().call_at(when - self.offset, run)
        self._pending[number] = (when, callback, handle)

    def jump(self, seconds: float) -> None:
        self.offset += seconds
        for number, (when, callback, handle) in list(self._pending.items()):
            handle.cancel()
            self._schedule(number, when, callback)
