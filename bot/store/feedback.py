"""Feedback rows and the /feedback waiting state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import Feedback, User


class FeedbackRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def count_since(self, user_id: int, since: datetime) -> int:
        count = await self._db.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(Feedback.user_id == user_id, Feedback.created_at > since)
        )
        return count or 0

    async def add(self, item: Feedback) -> Feedback:
        """Store the note and end any wait for one."""
        self._db.add(item)
        await self._db.flush()
        await self.set_waiting(item.user_id, None)
        return item

    async def waiting_since(self, user_id: int) -> datetime | None:
        return await self._db.scalar(select(User.awaiting_feedback_since).where(User.id == user_id))

    async def set_waiting(self, user_id: int, since: datetime | None) -> bool:
        """False when nothing changed (no such user, or no wait to end)."""
        query = (
            update(User)
            .where(User.id == user_id)
            .values(awaiting_feedback_since=since)
            .execution_options(synchronize_session=False)
        )
        if since is None:
            query = query.where(User.awaiting_feedback_since.is_not(None))
        changed = await self._db.execute(query)
        return changed_rows(changed) == 1

    async def since(self, start: datetime | None) -> Sequence[Feedback]:
        query = select(Feedback).order_by(Feedback.created_at, Feedback.id)
        if start is not None:
            query = query.where(Feedback.created_at >= start)
        return (await self._db.scalars(query)).all()
