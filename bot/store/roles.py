"""A role only one worker plays at a time: sending reminders, for instance, so that their
fan-out keeps to Telegram's 30 messages a second for the whole bot, not per worker.

On PostgreSQL the role is a session-level advisory lock held on a connection of its own
for as long as the worker plays it; a worker that dies drops the connection, and the next
worker to ask takes the role over. SQLite serves one process, which always has it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import NullPool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.store.unit_of_work import StoreUnavailable

# Advisory lock keys of the roles, far from any chat id (chat locks use the chat id).
REMINDER_SENDER = 0x796F_6761_7265_6D69  # "yogaremi"


class Role(Protocol):
    async def claim(self) -> bool:
        """Whether this worker plays the role now: it keeps it once it has it."""
        ...

    async def close(self) -> None: ...


class AlwaysMine:
    """One process: the role is always this one's."""

    async def claim(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class PostgresRole:
    def __init__(self, url: str, key: int) -> None:
        self._engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._key = key
        self._connection: AsyncConnection | None = None

    async def claim(self) -> bool:
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                # The connection, and with it the role, is gone: ask again below.
                await self._drop()
        try:
            connection = await self._engine.connect()
        except (DBAPIError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def _drop(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.invalidate()

    async def close(self) -> None:
        if self._connection is not None:
            # Closing the connection ends the session, which releases the lock.
            connection, self._connection = self._connection, None
            await connection.close()
        await self._engine.dispose()


def role_for(url: str, key: int) -> Role:
    return PostgresRole(url, key) if url.startswith("postgresql") else AlwaysMine()
