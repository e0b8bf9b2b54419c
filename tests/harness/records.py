"""Writing practice history straight into the database, for tests of what is read back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_sessionmaker
from bot.models import (
    EventKind,
    Feedback,
    Practice,
    PracticeStatus,
    Reminder,
    StepEvent,
    User,
)


async def add_user(engine: AsyncEngine, user_id: int, *, timezone: str | None = None) -> None:
    async with create_sessionmaker(engine, write=True).begin() as db:
        if await db.get(User, user_id) is None:
            db.add(
                User(
                    id=user_id,
                    chat_id=user_id,
                    first_name=f"User {user_id}",
                    created_at=datetime.fromisoformat("2025-01-01T00:00:00+00:00"),
                    timezone=timezone,
                )
            )


async def add_session(
    engine: AsyncEngine,
    user_id: int,
    started_at: datetime,
    *,
    status: PracticeStatus = PracticeStatus.FINISHED,
    minutes: float = 3,
    back_before: int | None = None,
    back_after: int | None = None,
    easier_steps: tuple[str, ...] = (),
    class_id: str = "tiny-class",
) -> int:
    await add_user(engine, user_id)
    async with create_sessionmaker(engine, write=True).begin() as db:
        session = Practice(
            user_id=user_id,
            chat_id=user_id,
            class_id=class_id,
            status=status,
            started_at=started_at,
            finished_at=None
            if status in (PracticeStatus.ACTIVE, PracticeStatus.PAUSED)
            else started_at + timedelta(minutes=minutes),
            current_step=2,
            practised_seconds=minutes * 60,
            back_before=back_before,
            back_after=back_after,
        )
        db.add(session)
        await db.flush()
        for index, step_id in enumerate(("pose-1", "pose-2", "pose-3")):
            db.add(_event(session.id, index, step_id, EventKind.SHOWN, started_at))
        for step_id in easier_steps:
            index = int(step_id.rsplit("-", 1)[1]) - 1
            db.add(_event(session.id, index, step_id, EventKind.EASIER, started_at))
        return session.id


async def add_reminder(engine: AsyncEngine, user_id: int, *, enabled: bool = True) -> None:
    await add_user(engine, user_id)
    async with create_sessionmaker(engine, write=True).begin() as db:
        db.add(Reminder(user_id=user_id, chat_id=user_id, hour=7, minute=30, enabled=enabled))


async def session_ids_of(engine: AsyncEngine, user_id: int) -> list[int]:
    async with create_sessionmaker(engine)() as db:
        rows = await db.scalars(select(Practice.id).where(Practice.user_id == user_id))
        return list(rows)


async def rows_about(
    engine: AsyncEngine, user_id: int, session_ids: list[int] | None = None
) -> dict[str, int]:
    """How many rows each table holds about the user. Step events are found through
    `session_ids` when given (taken before a delete), so orphans are counted too."""
    async with create_sessionmaker(engine)() as db:
        own = (
            session_ids
            if session_ids is not None
            else select(Practice.id).where(Practice.user_id == user_id)
        )

        async def count(query) -> int:  # type: ignore[no-untyped-def]
            return (await db.scalar(query)) or 0

        return {
            "users": await count(select(func.count()).where(User.id == user_id)),
            "practice_sessions": await count(
                select(func.count()).where(Practice.user_id == user_id)
            ),
            "step_events": await count(select(func.count()).where(StepEvent.practice_id.in_(own))),
            "reminders": await count(select(func.count()).where(Reminder.user_id == user_id)),
            "feedback": await count(select(func.count()).where(Feedback.user_id == user_id)),
        }


def _event(session_id: int, index: int, step_id: str, kind: EventKind, at: datetime) -> StepEvent:
    return StepEvent(practice_id=session_id, step_index=index, step_id=step_id, kind=kind, at=at)
