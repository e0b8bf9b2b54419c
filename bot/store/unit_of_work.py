"""The store: units of work, each one transaction with the repositories inside it.

A service opens one unit for each change that must happen whole (starting a practice and
closing the user's others; saving a schedule with its first due time). Races between
units are settled by conditional updates inside the repositories, not by long locks.

**Short units, nothing slow inside.** A unit holds a database connection, and a write unit
on SQLite the database's only write lock, until it ends: no unit is ever open around a
Telegram call (the rate limiter refuses one, `inside_a_unit`), nor around another unit
of the same task.

**SQLite: one writer at a time, queued here.** SQLite lets one connection write at a
time. Left to itself, a second writer polls for the lock in its thread (busy_timeout),
in no particular order, and fails "database is locked" after BUSY_TIMEOUT_MS; with many
chats' updates side by side that is a lottery. So the process's write units take turns
on one first-come-first-served asyncio lock before they begin (`BEGIN IMMEDIATE`), and
busy_timeout is left for other processes (a backup, `yogabot stats`). A unit waiting for
its turn holds no connection; one that has waited WRITE_TURN_SECONDS is StoreUnavailable,
as a locked database is. Readers never wait for it (WAL). PostgreSQL has row locks and
many writers: no turn is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.database import POOL_TIMEOUT, checkpoint, create_sessionmaker
from bot.incidents import Incident
from bot.store.feedback import FeedbackRepository
from bot.store.handled_updates import HandledUpdateRepository
from bot.store.plans import PlanRepository
from bot.store.practice import PracticeRepository
from bot.store.reminders import ReminderRepository
from bot.store.uploads import UploadRepository
from bot.store.users import UserRepository

# How long a SQLite write unit waits for its turn among the process's writers, as long as a
# PostgreSQL unit waits for a pooled connection: the queue always moves (each unit is
# short, and one that meets another process's lock gives up after busy_timeout), so only
# a burst of more than ten seconds of writes makes a unit give up.
WRITE_TURN_SECONDS = POOL_TIMEOUT


class StoreUnavailable(Exception):
    """The database did not answer (locked past busy_timeout, read-only, gone): nothing of
    the unit of work was stored, and the same change may simply be tried again later."""


# What a database that is busy, locked, read-only or unreachable raises (a PostgreSQL
# server that refuses or drops the connection raises a plain OSError from the driver), and
# a pool with no connection free within its timeout (a burst of units longer than that);
# an IntegrityError is an answer (a rule the change broke), not trouble.
_TROUBLE = (OperationalError, InterfaceError, OSError, PoolTimeout)
_Trouble = OperationalError | InterfaceError | OSError | PoolTimeout


# The task that opened the unit of work now open in this context, and the unit's kind. A
# task created inside a unit inherits the variable but is not the task it names.
_open_unit: ContextVar[tuple[asyncio.Task[Any] | None, str] | None] = ContextVar(
    "open_unit", default=None
)


def inside_a_unit() -> str | None:
    """The kind of unit of work ("write", "read", "peek") this task has open, if any."""
    held = _open_unit.get()
    if held is None:
        return None
    task, kind = held
    return kind if task is asyncio.current_task() else None


@contextlib.contextmanager
def _opened(kind: str) -> Iterator[None]:
    around = inside_a_unit()
    if around is not None:
        # On SQLite a write inside a write would wait for itself, and any unit inside
        # another holds two connections at once: a bug, said plainly rather than a hang.
        raise RuntimeError(f"a {kind} unit of work opened inside a {around} unit")
    token = _open_unit.set((asyncio.current_task(), kind))
    try:
        yield
    finally:
        _open_unit.reset(token)


class UnitOfWork:
    """The repositories, all on one database session (one transaction)."""

    def __init__(self, db: AsyncSession) -> None:
        self.users = UserRepository(db)
        self.practices = PracticeRepository(db)
        self.reminders = ReminderRepository(db)
        self.plans = PlanRepository(db)
        self.feedback = FeedbackRepository(db)
        self.uploads = UploadRepository(db)
        self.handled_updates = HandledUpdateRepository(db)


class Store:
    def __init__(self, engine: AsyncEngine, incident: Incident | None = None) -> None:
        """`incident`: told of every unit that met trouble and every one that went well,
        so that an outage is logged once however many callers meet it."""
        self._engine = engine
        self._incident = incident
        self._readers = create_sessionmaker(engine)
        self._writers = create_sessionmaker(engine, write=True)
        self._peekers = create_sessionmaker(engine, snapshot=False)
        # SQLite's one writer, as this process's write units queue for it (see above).
        self._one_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A unit that only reads; whatever it did is rolled back at the end."""
        with _opened("read"):
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
        with _opened("peek"):
            try:
                async with self._peekers() as db:
                    yield UnitOfWork(db)
            except _TROUBLE as exc:
                raise self._unavailable(exc) from exc
        self._answered()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A unit that changes rows: committed when the block ends, rolled back on error.
        On SQLite it first waits its turn among the process's writers."""
        with _opened("write"):
            async with self._writer_turn():
                try:
                    async with self._writers.begin() as db:
                        yield UnitOfWork(db)
                except _TROUBLE as exc:
                    raise self._unavailable(exc) from exc
            self._answered()

    @contextlib.asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        lock = self._one_writer
        if lock is None:
            yield
            return
        try:
            async with asyncio.timeout(WRITE_TURN_SECONDS):
                await lock.acquire()
        except TimeoutError:
            reason = "database is locked (a queue of writers)"
            if self._incident is not None:
                self._incident.failed(reason)
            raise StoreUnavailable(reason) from None
        try:
            yield
        finally:
            lock.release()

    async def leave_no_trace(self) -> None:
        """After a deletion: nothing of the deleted rows stays readable on disk."""
        # The checkpoint waits for SQLite's writers: it takes the writers' turn too.
        async with self._writer_turn():
            try:
                await checkpoint(self._engine)
            except _TROUBLE as exc:
                raise StoreUnavailable(_reason(exc)) from exc

    def _unavailable(self, exc: _Trouble) -> StoreUnavailable:
        reason = _reason(exc)
        if self._incident is not None:
            self._incident.failed(reason)
        return StoreUnavailable(reason)

    def _answered(self) -> None:
        if self._incident is not None:
            self._incident.answered()


def _reason(exc: _Trouble) -> str:
    # The driver's own words ("database is locked"), without the statement and its values.
    if isinstance(exc, OSError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, PoolTimeout):
        return "no database connection free within the pool's timeout"
    return str(exc.orig) if exc.orig is not None else type(exc).__name__
