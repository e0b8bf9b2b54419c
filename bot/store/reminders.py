"""Reminder schedules and users' time zones.

The tick's claim is a set of conditional updates: each names the due time (and repeat
marker) it saw, so a user who changed their schedule meanwhile keeps their change and the
claim for that row simply misses. Each claim is written before the reminder is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Update, bindparam, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import Plan, Practice, PracticeStatus, Reminder, User


@dataclass(frozen=True)
class DueRow:
    user_id: int
    chat_id: int
    hour: int
    minute: int
    days: str
    timezone: str | None
    next_due_at: datetime
    claimed_for: str | None
    repeat_of: str | None
    failures: int
    # The days of the user's plan over weeks, while one runs: reminders follow them.
    plan_days: str | None = None


@dataclass(frozen=True)
class Claim:
    """The change the tick wants for one due row, valid only if the row is as it was seen."""

    user_id: int
    seen_due_at: datetime
    seen_repeat_of: str | None
    next_due_at: datetime
    claimed_for: str | None
    failures: int


class ReminderRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def get(self, user_id: int) -> Reminder | None:
        return await self._db.get(Reminder, user_id, populate_existing=True)

    async def save_schedule(
        self,
        user_id: int,
        chat_id: int,
        *,
        hour: int,
        minute: int,
        days: str,
        next_due_at: datetime | None,
    ) -> None:
        """Create or replace the schedule, keeping which day was already reminded. Without
        `next_due_at` it waits: the tick never selects it until a zone change moves it."""
        reminder = await self.get(user_id)
        if reminder is None:
            reminder = Reminder(user_id=user_id, claimed_for=None)
            self._db.add(reminder)
        reminder.chat_id = chat_id
        reminder.hour, reminder.minute, reminder.days = hour, minute, days
        reminder.enabled, reminder.next_due_at = True, next_due_at
        reminder.repeat_of, reminder.failures = None, 0
        await self._db.flush()

    async def move(
        self,
        user_id: int,
        *,
        next_due_at: datetime,
        claimed_for: str | None,
        repeat_of: str | None,
        failures: int = 0,
    ) -> bool:
        """Point an enabled reminder at a new due time (snooze, skip, new zone)."""
        moved = await self._db.execute(
            _update()
            .where(Reminder.user_id == user_id, Reminder.enabled == true())
            .values(
                next_due_at=next_due_at,
                claimed_for=claimed_for,
                repeat_of=repeat_of,
                failures=failures,
            )
        )
        return changed_rows(moved) == 1

    async def retry_later(self, user_id: int, day: str, at: datetime, failures: int) -> bool:
        """Re-deliver `day`'s reminder at `at`, unless the user changed something since."""
        moved = await self._db.execute(
            _update()
            .where(
                Reminder.user_id == user_id,
                Reminder.enabled == true(),
                Reminder.claimed_for == day,
                Reminder.repeat_of.is_(None),
            )
            .values(next_due_at=at, repeat_of=day, failures=failures)
        )
        return changed_rows(moved) == 1

    async def turn_off(self, user_id: int) -> bool:
        turned = await self._db.execute(
            _update()
            .where(Reminder.user_id == user_id, Reminder.enabled == true())
            .values(enabled=False, next_due_at=None, repeat_of=None, failures=0)
        )
        return changed_rows(turned) == 1

    async def due(self, now: datetime, limit: int) -> list[DueRow]:
        rows = await self._db.execute(due_query(now, limit))
        return [DueRow(*row) for row in rows.all()]

    async def claim(self, claims: Sequence[Claim]) -> set[int]:
        """Apply the claims; the user ids whose row was as seen."""
        if not claims:
            return set()
        connection = await self._db.connection()
        # One hop into the driver's thread for the whole batch, one Core statement per
        # row: each row's own count says whether its claim held.
        return await connection.run_sync(_apply_claims, claims)

    async def finished_since(
        self, user_ids: Iterable[int], since: datetime
    ) -> dict[int, list[datetime]]:
        """When each user finished a practice since `since` (for "already practised today")."""
        ids = list(user_ids)
        found: dict[int, list[datetime]] = {}
        if not ids:
            return found
        rows = await self._db.execute(
            select(Practice.user_id, Practice.finished_at).where(
                Practice.user_id.in_(ids),
                Practice.status == PracticeStatus.FINISHED,
                Practice.finished_at >= since,
            )
        )
        for user_id, finished_at in rows.all():
            if finished_at is not None:  # always set on a finished practice
                found.setdefault(user_id, []).append(finished_at)
        return found


def _update() -> Update:
    # A conditional update leaves the rows this unit of work already read as they were seen.
    return update(Reminder).execution_options(synchronize_session=False)


def due_query(now: datetime, limit: int) -> Select[*tuple[Any, ...]]:
    """Enabled reminders due by `now`, oldest first: a range scan of ix_reminders_due
    (enabled, next_due_at) that stops after `limit` rows, however many are due."""
    return (
        select(
            Reminder.user_id,
            Reminder.chat_id,
            Reminder.hour,
            Reminder.minute,
            Reminder.days,
            User.timezone,
            Reminder.next_due_at,
            Reminder.claimed_for,
            Reminder.repeat_of,
            Reminder.failures,
            Plan.days,
        )
        .join(User, User.id == Reminder.user_id)
        .outerjoin(Plan, (Plan.user_id == Reminder.user_id) & Plan.stopped_at.is_(None))
        .where(Reminder.enabled == true(), Reminder.next_due_at <= now)
        .order_by(Reminder.next_due_at)
        .limit(limit)
        # PostgreSQL: rows another worker's tick is claiming right now are left to it, so
        # two workers' ticks split the due reminders instead of waiting on each other (the
        # conditional claim below is what makes a reminder go at most once either way).
        # SQLite renders no row locks; its writer holds the whole database instead.
        .with_for_update(of=Reminder, skip_locked=True)
    )


_CLAIM = (
    update(Reminder)
    .where(
        Reminder.user_id == bindparam("claim_user"),
        Reminder.enabled == true(),
        Reminder.next_due_at == bindparam("seen_due_at"),
        Reminder.repeat_of.is_not_distinct_from(bindparam("seen_repeat_of")),
    )
    .values(
        next_due_at=bindparam("new_due_at"),
        claimed_for=bindparam("new_claimed_for"),
        repeat_of=None,
        failures=bindparam("new_failures"),
    )
)


def _apply_claims(connection: Connection, claims: Sequence[Claim]) -> set[int]:
    won: set[int] = set()
    for claim in claims:
        result = connection.execute(
            _CLAIM,
            {
                "claim_user": claim.user_id,
                "seen_due_at": claim.seen_due_at,
                "seen_repeat_of": claim.seen_repeat_of,
                "new_due_at": claim.next_due_at,
                "new_claimed_for": claim.claimed_for,
                "new_failures": claim.failures,
            },
        )
        if result.rowcount == 1:
            won.add(claim.user_id)
    return won
