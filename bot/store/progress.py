"""What /progress reads: one user's sessions and where they used the easier option."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import EventKind, PracticeSession, StepEvent, User


class ProgressStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def user(self, user_id: int) -> User | None:
        async with self._sessions() as db:
            return await db.get(User, user_id)

    async def sessions_of(self, user_id: int) -> Sequence[PracticeSession]:
        """Every session of the user, oldest first; a user has few enough to load whole."""
        async with self._sessions() as db:
            rows = await db.scalars(
                select(PracticeSession)
                .where(PracticeSession.user_id == user_id)
                .order_by(PracticeSession.started_at, PracticeSession.id)
            )
            return rows.all()

    async def easier_counts(self, user_id: int) -> list[tuple[str, str, int]]:
        """(class id, step id, times) for each pose where the user took the easier option."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(PracticeSession.class_id, StepEvent.step_id, func.count())
                .join(PracticeSession, StepEvent.session_id == PracticeSession.id)
                .where(PracticeSession.user_id == user_id, StepEvent.kind == EventKind.EASIER)
                .group_by(PracticeSession.class_id, StepEvent.step_id)
            )
            return [(class_id, step_id, count) for class_id, step_id, count in rows.all()]
