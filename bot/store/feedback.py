"""Feedback rows, the /feedback waiting state, and the context a note is filed under."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Feedback, PracticeSession, User


class FeedbackStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def latest_session(self, user_id: int) -> PracticeSession | None:
        """The open session if there is one (it is always the newest), else the last one."""
        async with self._sessions() as db:
            return await db.scalar(
                select(PracticeSession)
                .where(PracticeSession.user_id == user_id)
                .order_by(PracticeSession.id.desc())
                .limit(1)
            )

    async def count_since(self, user_id: int, since: datetime) -> int:
        async with self._sessions() as db:
            count = await db.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(Feedback.user_id == user_id, Feedback.created_at > since)
            )
            return count or 0

    async def add(self, item: Feedback) -> Feedback:
        """Store the note and end any wait for one, in one transaction."""
        async with self._sessions.begin() as db:
            db.add(item)
            await _set_waiting(db, item.user_id, None)
        return item

    async def waiting_since(self, user_id: int) -> datetime | None:
        async with self._sessions() as db:
            return await db.scalar(select(User.awaiting_feedback_since).where(User.id == user_id))

    async def set_waiting(self, user_id: int, since: datetime | None) -> bool:
        """False when nothing changed (no such user, or no wait to end)."""
        async with self._sessions.begin() as db:
            return await _set_waiting(db, user_id, since)

    async def since(self, start: datetime | None) -> Sequence[Feedback]:
        async with self._sessions() as db:
            query = select(Feedback).order_by(Feedback.created_at, Feedback.id)
            if start is not None:
                query = query.where(Feedback.created_at >= start)
            return (await db.scalars(query)).all()


async def _set_waiting(db: AsyncSession, user_id: int, since: datetime | None) -> bool:
    query = update(User).where(User.id == user_id).values(awaiting_feedback_since=since)
    if since is None:
        query = query.where(User.awaiting_feedback_since.is_not(None))
    return (await db.execute(query)).rowcount == 1
