"""The store: units of work, each one transaction with the repositories inside it.

A service opens one unit for each change that must happen whole (starting a practice and
closing the user's others; saving a schedule with its first due time). Races between
units are settled by conditional updates inside the repositories, not by long locks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.database import checkpoint, create_sessionmaker
from bot.incidents import Incident
from bot.store.feedback import FeedbackRepository
from bot.store.practice import PracticeRepository
from bot.store.reminders import ReminderRepository
from bot.store.uploads import UploadRepository
from bot.store.users import UserRepository


class StoreUnavailable(Exception):
    """The database did not answer (locked past busy_timeout, read-only, gone): nothing of
    the unit of work was stored, and the same change may simply be tried again later."""


# What a database that is busy, locked, read-only or unreachable raises (a PostgreSQL
# server that refuses or drops the connection raises a plain OSError from the driver); an
# IntegrityError is an answer (a rule the change broke), not trouble.
_TROUBLE = (OperationalError, InterfaceError, OSError)


class UnitOfWork:
    """The repositories, all on one database session (one transaction)."""

    def __init__(self, db: AsyncSession) -> None:
        self.users = UserRepository(db)
        self.practices = PracticeRepository(db)
        self.reminders = ReminderRepository(db)
        self.feedback = FeedbackRepository(db)
        self.uploads = UploadRepository(db)


class Store:
    def __init__(self, engine: AsyncEngine, incident: Incident | None = None) -> None:
        """`incident`: told of every unit that met trouble and every one that went well,
        so that an outage is logged once however many callers meet it."""
        self._engine = engine
        self._incident = incident
        self._readers = create_sessionmaker(engine)
        self._writers = create_sessionmaker(engine, write=True)
        self._peekers = create_sessionmaker(engine, snapshot=False)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A unit that only reads; whatever it did is rolled back at the end."""
        try:
            async with self._readers() as db:
                yield UnitOfWork(db)
        except _TROUBLE as exc:
            raise self._unavailable(exc) from exc
        self._answered()

    @contextlib.asynccontextmanager
    async def peek(self) -> AsyncIterator[UnitOfWork]:
        """A unit of one query, such as the look taken on every update: no snapshot is
        needed, so on SQLite none is taken (half the cost of `read`)."""
        try:
            async with self._peekers() as db:
                yield UnitOfWork(db)
        except _TROUBLE as exc:
            raise self._unavailable(exc) from exc
        self._answered()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A unit that changes rows: committed when the block ends, rolled back on error."""
        try:
            async with self._writers.begin() as db:
                yield UnitOfWork(db)
        except _TROUBLE as exc:
            raise self._unavailable(exc) from exc
        self._answered()

    async def leave_no_trace(self) -> None:
        """After a deletion: nothing of the deleted rows stays readable on disk."""
        try:
            await checkpoint(self._engine)
        except _TROUBLE as exc:
            raise StoreUnavailable(_reason(exc)) from exc

    def _unavailable(self, exc: OperationalError | InterfaceError | OSError) -> StoreUnavailable:
        reason = _reason(exc)
        if self._incident is not None:
            self._incident.failed(reason)
        return StoreUnavailable(reason)

    def _answered(self) -> None:
        if self._incident is not None:
            self._incident.answered()


def _reason(exc: OperationalError | InterfaceError | OSError) -> str:
    # The driver's own words ("database is locked"), without the statement and its values.
    if isinstance(exc, OSError):
        return str(exc) or type(exc).__name__
    return str(exc.orig) if exc.orig is not None else type(exc).__name__
