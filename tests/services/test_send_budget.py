"""Telegram's 30 messages a second, held for the whole bot across workers."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_engine
from bot.models import SendSecond
from bot.store.send_budget import KEEP_SECONDS, SENDS_PER_SECOND, SendBudget

pytestmark = pytest.mark.backends("postgresql")


class FakeTime:
    """A wall clock that moves only when someone waits."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_two_workers_together_never_pass_30_in_a_second(db_engine: AsyncEngine) -> None:
    clock = FakeTime(1_000_000.25)
    workers = [SendBudget(db_engine, clock=clock, sleep=clock.sleep) for _ in range(2)]
    seconds = await asyncio.gather(*(workers[n % 2].take() for n in range(100)))
    per_second = Counter(seconds)
    assert max(per_second.values()) == SENDS_PER_SECOND
    assert sum(per_second.values()) == 100
    async with db_engine.connect() as connection:
        stored = dict((await connection.execute(select(SendSecond.second, SendSecond.used))).all())
    assert stored == dict(per_second)


async def test_counts_older_than_a_minute_are_swept(db_engine: AsyncEngine) -> None:
    clock = FakeTime(2_000_000.0)
    budget = SendBudget(db_engine, clock=clock, sleep=clock.sleep)
    await budget.take()
    clock.now += KEEP_SECONDS + 60  # a quiet spell, into another minute
    await budget.take()
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(SendSecond)) == 1


async def test_a_count_that_does_not_answer_lets_the_send_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 1: the database is unreachable.
    engine = create_engine("postgresql+asyncpg://yogabot@127.0.0.1:1/none")
    try:
        budget = SendBudget(engine)
        await asyncio.wait_for(budget.take(), timeout=10)
        await asyncio.wait_for(budget.take(), timeout=10)
    finally:
        await engine.dispose()
    warnings = [r for r in caplog.records if "send count does not answer" in r.getMessage()]
    assert len(warnings) == 1
