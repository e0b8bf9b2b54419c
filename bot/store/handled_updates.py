"""Webhook updates some worker took to handle: one row per update_id, shared by every worker.

A worker claims an update before handling it, with an insert that does nothing on conflict
(the primary key settles a race: on PostgreSQL the second insert waits for the first's
transaction and then finds the row), and marks it handled once done. A claim left
unfinished for longer than the caller says is taken over by one conditional update,
so only one of several workers retrying it wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Insert, delete, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import HandledUpdate


class HandledUpdateRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def claim(self, update_id: int, now: datetime, stale_after: timedelta) -> bool:
        """Whether the caller is to handle the update now: nobody had claimed it, or its
        claim is at least `stale_after` old and still not handled."""
        inserted = await self._db.execute(self._insert_if_new(update_id, now))
        if changed_rows(inserted) == 1:
            return True
        taken_over = await self._db.execute(
            update(HandledUpdate)
            .where(
                HandledUpdate.update_id == update_id,
                HandledUpdate.handled_at.is_(None),
                HandledUpdate.claimed_at <= now - stale_after,
            )
            .values(claimed_at=now)
        )
        return changed_rows(taken_over) == 1

    async def handled(self, update_id: int) -> bool:
        """Whether the update has been handled to the end."""
        handled_at = await self._db.scalar(
            select(HandledUpdate.handled_at).where(HandledUpdate.update_id == update_id)
        )
        return handled_at is not None

    async def finish(self, update_id: int, now: datetime) -> None:
        await self._db.execute(
            update(HandledUpdate).where(HandledUpdate.update_id == update_id).values(handled_at=now)
        )

    async def release(self, update_id: int) -> None:
        """Give up a claim whose handling did not finish, so the next delivery is handled
        at once rather than after the timeout."""
        await self._db.execute(
            delete(HandledUpdate).where(
                HandledUpdate.update_id == update_id, HandledUpdate.handled_at.is_(None)
            )
        )

    async def forget_claimed_before(self, before: datetime) -> int:
        """Delete the claims made before `before`; how many there were."""
        deleted = await self._db.execute(
            delete(HandledUpdate).where(HandledUpdate.claimed_at < before)
        )
        return changed_rows(deleted)

    def _insert_if_new(self, update_id: int, now: datetime) -> Insert:
        # INSERT … ON CONFLICT DO NOTHING is spelled the same on both back-ends, but
        # SQLAlchemy builds it with each dialect's own construct.
        dialect = self._db.get_bind().dialect.name
        values = {"update_id": update_id, "claimed_at": now}
        if dialect == "postgresql":
            # Imported here: a bot on SQLite never loads this dialect (some 2 MB resident).
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(HandledUpdate).values(values).on_conflict_do_nothing()
        return sqlite.insert(HandledUpdate).values(values).on_conflict_do_nothing()
