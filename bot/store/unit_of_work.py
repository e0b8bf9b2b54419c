"""The store: units of work, each one transaction with the repositories inside it.

A service opens one unit for each change that must happen whole (starting a practice and
closing the user's others; saving a schedule with its first due time). Races between
units are settled by conditional updates inside the repositories, not by long locks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.database import checkpoint, create_sessionmaker
from bot.store.feedback import FeedbackRepository
from bot.store.practice import PracticeRepository
from bot.store.reminders import ReminderRepository
from bot.store.users import UserRepository


class UnitOfWork:
    """The repositories, all on one database session (one transaction)."""

    def __init__(self, db: AsyncSession) -> None:
        self.users = UserRepository(db)
        self.practices = PracticeRepository(db)
        self.reminders = ReminderRepository(db)
        self.feedback = FeedbackRepository(db)


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._readers = create_sessionmaker(engine)
        self._writers = create_sessionmaker(engine, write=True)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A unit that only reads; whatever it did is rolled back at the end."""
        async with self._readers() as db:
            yield UnitOfWork(db)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A unit that changes rows: committed when the block ends, rolled back on error."""
        async with self._writers.begin() as db:
            yield UnitOfWork(db)

    async def leave_no_trace(self) -> None:
        """After a deletion: nothing of the deleted rows stays readable on disk."""
        await checkpoint(self._engine)
