"""Users and their whole record: saving a user, reading their history (/progress, /mydata),
deleting it (/forget_me), and the deployment-wide counts behind `yogabot stats`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    OPEN_STATUSES,
    EventKind,
    Feedback,
    PracticeSession,
    Reminder,
    SessionStatus,
    StepEvent,
    User,
)


@dataclass(frozen=True)
class Counts:
    users: int
    users_with_reminders: int
    sessions_started: int
    sessions_finished: int
    feedback: int


async def upsert_user(
    db: AsyncSession, user_id: int, chat_id: int, first_name: str, now: datetime
) -> None:
    """Create the user or refresh their chat and name, inside the caller's transaction."""
    user = await db.get(User, user_id)
    if user is None:
        db.add(User(id=user_id, chat_id=chat_id, first_name=first_name, created_at=now))
    else:
        user.chat_id, user.first_name = chat_id, first_name


class UserStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def user(self, user_id: int) -> User | None:
        async with self._sessions() as db:
            return await db.get(User, user_id)

    async def sessions_of(self, user_id: int) -> Sequence[PracticeSession]:
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

    async def event_counts_of(self, user_id: int) -> dict[tuple[int, EventKind], int]:
        """(session id, kind) -> number of distinct poses, for every session of the user."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(
                    StepEvent.session_id,
                    StepEvent.kind,
                    func.count(func.distinct(StepEvent.step_index)),
                )
                .join(PracticeSession, StepEvent.session_id == PracticeSession.id)
                .where(PracticeSession.user_id == user_id)
                .group_by(StepEvent.session_id, StepEvent.kind)
            )
            return {(session_id, EventKind(kind)): n for session_id, kind, n in rows.all()}

    async def feedback_of(self, user_id: int) -> Sequence[Feedback]:
        async with self._sessions() as db:
            rows = await db.scalars(
                select(Feedback)
                .where(Feedback.user_id == user_id)
                .order_by(Feedback.created_at, Feedback.id)
            )
            return rows.all()

    async def forget(self, user_id: int) -> list[int] | None:
        """Delete every row about the user; the ids of sessions that were still open (their
        timers must go too), or None if nothing was stored. Deleted table by table rather
        than trusting ON DELETE CASCADE, which SQLite only honours with a pragma."""
        async with self._sessions.begin() as db:
            if await db.get(User, user_id) is None:
                return None
            open_ids = list(
                await db.scalars(
                    select(PracticeSession.id).where(
                        PracticeSession.user_id == user_id,
                        PracticeSession.status.in_(OPEN_STATUSES),
                    )
                )
            )
            own_sessions = select(PracticeSession.id).where(PracticeSession.user_id == user_id)
            await db.execute(delete(StepEvent).where(StepEvent.session_id.in_(own_sessions)))
            await db.execute(delete(Feedback).where(Feedback.user_id == user_id))
            await db.execute(delete(Reminder).where(Reminder.user_id == user_id))
            await db.execute(delete(PracticeSession).where(PracticeSession.user_id == user_id))
            await db.execute(delete(User).where(User.id == user_id))
            return open_ids

    async def counts(self) -> Counts:
        async with self._sessions() as db:

            async def count(query) -> int:  # type: ignore[no-untyped-def]
                return (await db.scalar(query)) or 0

            return Counts(
                users=await count(select(func.count()).select_from(User)),
                users_with_reminders=await count(
                    select(func.count(func.distinct(Reminder.user_id))).where(
                        Reminder.enabled.is_(True)
                    )
                ),
                sessions_started=await count(select(func.count()).select_from(PracticeSession)),
                sessions_finished=await count(
                    select(func.count())
                    .select_from(PracticeSession)
                    .where(PracticeSession.status == SessionStatus.FINISHED)
                ),
                feedback=await count(select(func.count()).select_from(Feedback)),
            )
