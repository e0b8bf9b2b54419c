"""Telegram's 30 messages a second, held for the whole bot when several workers send.

Each worker's AIORateLimiter paces its own calls; this counts every worker's together, in
the database: before a counted call, a worker takes one of the current wall-clock
second's SENDS_PER_SECOND slots with one conditional upsert (PostgreSQL's row lock makes
concurrent takers count one by one). When the second is full it waits for the next.

It fails open: if the database does not answer, the call goes on, paced by the worker's
own limiter only. A 429 from Telegram is recoverable (the limiter waits it out); a class
whose cues stop because the counter is unreachable is not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import delete
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import SendSecond

log = logging.getLogger(__name__)

SENDS_PER_SECOND = 30
# Counts older than this are deleted, once a minute, by whichever worker comes first.
KEEP_SECONDS = 60


class SendBudget:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        per_second: int = SENDS_PER_SECOND,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._engine = engine
        self._per_second = per_second
        self._clock, self._sleep = clock, sleep
        self._swept_minute = -1
        self._trouble = False

    async def take(self) -> int:
        """Wait for a slot; the second it belongs to."""
        while True:
            now = self._clock()
            second = int(now)
            if await self._claim(second):
                return second
            await self._sleep(second + 1 - now)

    async def _claim(self, second: int) -> bool:
        # Imported here: the budget runs on PostgreSQL only, and its dialect (some 2 MB
        # resident) is never loaded by a bot on SQLite.
        from sqlalchemy.dialects.postgresql import insert

        claim = (
            insert(SendSecond)
            .values(second=second, used=1)
            .on_conflict_do_update(
                index_elements=[SendSecond.second],
                set_={"used": SendSecond.used + 1},
                where=SendSecond.used < self._per_second,
            )
            .returning(SendSecond.used)
        )
        try:
            async with self._engine.begin() as connection:
                taken = (await connection.execute(claim)).first() is not None
                if second // 60 != self._swept_minute:
                    self._swept_minute = second // 60
                    await connection.execute(
                        delete(SendSecond).where(SendSecond.second < second - KEEP_SECONDS)
                    )
        except (DBAPIError, OSError) as exc:
            if not self._trouble:
                log.warning("the bot-wide send count does not answer (%s); pacing locally", exc)
            self._trouble = True
            return True
        if self._trouble:
            log.info("the bot-wide send count answers again")
            self._trouble = False
        return taken
