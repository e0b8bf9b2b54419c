"""Users and their whole record: saving a user, reading their history (/progress, /mydata),
deleting it (/forget_me), and the deployment-wide counts behind `yogabot stats`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import (
    OPEN_STATUSES,
    ClassLength,
    EasierMode,
    EventKind,
    Feedback,
    Pace,
    Plan,
    Practice,
    PracticeStatus,
    ProgrammeEvent,
    Reminder,
    ScreenAnswer,
    StepEvent,
    User,
)


@dataclass(frozen=True)
class Counts:
    users: int
    users_with_reminders: int
    practices_started: int
    practices_finished: int
    feedback: int


class UserRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def save(self, user_id: int, chat_id: int, first_name: str, now: datetime) -> None:
        """Create the user, or refresh their chat and name: the one upsert of a user."""
        user = await self._db.get(User, user_id)
        if user is None:
            self._db.add(User(id=user_id, chat_id=chat_id, first_name=first_name, created_at=now))
        else:
            user.chat_id, user.first_name = chat_id, first_name
        await self._db.flush()

    async def get(self, user_id: int) -> User | None:
        return await self._db.get(User, user_id)

    async def timezone_of(self, user_id: int) -> str | None:
        return await self._db.scalar(select(User.timezone).where(User.id == user_id))

    async def set_timezone(self, user_id: int, name: str) -> None:
        await self._db.execute(update(User).where(User.id == user_id).values(timezone=name))

    async def settings_of(
        self, user_id: int
    ) -> tuple[ClassLength, Pace, EasierMode, bool, bool] | None:
        row = (
            await self._db.execute(
                select(
                    User.class_length, User.pace, User.easier_mode, User.pictures, User.voice
                ).where(User.id == user_id)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    async def set_setting(self, user_id: int, column: str, value: object) -> None:
        await self._db.execute(update(User).where(User.id == user_id).values({column: value}))

    async def mark_slow_pace_suggested(self, user_id: int) -> bool:
        """Once per user: False when it was suggested already."""
        marked = await self._db.execute(
            update(User)
            .where(User.id == user_id, User.slow_pace_suggested.is_(False))
            .values(slow_pace_suggested=True)
        )
        return changed_rows(marked) == 1

    async def set_screen(self, user_id: int, answer: ScreenAnswer, at: datetime) -> None:
        await self._db.execute(
            update(User).where(User.id == user_id).values(screen_answer=answer, screened_at=at)
        )

    async def in_chat(self, chat_id: int) -> Sequence[int]:
        return (await self._db.scalars(select(User.id).where(User.chat_id == chat_id))).all()

    async def practices_of(self, user_id: int) -> Sequence[Practice]:
        rows = await self._db.scalars(
            select(Practice)
            .where(Practice.user_id == user_id)
            .order_by(Practice.started_at, Practice.id)
        )
        return rows.all()

    async def easier_counts(self, user_id: int) -> list[tuple[str, str, int]]:
        """(class id, step id, times) for each pose where the user took the easier option."""
        rows = await self._db.execute(
            select(Practice.class_id, StepEvent.step_id, func.count())
            .join(Practice, StepEvent.practice_id == Practice.id)
            .where(Practice.user_id == user_id, StepEvent.kind == EventKind.EASIER)
            .group_by(Practice.class_id, StepEvent.step_id)
        )
        return [(class_id, step_id, count) for class_id, step_id, count in rows.all()]

    async def event_counts_of(self, user_id: int) -> dict[tuple[int, EventKind], int]:
        """(practice id, kind) -> number of distinct poses, for every practice of the user."""
        rows = await self._db.execute(
            select(
                StepEvent.practice_id,
                StepEvent.kind,
                func.count(func.distinct(StepEvent.step_index)),
            )
            .join(Practice, StepEvent.practice_id == Practice.id)
            .where(Practice.user_id == user_id)
            .group_by(StepEvent.practice_id, StepEvent.kind)
        )
        return {(practice_id, EventKind(kind)): n for practice_id, kind, n in rows.all()}

    async def record_of(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row stored about the user, whole: each table's rows (column name to value,
        as stored), by table name, in the order a person reads them: themselves, their
        reminder, their practices, what happened at each pose, their notes. Empty when
        nothing is stored. /mydata sends it; tests/services/test_mydata.py walks the schema
        so that no table or column about a user is left out of it."""
        if await self._db.get(User, user_id) is None:
            return {}
        own_practices = select(Practice.id).where(Practice.user_id == user_id)
        queries: list[tuple[Table, Select[Any]]] = []
        for model, where, order in (
            (User, User.id == user_id, (User.id,)),
            (Reminder, Reminder.user_id == user_id, (Reminder.user_id,)),
            (Plan, Plan.user_id == user_id, (Plan.user_id,)),
            (Practice, Practice.user_id == user_id, (Practice.started_at, Practice.id)),
            (StepEvent, StepEvent.practice_id.in_(own_practices), (StepEvent.id,)),
            (
                ProgrammeEvent,
                ProgrammeEvent.user_id == user_id,
                (ProgrammeEvent.at, ProgrammeEvent.id),
            ),
            (Feedback, Feedback.user_id == user_id, (Feedback.created_at, Feedback.id)),
        ):
            table = cast(Table, model.__table__)
            queries.append((table, select(table).where(where).order_by(*order)))
        record: dict[str, list[dict[str, Any]]] = {}
        for table, query in queries:
            rows = await self._db.execute(query)
            record[table.name] = [dict(row._mapping) for row in rows]
        return record

    async def delete(self, user_id: int) -> list[int] | None:
        """Delete every row about the user; the ids of practices that were still open, or
        None if nothing was stored. Deleted table by table rather than trusting ON DELETE
        CASCADE, which SQLite only honours with a pragma."""
        db = self._db
        if await db.get(User, user_id) is None:
            return None
        open_ids = list(
            await db.scalars(
                select(Practice.id).where(
                    Practice.user_id == user_id, Practice.status.in_(OPEN_STATUSES)
                )
            )
        )
        own_practices = select(Practice.id).where(Practice.user_id == user_id)
        await db.execute(delete(StepEvent).where(StepEvent.practice_id.in_(own_practices)))
        await db.execute(delete(Feedback).where(Feedback.user_id == user_id))
        await db.execute(delete(Reminder).where(Reminder.user_id == user_id))
        await db.execute(delete(ProgrammeEvent).where(ProgrammeEvent.user_id == user_id))
        await db.execute(delete(Plan).where(Plan.user_id == user_id))
        await db.execute(delete(Practice).where(Practice.user_id == user_id))
        await db.execute(delete(User).where(User.id == user_id))
        # The identity map still holds the deleted user; a later get() must not return it.
        db.expunge_all()
        return open_ids

    async def counts(self) -> Counts:
        async def count(query: Select[Any]) -> int:
            return (await self._db.scalar(query)) or 0

        return Counts(
            users=await count(select(func.count()).select_from(User)),
            users_with_reminders=await count(
                select(func.count(func.distinct(Reminder.user_id))).where(
                    Reminder.enabled.is_(True)
                )
            ),
            practices_started=await count(select(func.count()).select_from(Practice)),
            practices_finished=await count(
                select(func.count())
                .select_from(Practice)
                .where(Practice.status == PracticeStatus.FINISHED)
            ),
            feedback=await count(select(func.count()).select_from(Feedback)),
        )
