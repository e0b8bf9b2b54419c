"""Plans over weeks (/plan), the events the plan heard, and the messages it owes.

A plan's next-day check and weekly summary are claimed like reminders: a conditional
update moves the due time on (or clears it) before the message is sent, so it is sent at
most once, by whichever worker claims it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Update, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import (
    Goal,
    Plan,
    Practice,
    ProgrammeEvent,
    ProgrammeEventKind,
    StepEvent,
    User,
)
from bot.practice.machine import EventKind


@dataclass(frozen=True)
class DuePlan:
    """A plan with a message due: who, where, in which zone, and what it saw."""

    user_id: int
    chat_id: int
    timezone: str | None
    due_at: datetime
    practice_id: int | None = None


class PlanRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def get(self, user_id: int) -> Plan | None:
        return await self._db.get(Plan, user_id, populate_existing=True)

    async def active(self, user_id: int) -> Plan | None:
        plan = await self.get(user_id)
        return plan if plan is not None and plan.stopped_at is None else None

    async def start(
        self,
        user_id: int,
        chat_id: int,
        *,
        class_id: str,
        goal: Goal,
        days: str,
        now: datetime,
        started_on: str,
        summary_due_at: datetime | None,
    ) -> Plan:
        """A new plan, replacing a stopped one (its history stays in the practices, but
        the new plan counts from now)."""
        plan = await self.get(user_id)
        if plan is None:
            plan = Plan(user_id=user_id)
            self._db.add(plan)
        plan.chat_id, plan.class_id = chat_id, class_id
        plan.goal, plan.days = goal, days
        plan.started_at, plan.started_on, plan.stopped_at = now, started_on, None
        plan.next_day_due_at, plan.next_day_practice_id = None, None
        plan.summary_due_at, plan.quiet_weeks = summary_due_at, 0
        await self._db.flush()
        return plan

    async def change_goal(self, user_id: int, goal: Goal, days: str) -> bool:
        changed = await self._db.execute(
            _update()
            .where(Plan.user_id == user_id, Plan.stopped_at.is_(None))
            .values(goal=goal, days=days)
        )
        return changed_rows(changed) == 1

    async def stop(self, user_id: int, now: datetime) -> bool:
        stopped = await self._db.execute(
            _update()
            .where(Plan.user_id == user_id, Plan.stopped_at.is_(None))
            .values(stopped_at=now, next_day_due_at=None, summary_due_at=None)
        )
        return changed_rows(stopped) == 1

    async def add_event(
        self,
        user_id: int,
        kind: ProgrammeEventKind,
        at: datetime,
        *,
        practice_id: int | None = None,
        value: str | None = None,
    ) -> bool:
        """False when refused: a second next-day answer for the same practice."""
        event = ProgrammeEvent(
            user_id=user_id, kind=kind, at=at, practice_id=practice_id, value=value
        )
        try:
            # A savepoint: a refused duplicate leaves the rest of the unit of work intact.
            async with self._db.begin_nested():
                self._db.add(event)
                await self._db.flush()
        except IntegrityError:
            return False
        return True

    async def events_since(self, user_id: int, since: datetime) -> Sequence[ProgrammeEvent]:
        return (
            await self._db.scalars(
                select(ProgrammeEvent)
                .where(ProgrammeEvent.user_id == user_id, ProgrammeEvent.at >= since)
                .order_by(ProgrammeEvent.at, ProgrammeEvent.id)
            )
        ).all()

    async def next_day_answers(self, practice_ids: Collection[int]) -> dict[int, str]:
        if not practice_ids:
            return {}
        rows = await self._db.execute(
            select(ProgrammeEvent.practice_id, ProgrammeEvent.value).where(
                ProgrammeEvent.practice_id.in_(list(practice_ids)),
                ProgrammeEvent.kind == ProgrammeEventKind.NEXT_DAY,
            )
        )
        return {pid: value for pid, value in rows.all() if pid is not None and value}

    async def practices_since(self, user_id: int, since: datetime) -> Sequence[Practice]:
        """The user's practices begun since `since`, oldest first."""
        return (
            await self._db.scalars(
                select(Practice)
                .where(Practice.user_id == user_id, Practice.started_at >= since)
                .order_by(Practice.started_at, Practice.id)
            )
        ).all()

    async def steps_marked(
        self, practice_ids: Collection[int], kinds: Collection[EventKind]
    ) -> dict[int, list[tuple[str, EventKind]]]:
        """Each practice's (step id, kind) for the kinds asked, in order, each once."""
        found: dict[int, list[tuple[str, EventKind]]] = {}
        if not practice_ids:
            return found
        rows = await self._db.execute(
            select(StepEvent.practice_id, StepEvent.step_id, StepEvent.kind)
            .where(StepEvent.practice_id.in_(list(practice_ids)), StepEvent.kind.in_(kinds))
            .order_by(StepEvent.id)
        )
        for practice_id, step_id, kind in rows.all():
            marks = found.setdefault(practice_id, [])
            if (step_id, kind) not in marks:
                marks.append((step_id, EventKind(kind)))
        return found

    # -- what the plan owes -----------------------------------------------------------------

    async def ask_next_day(self, user_id: int, practice_id: int, due_at: datetime) -> bool:
        """Ask about this practice the next day (a later practice's question replaces an
        earlier one's: one next-day check at a time)."""
        changed = await self._db.execute(
            _update()
            .where(Plan.user_id == user_id, Plan.stopped_at.is_(None))
            .values(next_day_due_at=due_at, next_day_practice_id=practice_id)
        )
        return changed_rows(changed) == 1

    async def due_next_days(self, now: datetime, limit: int) -> list[DuePlan]:
        rows = await self._db.execute(
            select(
                Plan.user_id,
                Plan.chat_id,
                User.timezone,
                Plan.next_day_due_at,
                Plan.next_day_practice_id,
            )
            .join(User, User.id == Plan.user_id)
            .where(Plan.next_day_due_at <= now, Plan.stopped_at.is_(None))
            .order_by(Plan.next_day_due_at)
            .limit(limit)
            .with_for_update(of=Plan, skip_locked=True)
        )
        return [
            DuePlan(user_id, chat_id, timezone, due_at, practice_id)
            for user_id, chat_id, timezone, due_at, practice_id in rows.all()
            if due_at is not None
        ]

    async def claim_next_day(self, user_id: int, seen_due_at: datetime) -> bool:
        """Taken by this caller to send (or to drop): at most once."""
        claimed = await self._db.execute(
            _update()
            .where(Plan.user_id == user_id, Plan.next_day_due_at == seen_due_at)
            .values(next_day_due_at=None)
        )
        return changed_rows(claimed) == 1

    async def due_summaries(self, now: datetime, limit: int) -> list[DuePlan]:
        rows = await self._db.execute(
            select(Plan.user_id, Plan.chat_id, User.timezone, Plan.summary_due_at)
            .join(User, User.id == Plan.user_id)
            .where(Plan.summary_due_at <= now, Plan.stopped_at.is_(None))
            .order_by(Plan.summary_due_at)
            .limit(limit)
            .with_for_update(of=Plan, skip_locked=True)
        )
        return [
            DuePlan(user_id, chat_id, timezone, due_at)
            for user_id, chat_id, timezone, due_at in rows.all()
            if due_at is not None
        ]

    async def claim_summary(
        self, user_id: int, seen_due_at: datetime, next_due_at: datetime, quiet_weeks: int
    ) -> bool:
        claimed = await self._db.execute(
            _update()
            .where(Plan.user_id == user_id, Plan.summary_due_at == seen_due_at)
            .values(summary_due_at=next_due_at, quiet_weeks=quiet_weeks)
        )
        return changed_rows(claimed) == 1

    async def move_summary(self, user_id: int, due_at: datetime | None) -> None:
        await self._db.execute(
            _update()
            .where(Plan.user_id == user_id, Plan.stopped_at.is_(None))
            .values(summary_due_at=due_at)
        )


def _update() -> Update:
    return update(Plan).execution_options(synchronize_session=False)
