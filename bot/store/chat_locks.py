"""One chat at a time, across every worker: what keeps a chat's updates, cue timers and
re-sends in order when several processes serve the bot.

Whoever changes a practice and sends its cue holds the chat's lock from before the change
until the send is recorded. So a cue that is not confirmed delivered while nobody holds
its chat's lock was being sent by a worker that died: another worker may send it again.

On PostgreSQL the lock is a session-level advisory lock (``pg_advisory_lock``) on its own
connection: the server releases it when the connection ends, so a worker killed while
holding one frees it at once. SQLite serves one process, so an asyncio lock per chat in
that process gives the same guarantee.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


class ChatLocks(Protocol):
    def hold(self, chat_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Wait for the chat's lock and hold it for the block."""
        ...

    def try_hold(self, chat_id: int) -> contextlib.AbstractAsyncContextManager[bool]:
        """Hold the chat's lock for the block if it is free; the block learns which."""
        ...

    async def close(self) -> None: ...


class ProcessChatLocks:
    """For one process (SQLite): a lock per chat, forgotten when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        async with self._lock(chat_id):
            yield

    @contextlib.asynccontextmanager
    async def try_hold(self, chat_id: int) -> AsyncIterator[bool]:
        lock = self._lock(chat_id)
        if lock.locked():
            yield False
            return
        async with lock:
            yield True

    async def close(self) -> None:
        return None


# Connections for locks, apart from the store's pool: a worker waiting for a chat's lock
# must never hold a connection that the holder needs to finish.
LOCK_POOL_SIZE = 20
LOCK_POOL_OVERFLOW = 20


class PostgresChatLocks:
    """Advisory locks keyed by the chat id, shared by every worker on the database."""

    def __init__(self, url: str) -> None:
        # First the process's own lock, which queues a chat's updates in the order they
        # arrived (asyncio locks are first come, first served); only then the advisory
        # lock, whose waiters the server may wake in any order.
        self._local = ProcessChatLocks()
        self._engine: AsyncEngine = create_async_engine(
            url,
            pool_size=LOCK_POOL_SIZE,
            max_overflow=LOCK_POOL_OVERFLOW,
            pool_pre_ping=True,
            # Each statement is its own transaction: nothing stays idle in a transaction
            # while the lock is held; the lock belongs to the session, not a transaction.
            isolation_level="AUTOCOMMIT",
        )

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        async with self._local.hold(chat_id), self._engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": chat_id})
            try:
                yield
            finally:
                await _unlock(connection, chat_id)

    @contextlib.asynccontextmanager
    async def try_hold(self, chat_id: int) -> AsyncIterator[bool]:
        async with self._local.try_hold(chat_id) as free_here:
            if not free_here:
                yield False
                return
            async with self._engine.connect() as connection:
                got = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": chat_id}
                )
                if not got:
                    yield False
                    return
                try:
                    yield True
                finally:
                    await _unlock(connection, chat_id)

    async def close(self) -> None:
        await self._engine.dispose()


async def _unlock(connection: AsyncConnection, chat_id: int) -> None:
    try:
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": chat_id})
    except BaseException:
        # A connection that cannot unlock is closed instead, which frees the lock too.
        await connection.invalidate()
        raise


def chat_locks_for(url: str) -> ChatLocks:
    return PostgresChatLocks(url) if url.startswith("postgresql") else ProcessChatLocks()
